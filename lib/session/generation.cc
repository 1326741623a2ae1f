// generation.cc — the generation steps: prompt → reuse the cached prefix → prefill → {choose →
// stream → (the caller decodes)} until end of turn, a stop string, the token limit,
// cancellation or a full context.
#include "r1/generation.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_format.h"
#include "session/answer_grammar.h"
#include "session/session_impl.h"
#include "session/tool_calls.h"
#include "session/token_stream.h"

namespace r1 {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The channel generation starts in: reasoning when the prompt opened <think> and did not close it
// (R1's chat template ends its generation prompt with "<think>\n").
Channel InitialChannel(absl::Span<const int32_t> prompt, std::optional<int32_t> open, std::optional<int32_t> close) {
  for (size_t i = prompt.size(); i-- > 0;) {
    if (prompt[i] == open) return Channel::kReasoning;
    if (prompt[i] == close) return Channel::kContent;
  }
  return Channel::kContent;
}

}  // namespace

Generation::Generation(Session& session, const GenerateOptions& options, const StreamCallback& on_piece,
                       Sampler sampler)
    : session_(session), options_(options), on_piece_(on_piece), sampler_(std::move(sampler)) {}

Generation::~Generation() = default;

StatusOr<std::unique_ptr<Generation>> Generation::Start(Session& session, absl::Span<const int32_t> prompt,
                                                        const GenerateOptions& options, const StreamCallback& on_piece) {
  Session::Impl& s = *session.impl_;
  s.cancel.store(false, std::memory_order_relaxed);
  const Tokenizer* tok = s.model->tokenizer();
  if (tok == nullptr) {
    return absl::FailedPreconditionError("the model file has no tokenizer; generate from token ids instead");
  }
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt is empty");
  if (static_cast<int64_t>(prompt.size()) > s.n_ctx) {
    return absl::OutOfRangeError(absl::StrFormat("the prompt has %d tokens but the context holds %d",
                                                 prompt.size(), s.n_ctx));
  }
  R1_ASSIGN_OR_RETURN(Sampler sampler, Sampler::Create(options.sampler, s.model->config().n_vocab));
  std::unique_ptr<Generation> g(new Generation(session, options, on_piece, std::move(sampler)));
  const bool calls_tools = !options.tools.empty() && options.tool_choice != ToolChoice::kNone;
  const bool must_call = calls_tools && options.tool_choice != ToolChoice::kAuto;
  if (must_call && (!options.grammar.empty() || !options.json_schema.empty())) {
    return absl::InvalidArgumentError("a required tool call and a grammar or JSON schema exclude each other");
  }
  if (calls_tools) g->tool_style_ = ToolCallStyleFor(*tok, options);
  if (must_call || !options.grammar.empty() || !options.json_schema.empty()) {
    if (s.grammar_vocab == nullptr) {
      R1_ASSIGN_OR_RETURN(s.grammar_vocab, grammar::BuildTokenVocabulary(*tok));
    }
  }
  if (must_call) {
    R1_RETURN_IF_ERROR(g->PrepareRequiredCall(*tok, s.grammar_vocab));
  } else {
    R1_ASSIGN_OR_RETURN(g->grammar_, AnswerGrammar::Create(options, s.grammar_vocab));
  }
  g->prompt_.assign(prompt.begin(), prompt.end());
  g->result_.n_prompt_tokens = static_cast<int64_t>(prompt.size());
  g->max_new_ = options.max_new_tokens < 0 ? s.n_ctx : options.max_new_tokens;

  // The cached prefix stays; at least the last prompt token is recomputed for fresh logits.
  R1_ASSIGN_OR_RETURN(const int64_t kept, session.KeepSharedPrefix(prompt));
  g->prompt_done_ = static_cast<size_t>(kept);
  g->result_.n_prefilled_tokens = static_cast<int64_t>(prompt.size() - g->prompt_done_);
  for (int32_t id : prompt) g->sampler_.Accept(id);

  const std::optional<int32_t> think_open = tok->FindToken("<think>");
  g->think_close_ = tok->FindToken("</think>");
  if (g->grammar_ != nullptr) {
    for (const std::optional<int32_t> marker : {think_open, g->think_close_}) {
      if (marker) g->grammar_->Forbid(*marker);
    }
  }
  g->stream_ = std::make_unique<TokenStream>(*tok, g->options_.stop, InitialChannel(prompt, think_open, g->think_close_),
                                             think_open, g->think_close_, g->on_piece_,
                                             calls_tools ? ToolSectionMarkers(g->tool_style_) : std::vector<std::string>());
  return g;
}

