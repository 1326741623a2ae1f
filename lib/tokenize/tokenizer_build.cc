// Building a Tokenizer from a VocabSpec: validation, per-token pieces, and the model.
#include <array>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "tokenize/byte_level.h"
#include "tokenize/tokenizer_impl.h"

namespace r1 {
namespace {

using internal::BpeModel;
using internal::SpmModel;

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// Texts of control tokens that end a turn in the supported model families.
constexpr std::string_view kEndOfTurnTexts[] = {
    "<｜end▁of▁sentence｜>",  // DeepSeek
    "<|EOT|>",               // DeepSeek Coder
    "<|im_end|>",            // ChatML (Qwen)
    "<|endoftext|>",         // Qwen, GPT-2
    "<|eot_id|>",            // Llama 3
    "<|eom_id|>",            // Llama 3.1
    "<|end_of_text|>",       // Llama 3
    "</s>",                  // Llama 2
    "<|end|>",               // Phi-3
    "<end_of_turn>",         // Gemma
};

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t hit = text.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

// "<0x41>" -> 0x41; -1 when the text is not of that form.
int ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9') value |= c - '0';
    else if (c >= 'A' && c <= 'F') value |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') value |= c - 'a' + 10;
    else return -1;
  }
  return value;
}

TokenType ToTokenType(int32_t value) {
  switch (value) {
    case 2: return TokenType::kUnknown;
    case 3: return TokenType::kControl;
    case 4: return TokenType::kUserDefined;
    case 5: return TokenType::kUnused;
    case 6: return TokenType::kByte;
    default: return TokenType::kNormal;  // 1, and 0 (undefined) as llama.cpp reads it
  }
}

// An optional id from the metadata; ids outside the vocabulary (converters write 2^32-1 or -1
// for "none") count as absent.
std::optional<int32_t> CheckedId(std::optional<int32_t> id, size_t n_vocab) {
  if (!id || *id < 0 || static_cast<size_t>(*id) >= n_vocab) return std::nullopt;
  return id;
}

Status BuildBpe(const VocabSpec& spec, std::optional<int32_t> unk_id, Tokenizer::Impl* impl) {
  R1_ASSIGN_OR_RETURN(internal::PreTokenizerSpec pre_spec,
                      internal::PreTokenizerSpecFor(spec.pre));
  R1_ASSIGN_OR_RETURN(impl->pre_tokenizer, internal::PreTokenizer::Create(pre_spec));

  const size_t n = spec.tokens.size();
  std::vector<BpeModel::Token> tokens(n);
  for (size_t id = 0; id < n; ++id) {
    const TokenType type = impl->types[id];
    if (type == TokenType::kNormal) {
      std::optional<std::string> bytes = internal::ByteLevelDecode(spec.tokens[id]);
      // A normal entry outside the byte-level alphabet (rare, converter-made) stands for its
      // text as written.
      impl->pieces[id] = bytes ? std::move(*bytes) : spec.tokens[id];
      tokens[id] = {impl->pieces[id], true};
    } else {
      impl->pieces[id] = spec.tokens[id];
      if (type != TokenType::kUnused) tokens[id] = {impl->pieces[id], false};
    }
  }
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(spec.merges.size());
  for (const std::string& merge : spec.merges) {
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("merge rule '%s' is not of the form 'left right'", merge));
    }
    std::optional<std::string> left = internal::ByteLevelDecode(merge.substr(0, space));
    std::optional<std::string> right = internal::ByteLevelDecode(merge.substr(space + 1));
    if (!left || !right) continue;  // not byte-level text: it can name no token
    merges.emplace_back(std::move(*left), std::move(*right));
  }
  R1_ASSIGN_OR_RETURN(impl->bpe, BpeModel::Create(tokens, merges, pre_spec.ignore_merges,
                                                   unk_id.value_or(-1)));
  return absl::OkStatus();
}

