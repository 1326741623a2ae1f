// r1/tokenizer.h — text <-> token ids for the models r1 runs.
//
// Two tokenizer models are supported, as GGUF's tokenizer.ggml.model names them:
//   "gpt2"  byte-level BPE (Qwen2, Llama 3, DeepSeek-V3/R1, DeepSeek LLM/Coder, GPT-2), with the
//           pre-tokenizer named by tokenizer.ggml.pre;
//   "llama" SentencePiece-style BPE with <0xXX> byte fallback (Llama 2 and llama2.c models).
// The contract is the original (Hugging Face) tokenizer of each vocabulary.
//
//   R1_ASSIGN_OR_RETURN(std::unique_ptr<r1::Tokenizer> tok, r1::Tokenizer::Load("model.gguf"));
//   R1_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok->Encode("Hello", {.add_bos = false}));
//   R1_ASSIGN_OR_RETURN(std::string text, tok->Decode(ids));
//
// Thread safety: a Tokenizer is immutable after creation and every const method may be called
// from any number of threads at once (its word cache locks internally). A StreamDecoder is
// thread-compatible: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "r1/status.h"

namespace r1 {

// Token types, numbered as GGUF's tokenizer.ggml.token_type stores them.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,       // an ordinary vocabulary entry, produced by BPE
  kUnknown = 2,      // the unknown token
  kControl = 3,      // BOS/EOS and other markers: matched in text only with parse_special
  kUserDefined = 4,  // an added token matched in text always (e.g. <think>)
  kUnused = 5,       // padding entries: never matched, never produced
  kByte = 6,         // SentencePiece byte fallback <0xXX>
};

// A vocabulary as plain data: the GGUF tokenizer.* metadata. Tokenizer::Load reads it from a
// file; tests and tools can build one in memory.
struct VocabSpec {
  std::string model;                 // "gpt2" or "llama"
  std::string pre;                   // pre-tokenizer name ("qwen2", "llama-bpe", ...); "" = default
  std::vector<std::string> tokens;   // id -> text as stored (byte-level form for "gpt2")
  std::vector<int32_t> token_types;  // id -> TokenType value; empty = all normal
  std::vector<float> scores;         // id -> merge priority ("llama"); empty = all zero
  std::vector<std::string> merges;   // "left right" in priority order ("gpt2")
  std::optional<int32_t> bos_id, eos_id, eot_id, eom_id, unk_id, pad_id;
  std::optional<bool> add_bos, add_eos;  // absent: true/false for "llama", false/false for "gpt2"
  std::optional<bool> add_space_prefix;  // "llama" only; absent: true
  std::string chat_template;             // tokenizer.chat_template (Jinja source), may be empty
};

struct EncodeOptions {
  // Put BOS first (EOS last); absent means what the vocabulary's metadata says.
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  // Match control tokens (<｜User｜>, <|im_start|>, ...) written in the text. User-defined added
  // tokens such as <think> are matched either way, as the original tokenizers do; everything
  // else is plain text.
  bool parse_special = false;
  // Byte ranges [begin, end) of the text, sorted and disjoint, where no added token is matched,
  // not even a user-defined one: text a person wrote inside a prompt rendered around it, so
  // that typing "<｜Assistant｜>" or "</think>" cannot forge a turn or end a thought.
  std::vector<std::pair<size_t, size_t>> literal_ranges;
};

struct DecodeOptions {
  // Control tokens (BOS, EOS, <｜Assistant｜>, ...) come out as their text; otherwise as nothing.
  bool render_special = true;
  // SentencePiece vocabularies put a space in front of the text (and after each added token)
  // when encoding; drop it again. Set to false when decoding a continuation, e.g. the tokens
  // generated after a prompt.
  bool strip_prefix_space = true;
  // Replace ill-formed UTF-8 (from byte tokens that do not form characters) with U+FFFD.
  // Off by default so that Decode(Encode(bytes)) gives back any byte string exactly.
  bool replace_invalid_utf8 = false;
};

class Tokenizer {
 public:
  // Reads the tokenizer.* metadata of a GGUF file.
  static StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& gguf_path);
  // Builds a tokenizer from vocabulary data; InvalidArgument/NotFound name what is wrong.
  static StatusOr<std::unique_ptr<Tokenizer>> Create(const VocabSpec& spec);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids for `text` (any bytes; ill-formed UTF-8 is encoded byte by byte where the
  // vocabulary allows, and never fails or hangs).
  StatusOr<std::vector<int32_t>> Encode(std::string_view text,
                                        const EncodeOptions& options = {}) const;
  // The text of a whole sequence; the same bytes a StreamDecoder produces piece by piece.
  // InvalidArgument for an id outside [0, n_vocab).
  StatusOr<std::string> Decode(absl::Span<const int32_t> ids,
                               const DecodeOptions& options = {}) const;

  // The bytes a token decodes to (control tokens: their text). May be part of a character.
  StatusOr<std::string_view> TokenPiece(int32_t id) const;
  // The token's text as the vocabulary stores it.
  StatusOr<std::string_view> TokenText(int32_t id) const;
  StatusOr<TokenType> GetTokenType(int32_t id) const;
  // The id of the vocabulary entry whose stored text is `text`, if there is one.
  std::optional<int32_t> FindToken(std::string_view text) const;
  // Byte ranges [begin, end) of the added tokens (control and user-defined) written in `text`,
  // as Encode with parse_special matches them.
  std::vector<std::pair<size_t, size_t>> FindAddedTokens(std::string_view text) const;

  int32_t n_vocab() const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  bool add_bos() const;  // the metadata's default for EncodeOptions::add_bos
  bool add_eos() const;
  // True for tokens that end a generated turn: EOS, EOT/EOM and the end-of-turn markers of the
  // supported families (<｜end▁of▁sentence｜>, <|im_end|>, <|eot_id|>, <|endoftext|>, ...).
  bool IsEndOfGeneration(int32_t id) const;

  std::string_view model() const;          // "gpt2" or "llama"
  std::string_view pre() const;            // pre-tokenizer name
  std::string_view chat_template() const;  // Jinja source from the metadata, may be empty

  struct Impl;  // lib/tokenize; public only so the implementation files can share it

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class StreamDecoder;
};

// Turns ids into text as they arrive, never ending a piece inside a UTF-8 character: the
// bytes of an unfinished character are held back until the token that completes it. The
// concatenation of all Push results and Flush equals Tokenizer::Decode of the same ids.
class StreamDecoder {
 public:
  // `tokenizer` must outlive the decoder.
  explicit StreamDecoder(const Tokenizer& tokenizer, const DecodeOptions& options = {});
  ~StreamDecoder();

  // The complete characters that became available with `id` (often empty, e.g. for the first
  // half of a character). InvalidArgument for an out-of-range id; the state is unchanged then.
  StatusOr<std::string> Push(int32_t id);
  // Feeds tokens whose text is already shown, typically the prompt before generated tokens:
  // the state advances (so SentencePiece's prefix space is not stripped from the first
  // generated token) but nothing is returned, except that bytes of a character left unfinished
  // at the end of `ids` are kept and come out with the token that completes it.
  Status Prime(absl::Span<const int32_t> ids);
  // Everything still held back (an unfinished character at the end of the stream), and a
  // reset to the start state.
  std::string Flush();
  // Forgets held-back bytes and starts a new sequence.
  void Reset();

 private:
  const Tokenizer* tokenizer_;
  DecodeOptions options_;
  std::string pending_;        // bytes not yet released
  bool at_text_start_ = true;  // no text since the start or the last added token
};

}  // namespace r1
