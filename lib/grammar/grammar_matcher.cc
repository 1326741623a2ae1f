// grammar_matcher.cc — advancing the stack set by code points and UTF-8 bytes.
#include "grammar/grammar_matcher.h"

#include <algorithm>
#include <utility>

namespace r1::grammar {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
// Expansion steps per closure: bounds the work an ambiguous grammar can cause per character.
constexpr size_t kExpandBudget = GrammarMatcher::kMaxStacks * 64;

}  // namespace

bool GrammarMatcher::Utf8PossibleRange(uint32_t value, int remaining, int length, uint32_t* lo, uint32_t* hi) {
  static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  const int shift = 6 * remaining;
  *lo = std::max(value << shift, kMinForLength[length]);
  *hi = std::min((value << shift) | ((1u << shift) - 1), kMaxCodePoint);
  if (*lo > *hi) return false;
  if (*lo >= 0xD800 && *hi <= 0xDFFF) return false;
  return true;
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar)
    : grammar_(std::move(grammar)) {
  std::vector<Stack> stacks;
  bool ok = true;
  for (uint32_t start : grammar_->rules[grammar_->root].alternatives) {
    ok = ok && Expand({start}, &stacks);
  }
  size_t entries = 0;
  if (ok && Canonicalize(&stacks, &entries)) stacks_ = std::move(stacks), entries_ = entries;
}

bool GrammarMatcher::Expand(Stack stack, std::vector<Stack>* out) const {
  const std::vector<Element>& elements = grammar_->elements;
  std::vector<Stack> work;
  work.push_back(std::move(stack));
  size_t steps = 0;
  while (!work.empty()) {
    if (++steps > kExpandBudget || out->size() > kMaxStacks || work.back().size() > kMaxEntries) {
      return false;
    }
    Stack s = std::move(work.back());
    work.pop_back();
    if (s.empty()) {
      out->push_back(std::move(s));
      continue;
    }
    const uint32_t pos = s.back();
    const Element& el = elements[pos];
    if (el.kind == Element::kChar) {
      out->push_back(std::move(s));
    } else if (el.kind == Element::kEnd) {
      s.pop_back();
      work.push_back(std::move(s));
    } else {
      s.pop_back();
      if (elements[pos + 1].kind != Element::kEnd) s.push_back(pos + 1);
      const std::vector<uint32_t>& alts = grammar_->rules[el.value].alternatives;
      for (size_t i = 0; i < alts.size(); ++i) {
        if (i + 1 == alts.size()) {
          s.push_back(alts[i]);
          work.push_back(std::move(s));
        } else {
          Stack next = s;
          next.push_back(alts[i]);
          work.push_back(std::move(next));
        }
      }
    }
  }
  return true;
}

bool GrammarMatcher::Canonicalize(std::vector<Stack>* stacks, size_t* entries) const {
  std::sort(stacks->begin(), stacks->end());
  stacks->erase(std::unique(stacks->begin(), stacks->end()), stacks->end());
  *entries = 0;
  for (const Stack& s : *stacks) *entries += s.size();
  return stacks->size() <= kMaxStacks && *entries <= kMaxEntries;
}

bool GrammarMatcher::AcceptCodePoint(uint32_t cp) {
  if (utf8_remaining_ != 0) return false;
  std::vector<Stack> next;
  for (const Stack& s : stacks_) {
    if (s.empty()) continue;
    const Element& el = grammar_->elements[s.back()];
    if (!grammar_->classes[el.value].Contains(cp)) continue;
    Stack advanced = s;
    advanced.back() += 1;
    if (!Expand(std::move(advanced), &next)) return false;
  }
  size_t entries = 0;
  if (next.empty() || !Canonicalize(&next, &entries)) return false;
  stacks_ = std::move(next);
  entries_ = entries;
  return true;
}

bool GrammarMatcher::AppendSignature(uint32_t cp, std::string* signature) const {
  bool any = false;
  uint8_t bits = 0;
  for (size_t i = 0; i < stacks_.size(); ++i) {
    const Stack& s = stacks_[i];
    const bool takes = !s.empty() && grammar_->classes[grammar_->elements[s.back()].value].Contains(cp);
    any |= takes;
    bits |= static_cast<uint8_t>(takes) << (i & 7);
    if ((i & 7) == 7 || i + 1 == stacks_.size()) signature->push_back(static_cast<char>(bits)), bits = 0;
  }
  return any;
}