void BuildSpm(const VocabSpec& spec, std::optional<int32_t> unk_id, Tokenizer::Impl* impl) {
  const size_t n = spec.tokens.size();
  std::vector<SpmModel::Token> tokens(n);
  std::array<int32_t, 256> byte_tokens;
  byte_tokens.fill(-1);
  for (size_t id = 0; id < n; ++id) {
    const TokenType type = impl->types[id];
    const std::string& text = spec.tokens[id];
    const float score = spec.scores.empty() ? 0.0f : spec.scores[id];
    tokens[id] = {text, score, type == TokenType::kNormal};
    switch (type) {
      case TokenType::kNormal:
      case TokenType::kUserDefined:
        impl->pieces[id] = ReplaceAll(text, kSpmSpace, " ");
        break;
      case TokenType::kByte: {
        const int byte = ParseByteToken(text);
        if (byte >= 0) {
          impl->pieces[id] = std::string(1, static_cast<char>(byte));
          if (byte_tokens[byte] < 0) byte_tokens[byte] = static_cast<int32_t>(id);
        } else {
          impl->pieces[id] = text;
        }
        break;
      }
      default:
        impl->pieces[id] = text;
    }
  }
  impl->spm = SpmModel::Create(tokens, byte_tokens, unk_id.value_or(-1));
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Create(const VocabSpec& spec) {
  const size_t n = spec.tokens.size();
  if (n == 0) return absl::InvalidArgumentError("vocabulary has no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) return absl::InvalidArgumentError("vocabulary too large");
  if (!spec.token_types.empty() && spec.token_types.size() != n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d token types for %d tokens", static_cast<int>(spec.token_types.size()),
        static_cast<int>(n)));
  }
  if (!spec.scores.empty() && spec.scores.size() != n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%d token scores for %d tokens", static_cast<int>(spec.scores.size()),
        static_cast<int>(n)));
  }

  auto impl = std::make_unique<Impl>();
  impl->model_name = spec.model;
  impl->pre_name = spec.pre.empty() ? "default" : spec.pre;
  impl->chat_template = spec.chat_template;
  impl->texts = spec.tokens;
  impl->pieces.resize(n);
  impl->types.resize(n, TokenType::kNormal);
  for (size_t id = 0; id < spec.token_types.size(); ++id) {
    impl->types[id] = ToTokenType(spec.token_types[id]);
  }

  std::optional<int32_t> unk_id = CheckedId(spec.unk_id, n);
  if (spec.model == "gpt2") {
    impl->kind = Impl::Kind::kBpe;
    impl->add_bos = spec.add_bos.value_or(false);
    R1_RETURN_IF_ERROR(BuildBpe(spec, unk_id, impl.get()));
  } else if (spec.model == "llama") {
    impl->kind = Impl::Kind::kSpm;
    impl->add_bos = spec.add_bos.value_or(true);
    impl->add_space_prefix = spec.add_space_prefix.value_or(true);
    if (!unk_id) {
      for (size_t id = 0; id < n && !unk_id; ++id) {
        if (impl->types[id] == TokenType::kUnknown) unk_id = static_cast<int32_t>(id);
      }
    }
    BuildSpm(spec, unk_id, impl.get());
  } else {
    return absl::UnimplementedError(absl::StrFormat(
        "unsupported tokenizer model '%s' (tokenizer.ggml.model); supported: gpt2, llama",
        spec.model));
  }
  impl->add_eos = spec.add_eos.value_or(false);

  impl->bos = CheckedId(spec.bos_id, n);
  impl->eos = CheckedId(spec.eos_id, n);
  if (impl->add_bos && !impl->bos) {
    return absl::InvalidArgumentError("the vocabulary asks for a BOS token but has none");
  }
  if (impl->add_eos && !impl->eos) {
    return absl::InvalidArgumentError("the vocabulary asks for an EOS token but has none");
  }

  impl->end_of_generation.resize(n, false);
  for (std::optional<int32_t> id :
       {impl->eos, CheckedId(spec.eot_id, n), CheckedId(spec.eom_id, n)}) {
    if (id) impl->end_of_generation[*id] = true;
  }

  impl->text_ids.reserve(n);
  for (size_t id = 0; id < n; ++id) {
    const auto i = static_cast<int32_t>(id);
    impl->text_ids.try_emplace(spec.tokens[id], i);
    const TokenType type = impl->types[id];
    if (type == TokenType::kControl || type == TokenType::kUnknown) {
      impl->specials.Add(spec.tokens[id], i, /*always=*/false);
      for (std::string_view end : kEndOfTurnTexts) {
        if (spec.tokens[id] == end) impl->end_of_generation[id] = true;
      }
    } else if (type == TokenType::kUserDefined) {
      impl->specials.Add(spec.tokens[id], i, /*always=*/true);
    }
  }
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

}  // namespace r1
