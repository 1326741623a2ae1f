// r1/session.h — one conversation's state on a Model: its KV cache, buffers and threads.
//
// A Session is thread-compatible: use it from one thread at a time. Many Sessions may share
// one Model concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "r1/chat.h"
#include "r1/model.h"
#include "r1/sampler.h"
#include "r1/status.h"

namespace r1 {

class Generation;       // r1/generation.h
class ProductObserver;  // ops/product_observer.h

// How the KV cache stores keys and values. F16 halves F32's memory and bandwidth with no
// measurable loss; Q8_0 halves F16 again (blocks of 32 values with one f16 scale; needs head
// sizes that are multiples of 32); F32 is the exactness reference (attention then computes
// softmax over whole score rows, as the reference does, instead of in tiles).
enum class CacheType { kF16 = 0, kQ8_0 = 1, kF32 = 2 };
const char* CacheTypeName(CacheType type);                     // "f16", "q8_0", "f32"
std::optional<CacheType> ParseCacheType(std::string_view name);  // the names above

struct SessionOptions {
  // Context length; 0 = the model's training context, capped at 32,768 for a model with a chat
  // template (an R1 answer reasons for thousands of tokens) and at 4,096 for one without. The
  // cache is reserved, not touched: resident memory grows with the positions used.
  int64_t n_ctx = 0;
  // 0 = the model's default (LoadOptions::n_threads). Create refuses (InvalidArgument)
  // negative counts and counts above max(64, 4 x hardware threads).
  int n_threads = 0;
  int64_t n_batch = 512;  // prompt tokens per forward pass
  CacheType cache_type = CacheType::kF16;
  // Prompt batches compute every weight product with the decode kernels, so a position's logits
  // are the same bits however its tokens were batched (a prompt in one pass, token by token, a
  // restored prefix plus the rest). By default batches use faster engines whose sums round
  // differently in the last bits, which now and then decides a near-tie the other way. Costs
  // prompt speed (doc/performance.md), not decode speed.
  bool batch_invariant = false;
  // Layers run on a GPU (Vulkan; a build with -Dvulkan=enabled): 0 none, -1 all, n the first n
  // (the rest on the CPU). Every architecture (llama, qwen2, qwen3, deepseek2) and weight type
  // but the i-quants. The GPU layers keep their keys and values on the device in f32 holding the
  // values cache_type rounds to, and take a prompt's tokens a few at a time; each session uploads its own copy
  // of their weights. Create fails with the reason when this build, the machine or the model
  // cannot: Unimplemented (no Vulkan in this build, an architecture or weight type without GPU
  // kernels), Unavailable (no Vulkan driver), NotFound (no device), InvalidArgument (a count
  // beyond the model's layers), ResourceExhausted (out of device memory).
  int gpu_layers = 0;
  int gpu_device = -1;  // which GPU, an index into ListGpuDevices(); -1 the best one
};

// A GPU a session's layers may run on.
struct GpuDevice {
  std::string name;
  std::string kind;           // "discrete", "integrated", "virtual", "cpu" (a software device), "other"
  uint64_t memory_bytes = 0;  // its largest device-local memory heap
};

// The GPUs SessionOptions::gpu_device indexes, in the Vulkan driver's order: empty in a build
// without a GPU backend or on a machine without a Vulkan driver.
StatusOr<std::vector<GpuDevice>> ListGpuDevices();

// Which part of an R1 answer a piece of text belongs to: the chain of thought inside
// <think>…</think>, or the answer itself.
enum class Channel { kReasoning = 0, kContent = 1 };

// One streamed piece: complete UTF-8 text (never part of a character) of one channel, and
// the token that completed it.
struct StreamPiece {
  Channel channel;
  std::string_view text;
  int32_t token;
};

// Called for each piece, on the generating thread; return false to stop the generation.
using StreamCallback = std::function<bool(const StreamPiece&)>;

enum class StopReason {
  kEndOfGeneration = 0,  // the model ended its turn (EOS, <|im_end|>, …)
  kMaxTokens = 1,        // max_new_tokens reached
  kStopString = 2,       // a caller-given stop string appeared (it is not emitted)
  kCancelled = 3,        // the callback returned false, or Cancel() was called
  kContextFull = 4,      // no room left in the context
  kGrammarDeadEnd = 5,   // the grammar allows no token of the vocabulary here
};
const char* StopReasonName(StopReason reason);

// Whether and how the model calls tools: kAuto lets it choose; kNone hides the tools;
// kRequired makes it call one (its arguments shaped by the function's schema); kFunction
// makes it call tool_choice_function.
enum class ToolChoice { kAuto, kNone, kRequired, kFunction };

struct GenerateOptions {
  int64_t max_new_tokens = -1;  // < 0 (default): until the context is full
  SamplerConfig sampler;          // DeepSeek's defaults for R1 (temperature 0.6, top-p 0.95)
  std::vector<std::string> stop;  // stop strings, matched across token boundaries
  // At most this many reasoning tokens; then r1 closes the thought itself ("</think>" and a
  // blank line, as the model would) and the answer follows. < 0: no limit.
  int64_t reasoning_budget = -1;
  bool ignore_eos = false;        // keep going past end-of-generation tokens
  // Chat: the template to use instead of the one the model's metadata names.
  std::optional<ChatTemplate> chat_template;
  // Chat: when the conversation does not fit in the context, drop its oldest turns (after
  // any system prompt) instead of failing.
  bool drop_oldest_turns = false;
  // Chat: Jinja source of a chat template to render instead of the model's (FormatChatJinja,
  // with the tokenizer's BOS and EOS texts); when non-empty it takes precedence over
  // chat_template.
  std::string chat_template_source;
  // Structured output: a GBNF grammar (r1/grammar.h) the answer must match, or a JSON Schema
  // it must validate against (not both). With a reasoning model the thought stays free: the
  // grammar applies from the token after "</think>" (r1 writes the blank line that follows
  // it), and the reasoning budget still holds. grammar_from_first_token applies it to all of
  // the output instead. The generation ends when the grammar is complete and allows nothing
  // more, or when the model ends its turn on a complete match.
  std::string grammar;
  std::string json_schema;
  bool grammar_from_first_token = false;
  // Chat: functions the model may call (doc/structured-output.md, "Tool calls"). The prompt
  // describes them as the template does (or in a system section r1 writes when the template
  // has no place for them); calls in the answer come back in GenerateResult::tool_calls.
  std::vector<ToolDefinition> tools;
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_choice_function;  // the function kFunction calls
};

// Speculative decoding (Session::SetDraft, SetNextnDraft): a smaller model with the same
// tokenizer, or the model's own multi-token-prediction block, guesses the next tokens; the
// target checks the guesses in one pass and keeps those it would have chosen itself. The
// output is the target's own, token for token, whatever the sampler and seed.
inline constexpr int kMaxDraftTokens = 16;
struct DraftOptions {
  int max_draft_tokens = 8;  // guesses per round, 1 to kMaxDraftTokens
  // Start at max_draft_tokens, grow by one after a round accepted whole, fall to one more than
  // the accepted count after a rejection, and rest 1, 2, 4 … 32 tokens after rounds that keep
  // nothing (a draft that disagrees costs little); false: always max_draft_tokens.
  bool adaptive = true;
};

struct GenerateResult {
  std::string reasoning;           // text of the reasoning channel
  std::string content;             // text of the answer
  std::vector<ToolCall> tool_calls;  // the functions the answer called (their text is not in content)
  std::vector<int32_t> tokens;     // every generated token, markers included
  int64_t n_prompt_tokens = 0;     // tokens of the prompt
  int64_t n_prefilled_tokens = 0;  // of those, how many had to be computed (the rest were cached)
  int64_t n_generated_tokens = 0;
  int64_t n_reasoning_tokens = 0;
  StopReason stop_reason = StopReason::kEndOfGeneration;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  int64_t n_drafted_tokens = 0;   // speculative decoding: guesses the draft made
  int64_t n_accepted_tokens = 0;  // of those, how many the target kept
  double acceptance_rate() const { return n_drafted_tokens > 0 ? double(n_accepted_tokens) / n_drafted_tokens : 0; }
  double prefill_tokens_per_second() const { return prefill_seconds > 0 ? n_prefilled_tokens / prefill_seconds : 0; }
  double decode_tokens_per_second() const { return decode_seconds > 0 ? n_generated_tokens / decode_seconds : 0; }
};

class Session {
 public:
  static StatusOr<std::unique_ptr<Session>> Create(std::shared_ptr<const Model> model,
                                                   const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Appends `tokens` to the context and runs the model over them (in batches of n_batch).
  // Afterwards Logits() holds the last token's logits, or every new token's when all_logits.
  // Errors (nothing is appended): empty input, an id outside [0, n_vocab), or not enough
  // room left in the context.
  Status Evaluate(absl::Span<const int32_t> tokens, bool all_logits = false);

  // One decode step of several sessions on one model in one forward pass: sessions[i] appends
  // tokens[i], after which its Logits() hold that token's logits, bit for bit as if it had
  // evaluated the token alone; the weights are read once for all of them, so a step of n
  // conversations costs far less than n steps. Runs on the first session's threads and
  // buffers (at most its n_batch sessions). Errors (nothing changes): sizes that differ, a
  // session twice or null, sessions on different models or with different cache types or
  // batch invariance, a full context, or an id outside the vocabulary.
  static Status EvaluateBatch(absl::Span<Session* const> sessions, absl::Span<const int32_t> tokens);

  // Logits of the last Evaluate: row i of its returned rows ([n_vocab] floats); with the
  // default, the last row. Valid until the next call that changes the session.
  absl::Span<const float> Logits(int64_t row = -1) const;
  int64_t n_logit_rows() const;

  int64_t n_past() const;   // positions filled in the context
  int64_t n_ctx() const;
  int n_threads() const;
  std::string_view isa() const;  // the kernel instruction set in use ("avx512", "scalar", …)
  CacheType cache_type() const;
  bool batch_invariant() const;
  // Shows every weight product's input of later evaluations to `observer` (null: none); for
  // tools such as the importance matrix. The observer must outlive its use. Products of layers
  // on a GPU (SessionOptions::gpu_layers) are not shown.
  void SetProductObserver(ProductObserver* observer);
  uint64_t kv_bytes_per_token() const;  // cache memory each position takes, all layers
  const Model& model() const;

  // Forgets positions from n on (0 clears the context).
  Status Truncate(int64_t n);
  // Keeps the longest prefix the context shares with `tokens` (non-empty), short of its last
  // token, so that evaluating the rest gives fresh logits; returns the count kept.
  StatusOr<int64_t> KeepSharedPrefix(absl::Span<const int32_t> tokens);
  // Speculative decoding for Generate, GenerateFromTokens and Chat: `draft` (same tokenizer;
  // InvalidArgument otherwise) gets a session of this one's context, threads and cache type.
  // Replaces any draft set before; ClearDraft removes it.
  Status SetDraft(std::shared_ptr<const Model> draft, const DraftOptions& options = {});
  // The same with the model's own multi-token-prediction (MTP, "nextn") block as the draft
  // (DeepSeek-V3/R1 files that carry one): it guesses from this session's last hidden states,
  // so it needs no second model and follows the target closely. FailedPrecondition, saying
  // why, when the file carries no such block or one r1 cannot use. The block reads only the
  // positions evaluated after this call: its guesses start from what follows.
  Status SetNextnDraft(const DraftOptions& options = {});
  void ClearDraft();
  bool has_draft() const;
  // One speculative round for `g` (started on this session and prefilled), for callers that
  // step generations themselves (a server's batch loop): evaluates `next`, g's latest choice,
  // together with the draft's guesses after it in one pass, and lets g choose from each row for
  // as long as its choice is the guess. Returns g's next choice, still to be evaluated; nullopt
  // once g has ended. FailedPrecondition without a draft.
  StatusOr<std::optional<int32_t>> EvaluateWithDraft(Generation& g, int32_t next);
  // Clears the context.
  void Reset();
  // The tokens in the context, in order.
  absl::Span<const int32_t> tokens() const;

  // Generation. Each call continues the session's context: the prompt is compared with the
  // tokens already cached and only what differs is computed (the longest common prefix is
  // kept). Needs the model's tokenizer, except GenerateFromTokens.
  //   Chat: messages formatted with the model's chat template (or options.chat_template).
  //   Generate: a raw prompt; special tokens written in it are recognised, BOS added per the
  //   model's metadata.
  StatusOr<GenerateResult> Chat(absl::Span<const ChatMessage> messages, const GenerateOptions& options = {},
                                const StreamCallback& on_piece = nullptr);
  StatusOr<GenerateResult> Generate(std::string_view prompt, const GenerateOptions& options = {},
                                    const StreamCallback& on_piece = nullptr);
  StatusOr<GenerateResult> GenerateFromTokens(absl::Span<const int32_t> prompt, const GenerateOptions& options = {},
                                              const StreamCallback& on_piece = nullptr);

  // Asks a running generation to stop at the next token; callable from any thread. The
  // request is cleared when the next generation starts.
  void Cancel();

  // Writes the context (tokens and KV cache) to `path`, with a header naming the model, and
  // reads it back into a session on the same model: generation then continues exactly as it
  // would have in the original session.
  Status SaveState(const std::string& path) const;
  Status LoadState(const std::string& path);

  struct Impl;

 private:
  friend class Generation;  // r1/generation.h: the steps of Generate
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The prompt ids Session::Chat and Session::Generate start from: the conversation rendered with
// the template `options` names (the model's own by default) and the text of user and tool
// messages kept literal (before any turn is dropped for length); a raw prompt with special
// tokens recognised and BOS per the metadata. FailedPrecondition without a tokenizer.
StatusOr<std::vector<int32_t>> ChatPromptTokens(const Model& model, absl::Span<const ChatMessage> messages,
                                                const GenerateOptions& options = {});
StatusOr<std::vector<int32_t>> RawPromptTokens(const Model& model, std::string_view prompt);

// Index of the largest value; the lowest index wins ties. Empty input gives -1.
int32_t Argmax(absl::Span<const float> values);

}  // namespace r1
