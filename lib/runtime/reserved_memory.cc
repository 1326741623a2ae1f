#include "runtime/reserved_memory.h"

#include <utility>

#include "absl/strings/str_format.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define R1_HAVE_MMAP 1
#else
#include <cstdlib>
#endif

namespace r1 {

ReservedMemory::~ReservedMemory() { Release(); }

ReservedMemory::ReservedMemory(ReservedMemory&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

ReservedMemory& ReservedMemory::operator=(ReservedMemory&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

Status ReservedMemory::Reserve(uint64_t bytes) {
  Release();
  if (bytes == 0) return absl::OkStatus();
#ifdef R1_HAVE_MMAP
  // Anonymous pages read as zero and are backed by memory only once written; MAP_NORESERVE
  // keeps a long unused tail from counting against the commit limit.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) p = nullptr;
#else
  void* p = std::calloc(bytes, 1);
#endif
  if (p == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat("cannot reserve %d MiB of memory", bytes >> 20));
  }
  data_ = static_cast<uint8_t*>(p);
  size_ = bytes;
  return absl::OkStatus();
}

void ReservedMemory::Release() {
  if (data_ == nullptr) return;
#ifdef R1_HAVE_MMAP
  munmap(data_, size_);
#else
  std::free(data_);
#endif
  data_ = nullptr;
  size_ = 0;
}

}  // namespace r1