Status Generation::Prefill(int64_t max_tokens) {
  const size_t left = prompt_.size() - prompt_done_;
  const size_t n = max_tokens <= 0 ? left : std::min(left, static_cast<size_t>(max_tokens));
  if (n == 0) return absl::OkStatus();
  const Clock::time_point start = Clock::now();
  R1_RETURN_IF_ERROR(session_.Evaluate(absl::MakeConstSpan(prompt_).subspan(prompt_done_, n)));
  prompt_done_ += n;
  result_.prefill_seconds += SecondsSince(start);
  if (prefilled()) decode_start_ = Clock::now();
  return absl::OkStatus();
}

// The call r1 makes the model write: its opening and closing markers written by r1, the
// function's name and arguments shaped by a grammar.
Status Generation::PrepareRequiredCall(const Tokenizer& tokenizer, std::shared_ptr<const grammar::TokenVocabulary> vocab) {
  R1_ASSIGN_OR_RETURN(RequiredToolCall call, RequiredToolCallGrammar(tool_style_, options_));
  const EncodeOptions markers = {.add_bos = false, .add_eos = false, .parse_special = true};
  R1_ASSIGN_OR_RETURN(std::vector<int32_t> opening, tokenizer.Encode(call.prefix, markers));
  R1_ASSIGN_OR_RETURN(std::vector<int32_t> closing, tokenizer.Encode(call.suffix, markers));
  R1_ASSIGN_OR_RETURN(grammar_, AnswerGrammar::ForToolCall(call.gbnf, std::move(opening), std::move(closing), std::move(vocab)));
  return absl::OkStatus();
}

// The calls of a tool-call section; a section that holds none is released as the content it is.
void Generation::CollectToolCalls() {
  if (!stream_->in_tool_section()) return;
  StatusOr<std::vector<ToolCall>> calls = ParseToolCalls(stream_->tool_section(), tool_style_, options_.tools);
  if (calls.ok() && !calls->empty()) {
    result_.tool_calls = *std::move(calls);
  } else {
    stream_->ReleaseToolSection();
  }
}

bool Generation::prefilled() const { return prompt_done_ == prompt_.size(); }
int64_t Generation::prompt_tokens_left() const { return static_cast<int64_t>(prompt_.size() - prompt_done_); }

void Generation::End(StopReason reason) {
  ended_ = true;
  result_.stop_reason = reason;
}

// The blank line R1 writes after "</think>": r1 writes it itself when it closes a thought at the
// budget, and before an answer that a grammar governs (the grammar then starts on the answer's
// first character).
Status Generation::ForceBlankLine() {
  R1_ASSIGN_OR_RETURN(std::vector<int32_t> blank,
                      session_.model().tokenizer()->Encode("\n\n", {.add_bos = false, .add_eos = false}));
  forced_.insert(forced_.end(), blank.begin(), blank.end());
  return absl::OkStatus();
}

// A sampled token, among those the grammar allows when one governs; nullopt when the generation
// ends here (end of turn, a finished grammar, a grammar dead end).
StatusOr<std::optional<int32_t>> Generation::Choose() {
  const bool governed = grammar_ != nullptr && grammar_->Governs(stream_->channel());
  absl::Span<const float> logits = session_.Logits(logits_row_);
  if (governed) {
    if (grammar_->finished()) {
      End(StopReason::kEndOfGeneration);
      return std::nullopt;
    }
    logits = grammar_->Mask(logits);
    if (logits.empty()) {
      End(StopReason::kGrammarDeadEnd);
      return std::nullopt;
    }
  }
  R1_ASSIGN_OR_RETURN(int32_t next, sampler_.Sample(logits));
  bool ends_turn = session_.model().tokenizer()->IsEndOfGeneration(next);
  // An answer is asked for in a shape: a turn the model would end inside its thought gets the
  // thought closed instead, and the answer follows.
  if (ends_turn && !options_.ignore_eos && grammar_ != nullptr && !governed && think_close_ &&
      stream_->channel() == Channel::kReasoning) {
    next = *think_close_;
    ends_turn = false;
  }
  if (ends_turn && (!options_.ignore_eos || governed)) {  // a grammar only allows it on a complete match
    End(StopReason::kEndOfGeneration);
    return std::nullopt;
  }
  if (governed) R1_RETURN_IF_ERROR(grammar_->Accept(next));
  // A thought the model closes before a governed answer: the blank line, then the grammar.
  if (next == think_close_ && grammar_ != nullptr && !grammar_->Governs(Channel::kReasoning)) {
    R1_RETURN_IF_ERROR(ForceBlankLine());
  }
  return next;
}

