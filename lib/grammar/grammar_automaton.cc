// grammar_automaton.cc — interning matcher states and memoizing their byte transitions.
#include "grammar/grammar_automaton.h"

#include <algorithm>
#include <utility>

namespace r1::grammar {

GrammarAutomaton::GrammarAutomaton(const GrammarMatcher& start, size_t max_states, size_t max_bytes)
    : max_states_(std::max<size_t>(max_states, 16)), max_bytes_(max_bytes) {
  start_ = InternWhole(start.WithoutPendingCharacter());
  for (char c : start.PendingBytes()) start_ = Next(start_, static_cast<uint8_t>(c));
}

std::unique_ptr<int32_t[]> GrammarAutomaton::NewTransitionRow() {
  auto row = std::make_unique<int32_t[]>(256);
  std::fill_n(row.get(), 256, kUnknown);
  return row;
}

int32_t GrammarAutomaton::InternWhole(const GrammarMatcher& m) {
  key_.assign(1, 'W');
  m.AppendKey(&key_);
  auto [it, inserted] = ids_.try_emplace(key_, static_cast<int32_t>(states_.size()));
  if (inserted) {
    auto state = std::make_unique<State>();
    state->matcher = std::make_unique<GrammarMatcher>(m);
    bytes_ += sizeof(State) + 2 * key_.size() + 24 * m.num_entries();
    state->complete = m.complete();
    state->finished = m.finished();
    states_.push_back(std::move(state));
  }
  return it->second;
}

int32_t GrammarAutomaton::InternPartial(int32_t base, uint32_t value, int remaining, int length) {
  if (Uniform(base)) {
    // Only validity of the rest matters: keep a representative of the decoder state, i.e. of
    // which next bytes are valid (only the byte after E0, ED, F0 and F4 is restricted).
    if (remaining == 1) {  // one unrestricted byte left: as after C2
      value = 0x2, length = 2;
    } else if (remaining == 2 && length == 4) {  // two unrestricted bytes left: as after F1 80
      value = 0x40;
    } else if (remaining == 2) {  // after a three-byte lead
      value = (value == 0x0 || value == 0xD) ? value : 0x1;
    } else {  // after a four-byte lead
      value = (value == 0x0 || value == 0x4) ? value : 0x1;
    }
  }
  key_.assign(1, 'P');
  for (uint32_t v : {static_cast<uint32_t>(base), value, static_cast<uint32_t>(remaining | (length << 8))}) {
    key_.append(reinterpret_cast<const char*>(&v), sizeof(v));
  }
  auto [it, inserted] = ids_.try_emplace(key_, static_cast<int32_t>(states_.size()));
  if (inserted) {
    auto state = std::make_unique<State>();
    state->base = base;
    bytes_ += sizeof(State) + 2 * key_.size();
    state->utf8_value = value;
    state->utf8_remaining = static_cast<uint8_t>(remaining);
    state->utf8_length = static_cast<uint8_t>(length);
    states_.push_back(std::move(state));
  }
  return it->second;
}

int32_t GrammarAutomaton::AdvanceByCodePoint(int32_t base, uint32_t cp) {
  std::string signature;
  const GrammarMatcher& m = *states_[base]->matcher;
  if (!m.AppendSignature(cp, &signature)) return kDead;
  auto found = states_[base]->by_signature.find(signature);
  if (found != states_[base]->by_signature.end()) return found->second;
  GrammarMatcher next = m;
  const int32_t id = next.AcceptCodePoint(cp) ? InternWhole(next) : kDead;
  bytes_ += 2 * signature.size() + 16;
  states_[base]->by_signature.emplace(std::move(signature), id);
  return id;
}

bool GrammarAutomaton::ComputeNonAsciiLoops(int32_t state) {
  if (states_[state]->matcher == nullptr || !states_[state]->matcher->UniformAboveAscii()) return false;
  return AdvanceByCodePoint(state, 0x80) == state;
}

int32_t GrammarAutomaton::Compute(int32_t state, uint8_t byte) {
  int32_t result = kDead;
  const State& s = *states_[state];
  if (s.matcher != nullptr) {  // between characters
    const int length = GrammarMatcher::Utf8Length(byte);
    if (length == 1) {
      result = AdvanceByCodePoint(state, byte);
    } else if (length > 1) {
      const uint32_t value = byte & (0x7F >> length);
      if (s.matcher->PartialCharacterViable(value, length - 1, length)) {
        result = InternPartial(state, value, length - 1, length);
      }
    }
  } else if ((byte & 0xC0) == 0x80) {  // inside a character: only continuation bytes
    const uint32_t value = (s.utf8_value << 6) | (byte & 0x3F);
    const int remaining = s.utf8_remaining - 1;
    const int32_t base = s.base;
    if (states_[base]->matcher->PartialCharacterViable(value, remaining, s.utf8_length)) {
      result = remaining > 0 ? InternPartial(base, value, remaining, s.utf8_length)
                             : AdvanceByCodePoint(base, value);
    }
  }
  State& updated = *states_[state];  // states_ may have grown
  if (updated.next == nullptr) updated.next = NewTransitionRow(), bytes_ += 256 * sizeof(int32_t);
  updated.next[byte] = result;
  if (result == state) updated.self_loops[byte >> 6] |= uint64_t{1} << (byte & 63);
  return result;
}

GrammarMatcher GrammarAutomaton::matcher(int32_t state) const {
  const State& s = *states_[state];
  if (s.matcher != nullptr) return *s.matcher;
  GrammarMatcher m = *states_[s.base]->matcher;
  // Re-feed the bytes of the unfinished character.
  const int done = s.utf8_length - s.utf8_remaining;
  static constexpr uint8_t kLeadMark[] = {0, 0, 0xC0, 0xE0, 0xF0};
  for (int i = 0; i < done; ++i) {
    const uint32_t bits = s.utf8_value >> (6 * (done - 1 - i));
    m.AcceptByte(i == 0 ? static_cast<uint8_t>(kLeadMark[s.utf8_length] | bits)
                        : static_cast<uint8_t>(0x80 | (bits & 0x3F)));
  }
  return m;
}

int32_t GrammarAutomaton::Remap(int32_t id, const std::vector<std::unique_ptr<State>>& old,
                                absl::flat_hash_map<int32_t, int32_t>* renumbered) {
  if (id < 0) return id;
  auto found = renumbered->find(id);
  if (found != renumbered->end()) return found->second;
  const State& s = *old[id];
  const int32_t fresh = s.matcher != nullptr
                            ? InternWhole(*s.matcher)
                            : InternPartial(Remap(s.base, old, renumbered), s.utf8_value,
                                            s.utf8_remaining, s.utf8_length);
  renumbered->emplace(id, fresh);
  return fresh;
}

void GrammarAutomaton::Compact(absl::Span<int32_t* const> keep) {
  std::vector<std::unique_ptr<State>> old = std::move(states_);
  states_.clear();
  ids_.clear();
  bytes_ = 0;
  ++generation_;
  absl::flat_hash_map<int32_t, int32_t> renumbered;
  start_ = Remap(start_, old, &renumbered);
  for (int32_t* id : keep) *id = Remap(*id, old, &renumbered);
}

}  // namespace r1::grammar