bool GrammarMatcher::UniformAboveAscii() const {
  for (const Stack& s : stacks_) {
    if (s.empty()) continue;
    const CharClass& cls = grammar_->classes[grammar_->elements[s.back()].value];
    if (!cls.Intersects(0x80, kMaxCodePoint)) continue;
    // All of it: the ranges above ASCII must cover [0x80, 0xD7FF] and [0xE000, 0x10FFFF].
    uint32_t next = 0x80;
    for (const CharClass::Range& r : cls.ranges) {
      if (r.hi < next) continue;
      if (r.lo > next) {
        if (next >= 0xD800 && next <= 0xDFFF && r.lo <= 0xE000) {
          next = r.hi + 1;
          continue;
        }
        return false;
      }
      next = r.hi + 1;
    }
    if (next <= kMaxCodePoint) return false;
  }
  return true;
}

bool GrammarMatcher::CanTakeSomeOf(uint32_t lo, uint32_t hi) const {
  for (const Stack& s : stacks_) {
    if (!s.empty() && grammar_->classes[grammar_->elements[s.back()].value].Intersects(lo, hi)) {
      return true;
    }
  }
  return false;
}

bool GrammarMatcher::PartialCharacterViable(uint32_t value, int remaining, int length) const {
  uint32_t lo, hi;
  if (!Utf8PossibleRange(value, remaining, length, &lo, &hi)) return false;
  // Surrogates are no characters: only the parts of the range outside them can complete it.
  if (lo < 0xD800 && CanTakeSomeOf(lo, std::min<uint32_t>(hi, 0xD7FF))) return true;
  return hi > 0xDFFF && CanTakeSomeOf(std::max<uint32_t>(lo, 0xE000), hi);
}

bool GrammarMatcher::AcceptByte(uint8_t byte) {
  if (utf8_remaining_ == 0) {
    if (byte < 0x80) return AcceptCodePoint(byte);
    const int length = Utf8Length(byte);
    if (length == 0) return false;  // a continuation byte or 0xF8..0xFF
    const uint32_t value = byte & (0x7F >> length);
    if (!PartialCharacterViable(value, length - 1, length)) return false;
    utf8_value_ = value;
    utf8_remaining_ = static_cast<uint8_t>(length - 1);
    utf8_length_ = static_cast<uint8_t>(length);
    return true;
  }
  if ((byte & 0xC0) != 0x80) return false;
  const uint32_t value = (utf8_value_ << 6) | (byte & 0x3F);
  const int remaining = utf8_remaining_ - 1;
  if (!PartialCharacterViable(value, remaining, utf8_length_)) return false;
  if (remaining > 0) {
    utf8_value_ = value;
    utf8_remaining_ = static_cast<uint8_t>(remaining);
    return true;
  }
  const uint32_t saved_value = utf8_value_;
  const uint8_t saved_remaining = utf8_remaining_, saved_length = utf8_length_;
  utf8_value_ = 0, utf8_remaining_ = 0, utf8_length_ = 0;
  if (AcceptCodePoint(value)) return true;
  utf8_value_ = saved_value, utf8_remaining_ = saved_remaining, utf8_length_ = saved_length;
  return false;
}

bool GrammarMatcher::AcceptBytes(std::string_view bytes) {
  GrammarMatcher trial = *this;
  for (char c : bytes) {
    if (!trial.AcceptByte(static_cast<uint8_t>(c))) return false;
  }
  *this = std::move(trial);
  return true;
}

std::string GrammarMatcher::PendingBytes() const {
  std::string bytes;
  const int done = utf8_length_ - utf8_remaining_;
  static constexpr uint8_t kLeadMark[] = {0, 0, 0xC0, 0xE0, 0xF0};
  for (int i = 0; i < done && utf8_remaining_ != 0; ++i) {
    const uint32_t bits = utf8_value_ >> (6 * (done - 1 - i));
    bytes.push_back(static_cast<char>(i == 0 ? (kLeadMark[utf8_length_] | bits) : (0x80 | (bits & 0x3F))));
  }
  return bytes;
}

GrammarMatcher GrammarMatcher::WithoutPendingCharacter() const {
  GrammarMatcher m = *this;
  m.utf8_value_ = 0, m.utf8_remaining_ = 0, m.utf8_length_ = 0;
  return m;
}

bool GrammarMatcher::complete() const {
  return utf8_remaining_ == 0 && !stacks_.empty() && stacks_.front().empty();  // sorted: empty first
}

bool GrammarMatcher::finished() const { return complete() && stacks_.size() == 1; }

void GrammarMatcher::AppendKey(std::string* key) const {
  auto put = [key](uint32_t v) { key->append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  put(utf8_value_);
  put(utf8_remaining_ | (uint32_t{utf8_length_} << 8));
  for (const Stack& s : stacks_) {
    put(static_cast<uint32_t>(s.size()));
    for (uint32_t p : s) put(p);
  }
}

}  // namespace r1::grammar