StatusOr<std::optional<int32_t>> Generation::Next() {
  const int64_t view_n_past = view_n_past_;
  view_n_past_ = -1;
  const absl::Cleanup last_row = [this] { logits_row_ = -1; };
  if (ended_) return std::nullopt;
  if (!prefilled()) return absl::FailedPreconditionError("the prompt is not prefilled yet");
  const Session::Impl& s = *session_.impl_;
  if (result_.n_generated_tokens >= max_new_) {
    End(StopReason::kMaxTokens);
    return std::nullopt;
  }
  if (s.cancel.load(std::memory_order_relaxed)) {
    End(StopReason::kCancelled);
    return std::nullopt;
  }
  if (forced_.empty() && !budget_spent_ && options_.reasoning_budget >= 0 && think_close_ &&
      stream_->channel() == Channel::kReasoning && result_.n_reasoning_tokens >= options_.reasoning_budget) {
    // At the reasoning budget r1 closes the thought itself, as the model would.
    budget_spent_ = true;
    forced_.push_back(*think_close_);
    R1_RETURN_IF_ERROR(ForceBlankLine());
  }
  if (forced_.empty() && grammar_ != nullptr && grammar_->Governs(stream_->channel())) {
    const std::vector<int32_t> written = grammar_->TakeWrittenTokens();  // a required call's markers
    forced_.insert(forced_.end(), written.begin(), written.end());
  }
  int32_t next;
  if (!forced_.empty()) {
    next = forced_.front();
    forced_.pop_front();
  } else {
    R1_ASSIGN_OR_RETURN(std::optional<int32_t> chosen, Choose());
    if (!chosen) return std::nullopt;
    next = *chosen;
  }
  sampler_.Accept(next);
  result_.tokens.push_back(next);
  ++result_.n_generated_tokens;
  if (stream_->channel() == Channel::kReasoning && next != think_close_) ++result_.n_reasoning_tokens;

  R1_ASSIGN_OR_RETURN(TokenStream::Verdict verdict, stream_->Push(next));
  if (verdict == TokenStream::Verdict::kStopString) {
    End(StopReason::kStopString);
    return std::nullopt;
  }
  if (verdict == TokenStream::Verdict::kCallbackStop) {
    End(StopReason::kCancelled);
    return std::nullopt;
  }
  if ((view_n_past >= 0 ? view_n_past : s.n_past()) >= s.n_ctx) {  // streamed, but no room to decode it
    End(StopReason::kContextFull);
    return std::nullopt;
  }
  return next;
}

Status Generation::KeepCheckedPrefix(int64_t n_past, int64_t row) {
  Session::Impl& s = *session_.impl_;
  if (row < 0 || row >= s.n_logit_rows) return absl::InternalError("no such row of logits");
  const float* kept = s.logits + row * s.model->config().n_vocab;
  R1_RETURN_IF_ERROR(session_.Truncate(n_past));
  s.logits = kept;  // the rows stay in the session's buffers until the next evaluation
  s.n_logit_rows = 1;
  return absl::OkStatus();
}

GenerateResult Generation::Finish() {
  if (!ended_) End(StopReason::kCancelled);
  const StopReason reason = result_.stop_reason;
  if (reason != StopReason::kStopString && reason != StopReason::kCancelled &&
      stream_->Finish() == TokenStream::Verdict::kCallbackStop) {
    result_.stop_reason = StopReason::kCancelled;
  }
  CollectToolCalls();
  if (prefilled()) result_.decode_seconds = SecondsSince(decode_start_);
  result_.reasoning = std::move(stream_->reasoning());
  result_.content = std::move(stream_->content());
  return std::move(result_);
}

}  // namespace r1
