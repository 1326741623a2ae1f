// Encoding, decoding and the accessors of r1::Tokenizer.
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "tokenize/nfc.h"
#include "tokenize/tokenizer_impl.h"
#include "tokenize/utf8.h"

namespace r1 {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581

Status OutOfRange(int32_t id, size_t n_vocab) {
  return absl::InvalidArgumentError(absl::StrFormat("token id %d is outside the vocabulary [0, %d)",
                                                    id, static_cast<int>(n_vocab)));
}

}  // namespace

Status Tokenizer::Impl::EncodeText(std::string_view text, bool after_added,
                                   std::vector<int32_t>* ids) const {
  if (text.empty()) return absl::OkStatus();
  if (kind == Kind::kSpm) {
    std::string escaped;
    escaped.reserve(text.size() + 8);
    if (add_space_prefix && after_added) escaped += kSpmSpace;
    for (char c : text) {
      if (c == ' ') escaped += kSpmSpace;
      else escaped += c;
    }
    return spm->Encode(escaped, ids);
  }
  std::string normalized;
  if (pre_tokenizer->nfc()) {
    normalized.reserve(text.size());
    internal::AppendNfc(text, &normalized);
    text = normalized;
  }
  std::vector<std::string_view> words;
  std::vector<std::string_view> scratch;
  R1_RETURN_IF_ERROR(pre_tokenizer->Split(text, &words, &scratch));
  for (std::string_view word : words) bpe->EncodeWord(word, ids);
  return absl::OkStatus();
}

void Tokenizer::Impl::AppendPiece(int32_t id, const DecodeOptions& options, bool* at_text_start,
                                  std::string* out) const {
  switch (types[id]) {
    case TokenType::kControl:
    case TokenType::kUnknown:
    case TokenType::kUnused:
      if (options.render_special) out->append(texts[id]);
      *at_text_start = true;
      return;
    case TokenType::kUserDefined:
      out->append(pieces[id]);
      *at_text_start = true;
      return;
    default:
      break;
  }
  std::string_view piece = pieces[id];
  if (kind == Kind::kSpm && add_space_prefix && options.strip_prefix_space && *at_text_start &&
      !piece.empty() && piece[0] == ' ') {
    piece.remove_prefix(1);
  }
  *at_text_start = false;
  out->append(piece);
}

StatusOr<std::vector<int32_t>> Tokenizer::Encode(std::string_view text,
                                                 const EncodeOptions& options) const {
  const Impl& im = *impl_;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (options.add_bos.value_or(im.add_bos)) {
    if (!im.bos) return absl::FailedPreconditionError("BOS requested but the vocabulary has none");
    ids.push_back(*im.bos);
  }
  std::vector<internal::SpecialTokenMatcher::Piece> pieces;
  if (im.specials.empty()) {
    pieces.push_back({text, -1});
  } else {
    im.specials.Split(text, options.parse_special, options.literal_ranges, &pieces);
  }
  bool after_added = true;
  for (const auto& piece : pieces) {
    if (piece.id >= 0) {
      ids.push_back(piece.id);
      after_added = true;
    } else {
      R1_RETURN_IF_ERROR(im.EncodeText(piece.text, after_added, &ids));
      after_added = false;
    }
  }
  if (options.add_eos.value_or(im.add_eos)) {
    if (!im.eos) return absl::FailedPreconditionError("EOS requested but the vocabulary has none");
    ids.push_back(*im.eos);
  }
  return ids;
}

StatusOr<std::string> Tokenizer::Decode(absl::Span<const int32_t> ids,
                                        const DecodeOptions& options) const {
  // One code path with the streaming decoder, so that both give the same bytes by construction.
  StreamDecoder decoder(*this, options);
  std::string text;
  for (int32_t id : ids) {
    R1_ASSIGN_OR_RETURN(std::string piece, decoder.Push(id));
    text += piece;
  }
  text += decoder.Flush();
  return text;
}

StatusOr<std::string_view> Tokenizer::TokenPiece(int32_t id) const {
  if (!impl_->InRange(id)) return OutOfRange(id, impl_->types.size());
  return std::string_view(impl_->pieces[id]);
}

StatusOr<std::string_view> Tokenizer::TokenText(int32_t id) const {
  if (!impl_->InRange(id)) return OutOfRange(id, impl_->types.size());
  return std::string_view(impl_->texts[id]);
}

StatusOr<TokenType> Tokenizer::GetTokenType(int32_t id) const {
  if (!impl_->InRange(id)) return OutOfRange(id, impl_->types.size());
  return impl_->types[id];
}

std::vector<std::pair<size_t, size_t>> Tokenizer::FindAddedTokens(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> found;
  if (impl_->specials.empty()) return found;
  std::vector<internal::SpecialTokenMatcher::Piece> pieces;
  impl_->specials.Split(text, /*parse_special=*/true, {}, &pieces);
  for (const auto& piece : pieces) {
    if (piece.id < 0) continue;
    const size_t begin = static_cast<size_t>(piece.text.data() - text.data());
    found.emplace_back(begin, begin + piece.text.size());
  }
  return found;
}

std::optional<int32_t> Tokenizer::FindToken(std::string_view text) const {
  auto it = impl_->text_ids.find(absl::string_view(text.data(), text.size()));
  if (it == impl_->text_ids.end()) return std::nullopt;
  return it->second;
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->types.size()); }
std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
bool Tokenizer::IsEndOfGeneration(int32_t id) const {
  return impl_->InRange(id) && impl_->end_of_generation[id];
}
std::string_view Tokenizer::model() const { return impl_->model_name; }
std::string_view Tokenizer::pre() const { return impl_->pre_name; }
std::string_view Tokenizer::chat_template() const { return impl_->chat_template; }

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, const DecodeOptions& options)
    : tokenizer_(&tokenizer), options_(options) {}
StreamDecoder::~StreamDecoder() = default;

StatusOr<std::string> StreamDecoder::Push(int32_t id) {
  const Tokenizer::Impl& im = *tokenizer_->impl_;
  if (!im.InRange(id)) return OutOfRange(id, im.types.size());
  im.AppendPiece(id, options_, &at_text_start_, &pending_);
  const size_t complete = internal::CompleteUtf8Prefix(pending_);
  std::string out;
  if (options_.replace_invalid_utf8) {
    internal::AppendValidUtf8(std::string_view(pending_).substr(0, complete), &out);
  } else {
    out.assign(pending_, 0, complete);
  }
  pending_.erase(0, complete);
  return out;
}

Status StreamDecoder::Prime(absl::Span<const int32_t> ids) {
  const Tokenizer::Impl& im = *tokenizer_->impl_;
  for (int32_t id : ids) {
    if (!im.InRange(id)) return OutOfRange(id, im.types.size());
  }
  for (int32_t id : ids) im.AppendPiece(id, options_, &at_text_start_, &pending_);
  pending_.erase(0, internal::CompleteUtf8Prefix(pending_));
  return absl::OkStatus();
}

std::string StreamDecoder::Flush() {
  std::string out;
  if (options_.replace_invalid_utf8) {
    internal::AppendValidUtf8(pending_, &out);
  } else {
    out = std::move(pending_);
  }
  Reset();
  return out;
}

void StreamDecoder::Reset() {
  pending_.clear();
  at_text_start_ = true;
}

}  // namespace r1
