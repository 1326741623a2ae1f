#include "command_table.h"

#include <string>
#include <string_view>

#include "commands.h"

namespace r1::cli {
namespace {

// Options of every command that runs a model.
std::vector<OptionSpec> SessionOptions() {
  return {
      {"-t", "--threads", "N", "all cores", "worker threads (up to 64, or 4 per core if more)"},
      {"--ctx", nullptr, "N", "the model's training context, at most 32768 (4096 for a model without a chat template)",
       "context length in tokens"},
      {"--cache-type", nullptr, "TYPE", "f16",
       "how the KV cache stores keys and values: f16, q8_0 (half of f16; head sizes multiple of 32) or f32"},
      {"--repack", nullptr, nullptr, "off: weights used in place from the file",
       "repack the weights once at load for faster prompts (AVX-512 VNNI; ~1.25 bytes per weight more memory)"},
      {"--interleave", nullptr, nullptr, "off: weights used in place from the file",
       "interleave the Q4_K/Q6_K matrices 16 rows at a time at load for faster decoding, most with several "
       "conversations at once (AVX-512 VNNI; a copy about as large as those tensors)"},
      {"--batch-invariant", nullptr, nullptr, "off",
       "prompts computed as decode steps compute them: the same logits however tokens are batched (slower prompts)"},
  };
}

// Options of the commands that run one session: layers on a GPU.
std::vector<OptionSpec> GpuOptions() {
  return {
      {"--gpu-layers", nullptr, "N", "0: every layer on the CPU",
       "layers on a GPU (a build with Vulkan): -1 all, N the first N"},
      {"--gpu-device", nullptr, "I", "-1: the best GPU", "which GPU, an index `r1 gpus` lists"},
  };
}

// Options of `run` and `chat`: sampling, reasoning and the chat template.
std::vector<OptionSpec> GenerationOptions() {
  return {
      {"-n", nullptr, "N", "until the answer ends or the context is full", "at most N new tokens"},
      {"--seed", nullptr, "S", "random, printed in the summary line", "sampling seed; the same seed repeats a run"},
      {"--temp", nullptr, "T", "0.6", "temperature, 0 to 100; 0 is greedy"},
      {"--top-k", nullptr, "K", "0, off", "keep the K most likely tokens"},
      {"--top-p", nullptr, "P", "0.95", "keep the most likely tokens whose probabilities reach P (0 to 1; 1 = off)"},
      {"--min-p", nullptr, "P", "0, off", "drop tokens less likely than P times the most likely (0 to 1)"},
      {"--think-budget", nullptr, "N", "no limit", "at most N reasoning tokens, then the answer"},
      {"--hide-thinking", nullptr, nullptr, nullptr, "print only the answer, not the reasoning"},
      {"--system", nullptr, "TEXT", nullptr, "a system prompt"},
      {"--template", nullptr, "NAME", "the model's own",
       "chat template: deepseek-r1, deepseek-r1-distill, llama3, chatml or qwen2"},
      {"--template-file", nullptr, "FILE", nullptr, "a Jinja chat template to render instead of the model's"},
      {"--no-chat", nullptr, nullptr, nullptr, "raw completion: the text as given, no chat template"},
      {"--grammar", nullptr, "GBNF", nullptr, "the answer must match this grammar (llama.cpp's GBNF)"},
      {"--grammar-file", nullptr, "FILE", nullptr, "the answer must match the GBNF grammar in FILE"},
      {"--json-schema", nullptr, "JSON", nullptr, "the answer must be JSON valid against this JSON Schema"},
      {"--json-schema-file", nullptr, "FILE", nullptr, "the answer must be JSON valid against the schema in FILE"},
      {"--grammar-from-start", nullptr, nullptr, "after </think>", "the grammar governs the thought too"},
      {"--draft", nullptr, "MODEL", nullptr,
       "speculative decoding: a smaller model with the same tokenizer guesses ahead (the output does not change)"},
      {"--draft-nextn", nullptr, nullptr, nullptr,
       "speculative decoding with the model's own multi-token-prediction (nextn) block, when its file has one"},
      {"--draft-max", nullptr, "N", "8", "at most N guesses per step (1 to 16), adapted to how many are kept"},
  };
}

// Options of `serve`: the session options (--ctx is per slot), the template and sampling
// defaults, and the server's own.
std::vector<OptionSpec> ServeOptions() {
  std::vector<OptionSpec> options = {
      {"--host", nullptr, "ADDR", "127.0.0.1", "address to listen on (0.0.0.0: every interface)"},
      {"--port", nullptr, "N", "8080", "port to listen on (0: any free port, printed at start)"},
      {"--parallel", nullptr, "N", "1", "slots: requests generated at once, each with its own KV cache"},
      {"--ctx-per-slot", "--ctx", "N", "the model's training context, at most 32768", "context length of each slot"},
      {"--queue", nullptr, "N", "4 x --parallel", "requests that may wait for a slot; more get 429"},
      {"--max-tokens-cap", nullptr, "N", "none: the slot's context", "at most N new tokens per request"},
      {"--timeout", nullptr, "S", "600", "seconds a request may take, waiting in the queue included"},
      {"--read-timeout", nullptr, "S", "15", "seconds one read or write on a connection may wait"},
      {"--api-key", nullptr, "KEY", "$R1_API_KEY, else none", "require \"Authorization: Bearer KEY\" (not on /health)"},
      {"--alias", nullptr, "NAME", "the file name without .gguf", "the model id /v1/models shows"},
      {"--max-body", nullptr, "BYTES", "8388608", "largest request body; larger ones get 413"},
      {"--max-messages", nullptr, "N", "1024", "most messages in one chat request"},
  };
  for (const OptionSpec& o : SessionOptions()) {
    if (std::string_view(o.name) != "--ctx" && std::string_view(o.name) != "--interleave") options.push_back(o);
  }
  // The slots decode together, which the interleaved weights speed up most: on unless declined.
  options.push_back({"--no-interleave", nullptr, nullptr, "interleaved (AVX-512 VNNI)",
                     "keep the weights as they lie in the file: no interleaved copy of the Q4_K/Q6_K matrices"});
  for (const OptionSpec& o : GenerationOptions()) {
    for (const char* name : {"--temp", "--top-k", "--top-p", "--min-p", "--think-budget", "--template", "--template-file",
                             "--draft", "--draft-nextn", "--draft-max"}) {
      if (std::string_view(o.name) == name) options.push_back(o);
    }
  }
  return options;
}

std::vector<OptionSpec> Join(std::vector<OptionSpec> a, const std::vector<OptionSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<CommandSpec> MakeCommands() {
  return {
      {"info", RunInfo, "MODEL", "architecture, hyper-parameters, tensors by type, file and weight sizes", {},
       "r1 info model.gguf", nullptr},
      {"gpus", RunGpus, "", "the GPUs --gpu-device may name: index, kind, memory, name (tab-separated)", {},
       "r1 gpus", nullptr},
      {"run", RunRun, "MODEL (-p PROMPT | -f FILE) [options]",
       "answer one prompt: the reasoning, then the answer, then a summary line on stderr",
       Join(Join({{"-p", "--prompt", "TEXT", nullptr, "the prompt; '-' reads it from stdin"},
                  {"-f", "--file", "FILE", nullptr, "read the prompt from FILE ('-': stdin)"},
                  {"--json", nullptr, nullptr, nullptr,
                   "one JSON object per line: {\"type\":\"reasoning\"|\"content\",\"text\":…}, then "
                   "{\"type\":\"done\",…} with the usage, stop reason and seed"}},
                 GenerationOptions()),
            Join(SessionOptions(), GpuOptions())),
       "r1 run model.gguf -p \"Why is the sky blue?\" -n 256",
       "On a terminal the reasoning is dimmed (not with NO_COLOR set or TERM=dumb); otherwise it is\n"
       "printed between a line \"<think>\" and a line \"</think>\", before the answer. A model with a\n"
       "chat template gets the prompt as a user message; one without continues the text.\n"
       "Ctrl-C stops the answer (exit status 130). A prompt read from a file loses its trailing\n"
       "newlines."},
      {"chat", RunChat, "MODEL [options]", "an interactive multi-turn chat; /help lists its commands",
       Join(GenerationOptions(), Join(SessionOptions(), GpuOptions())), "r1 chat model.gguf --system \"Answer briefly.\"",
       "A model without a chat template (or with --no-chat) continues one text, each input on a new\n"
       "line. Ctrl-C stops the current answer; Ctrl-D or /quit ends the chat."},
      {"generate", RunGenerate, "MODEL (--tokens IDS | -p TEXT | -f FILE) [options]",
       "greedy decoding; the last line of stdout is the generated ids",
       Join({{"--tokens", nullptr, "IDS", nullptr, "the prompt as token ids: 1,2,3"},
             {"-p", "--prompt", "TEXT", nullptr, "the prompt as text; '-' reads it from stdin"},
             {"-f", "--file", "FILE", nullptr, "read the prompt from FILE ('-': stdin)"},
             {"-n", nullptr, "N", "32", "new tokens"}},
            Join(SessionOptions(), GpuOptions())),
       "r1 generate model.gguf -p \"Once upon a time\" -n 16", nullptr},
      {"logits", RunLogits, "MODEL --tokens IDS --out FILE [options]",
       "every position's logits from one batched pass, raw little-endian float32 [n_tokens][n_vocab]",
       Join({{"--tokens", nullptr, "IDS", nullptr, "token ids: 1,2,3"},
             {"--out", nullptr, "FILE", nullptr, "where to write the logits"}},
            Join(SessionOptions(), GpuOptions())),
       "r1 logits model.gguf --tokens 1,2,3 --out logits.f32", nullptr},
      {"tokenize", RunTokenize, "MODEL (TEXT | --file PATH) [options]",
       "token ids of a text (the last line of stdout)",
       {{"--file", nullptr, "PATH", nullptr, "read the text from PATH ('-': stdin), byte for byte"},
        {"--no-bos", nullptr, nullptr, nullptr, "do not add BOS even where the model's metadata asks for it"},
        {"--special", nullptr, nullptr, nullptr, "recognise special tokens written in the text"},
        {"--pieces", nullptr, nullptr, nullptr, "also print each id with its piece"}},
       "r1 tokenize model.gguf \"Hello world\"", "Use -- before a text that starts with '-'."},
      {"detokenize", RunDetokenize, "MODEL IDS", "the text of token ids (no newline added)", {},
       "r1 detokenize model.gguf 1,2,3", nullptr},
      {"template", RunTemplate, "MODEL --messages FILE [options]", "the prompt the chat template renders",
       {{"--messages", nullptr, "FILE", nullptr,
         "[{\"role\": \"system\"|\"user\"|\"assistant\", \"content\": \"…\"}] as JSON ('-': stdin)"},
        {"--no-generation-prompt", nullptr, nullptr, nullptr, "do not end with the start of an assistant turn"},
        {"--template", nullptr, "NAME", "the model's own",
         "deepseek-r1, deepseek-r1-distill, llama3, chatml or qwen2"},
        {"--template-file", nullptr, "FILE", nullptr, "a Jinja chat template to render instead of the model's"}},
       "r1 template model.gguf --messages chat.json", nullptr},
      {"bench", RunBench, "MODEL [options]",
       "prefill (pp) and decode (tg) speed as llama-bench measures them, load time, peak memory",
       {{"-p", nullptr, "LIST", "512", "prompt sizes, comma-separated (0 skips)"},
        {"-n", nullptr, "LIST", "128", "decode lengths, comma-separated (0 skips)"},
        {"-d", nullptr, "LIST", "0", "tokens already in the cache before each test, comma-separated"},
        {"-r", nullptr, "N", "5", "repetitions of each test"},
        {"-t", "--threads", "N", "all cores", "worker threads (up to 64, or 4 per core if more)"},
        {"--cache-type", nullptr, "TYPE", "f16", "KV cache storage: f16, q8_0 or f32"},
        {"--repack", nullptr, nullptr, "off", "repack the weights once at load for the prompt GEMM"},
        {"--interleave", nullptr, nullptr, "off", "interleave the Q4_K/Q6_K matrices at load for the decode kernels"},
        {"--batch-invariant", nullptr, nullptr, "off", "prompts through the decode kernels (batch-invariant logits)"},
        {"--json", nullptr, nullptr, nullptr, "one JSON object per result line"},
        {"--membw", nullptr, nullptr, nullptr, "measure read bandwidth and show the decode ceiling"},
        {"--draft", nullptr, "MODEL", nullptr,
         "after each tgN, greedy generations of N tokens alone (gN) and with this draft model (gN+draft)"},
        {"--draft-nextn", nullptr, nullptr, nullptr, "the same with the model's own nextn block as the draft"},
        {"--draft-max", nullptr, "N", "8", "at most N guesses per step (1 to 16)"}},
       "r1 bench model.gguf -p 512 -n 128 -d 0,4096 -r 3",
       "The context is sized from -p, -n and -d (there is no --ctx)."},
      {"quantize", RunQuantize, "IN.gguf OUT.gguf TYPE [options]",
       "F32/F16/BF16 weights to TYPE: a plain type or a mixture such as Q4_K_M",
       {{"-t", "--threads", "N", "all cores", "worker threads (up to 64, or 4 per core if more)"},
        {"-v", nullptr, nullptr, nullptr, "print each tensor's type"},
        {"--force", nullptr, nullptr, nullptr, "replace OUT.gguf when it exists (never IN.gguf)"},
        {"--allow-requantize", nullptr, nullptr, nullptr,
         "accept quantized input: dequantize it, then quantize to TYPE (loses accuracy)"},
        {"--imatrix", nullptr, "FILE", nullptr,
         "an importance matrix from r1 imatrix or llama-imatrix (GGUF or legacy .dat); used by the i-quants, "
         "required by IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S (and the mixtures that use them)"},
        {"--tensor-type", nullptr, "PATTERN=TYPE", nullptr,
         "matrices whose name matches PATTERN (a regular expression) get TYPE; repeatable, the first match wins"}},
       "r1 quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M", nullptr},
      {"split", RunSplit, "IN.gguf OUT-PREFIX (--max-tensors N | --max-size SIZE) [options]",
       "write a model as shards OUT-PREFIX-00001-of-0000N.gguf (gguf-split's layout); r1 opens any shard",
       {{"--max-tensors", nullptr, "N", nullptr, "at most N tensors per shard"},
        {"--max-size", nullptr, "SIZE", nullptr, "at most SIZE bytes of tensor data per shard (K, M, G suffixes)"},
        {"--force", nullptr, nullptr, nullptr, "replace existing shards (never the input)"}},
       "r1 split model.gguf model --max-size 2G", nullptr},
      {"mkmodel", RunMkModel, "--preset NAME OUT.gguf [options]",
       "random weights and a synthetic vocabulary in the exact shapes of a real model, for benchmarks",
       {{"--preset", nullptr, "NAME", nullptr, "the model whose shapes to copy"},
        {"--type", nullptr, "TYPE", "F16", "weight type or mixture, as quantize takes"},
        {"--tied", nullptr, nullptr, nullptr, "no output matrix: share the token embeddings"},
        {"--layers", nullptr, "N", "the preset's", "fewer layers (1 to 1000) for smaller files"},
        {"--seed", nullptr, "S", "1", "seed of the random weights"},
        {"--vocab", nullptr, "N", "the preset's", "vocabulary size (512 to 4194304), e.g. a draft's made to match its target"},
        {"--successor", nullptr, "SEED", nullptr,
         "the model predicts, after each token, the one a permutation with this seed maps it to"},
        {"--successor-change", nullptr, "F", "0", "with --successor: share of tokens (0 to 1) whose successors differ"},
        {"-t", "--threads", "N", "all cores", "worker threads (up to 64, or 4 per core if more)"}},
       "r1 mkmodel --preset r1-distill-qwen-1.5b --type Q4_K_M q15.gguf",
       "--successor makes models that draft for each other with a known share of guesses kept:\n"
       "made with one SEED (and one --vocab), any two agree on every token but the share F of\n"
       "--successor-change; the layers are scaled down so the last token decides the next. The\n"
       "shapes, and so the speed, are the preset's. For speculative decoding benchmarks:\n"
       "  r1 mkmodel --preset r1-distill-qwen-1.5b --vocab 152064 --successor 7 d.gguf\n"
       "  r1 mkmodel --preset r1-distill-qwen-7b --successor 7 --successor-change 0.3 t.gguf"},
      {"perplexity", RunPerplexity, "MODEL -f TEXT [options]",
       "perplexity over chunks of a text, and the KL divergence from a base model's log-probabilities",
       {{"-f", "--file", "FILE", nullptr, "the text ('-': stdin)"},
        {"--ctx", nullptr, "N", "512", "tokens per chunk (the context of each evaluation)"},
        {"--chunks", nullptr, "N", "every whole chunk", "score only the first N chunks"},
        {"--kl-divergence-base", nullptr, "FILE", nullptr,
         "alone: save this model's log-probabilities to FILE; with --kl-divergence: compare with them"},
        {"--kl-divergence", nullptr, nullptr, nullptr,
         "report the KL divergence from the --kl-divergence-base file (its tokens are scored; no -f)"},
        {"-t", "--threads", "N", "all cores", "worker threads (up to 64, or 4 per core if more)"},
        {"--cache-type", nullptr, "TYPE", "f16", "how the KV cache stores keys and values: f16, q8_0 or f32"},
        {"--repack", nullptr, nullptr, "off", "repack the weights once at load for faster prompts"}},
       "r1 perplexity model.gguf -f wiki.test.raw --chunks 20",
       "As llama-perplexity: BOS starts each chunk, and the second half of each chunk is scored.\n"
       "Make a base file with the F16/BF16 model, then run the quantized model with\n"
       "--kl-divergence-base FILE --kl-divergence; files made by llama-perplexity work too."},
      {"imatrix", RunImatrix, "MODEL -f TEXT -o FILE [options]",
       "an importance matrix for quantize --imatrix: squared activations over a calibration text",
       {{"-f", "--file", "FILE", nullptr, "the calibration text"},
        {"-o", "--output", "FILE", nullptr, "where to write the matrix (llama-imatrix's GGUF format)"},
        {"--ctx", nullptr, "N", "512", "tokens per chunk (the context of each evaluation)"},
        {"--chunks", nullptr, "N", "every whole chunk", "use only the first N chunks"},
        {"--process-output", nullptr, nullptr, "off", "also collect the output matrix"},
        {"--force", nullptr, nullptr, nullptr, "replace FILE when it exists (never the model or the text)"},
        {"-t", "--threads", "N", "all cores", "worker threads (up to 64, or 4 per core if more)"},
        {"--repack", nullptr, nullptr, "off", "repack the weights once at load for faster prompts"}},
       "r1 imatrix model-f16.gguf -f calibration.txt -o imatrix.gguf",
       "As llama-imatrix: BOS starts each chunk; files it writes are read by r1 quantize --imatrix\n"
       "and by llama-quantize."},
#ifdef R1_CLI_HAVE_SERVE
      {"serve", RunServe, "MODEL [options]",
       "an OpenAI-compatible HTTP server: /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics",
       ServeOptions(), "r1 serve model.gguf --port 8080 --parallel 2",
       "The thinking of an R1 answer comes as reasoning_content, the answer as content; a request's\n"
       "\"reasoning_budget\" caps the thinking. Sampling flags set defaults that requests override.\n"
       "The threads (-t) are split among the slots. Ctrl-C or SIGTERM stops the server.\n"
       "doc/serving.md has the API, deployment (systemd, containers, Kubernetes) and sizing."},
#endif
  };
}

void PrintOption(const OptionSpec& o, FILE* out) {
  std::string flags = o.name;
  if (o.alias != nullptr) flags += std::string(", ") + o.alias;
  if (o.value != nullptr) flags += std::string(" ") + o.value;
  std::fprintf(out, "  %-22s %s", flags.c_str(), o.help);
  if (o.default_text != nullptr) std::fprintf(out, " (default: %s)", o.default_text);
  std::fputc('\n', out);
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = MakeCommands();
  return commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

const OptionSpec* FindOption(const CommandSpec& command, std::string_view flag) {
  for (const OptionSpec& o : command.options) {
    if (flag == o.name || (o.alias != nullptr && flag == o.alias)) return &o;
  }
  return nullptr;
}

bool AsksForHelp(const CommandSpec& command, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "-h" || arg == "--help") return true;
    const OptionSpec* option = FindOption(command, arg);
    if (option != nullptr && option->value != nullptr) ++i;  // skip the value
  }
  return false;
}

void PrintCommandHelp(const CommandSpec& c, FILE* out) {
  std::fprintf(out, "usage: r1 %s %s\n\n%s.\n", c.name, c.synopsis, c.summary);
  if (!c.options.empty()) {
    std::fprintf(out, "\noptions:\n");
    for (const OptionSpec& o : c.options) PrintOption(o, out);
  }
  std::fprintf(out, "  %-22s %s\n", "-h, --help", "show this help");
  if (c.notes != nullptr) std::fprintf(out, "\n%s\n", c.notes);
  std::fprintf(out, "\nexample:\n  %s\n", c.example);
}

void PrintMainHelp(FILE* out) {
  std::fprintf(out, "usage: r1 COMMAND [ARGS]   (r1 COMMAND --help for a command's options)\n\ncommands:\n");
  for (const CommandSpec& c : Commands()) std::fprintf(out, "  %-11s %s\n", c.name, c.summary);
  std::fprintf(out, "\noptions of logits, generate, run and chat:\n");
  for (const OptionSpec& o : SessionOptions()) PrintOption(o, out);
  std::fprintf(out,
               "\n  -h, --help             show help (of a command: r1 COMMAND --help)\n"
               "  --version              print the version\n"
               "\nErrors go to stderr; exit status 1 on failure, 2 on a usage error, 130 when interrupted.\n"
               "\nexample:\n  r1 run model.gguf -p \"Once upon a time\" -n 100\n");
}

}  // namespace r1::cli
