// reserved_memory.h — a zero-filled block of address space whose pages become resident only
// when first written, so a long context costs memory only as it fills.
#pragma once

#include <cstddef>
#include <cstdint>

#include "r1/status.h"

namespace r1 {

class ReservedMemory {
 public:
  ReservedMemory() = default;
  ~ReservedMemory();
  ReservedMemory(ReservedMemory&& other) noexcept;
  ReservedMemory& operator=(ReservedMemory&& other) noexcept;
  ReservedMemory(const ReservedMemory&) = delete;
  ReservedMemory& operator=(const ReservedMemory&) = delete;

  // Replaces the block with `bytes` new zero bytes; ResourceExhausted when the address space
  // cannot be had.
  Status Reserve(uint64_t bytes);

  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  void Release();
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace r1
