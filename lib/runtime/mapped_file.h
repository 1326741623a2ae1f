// mapped_file.h — a read-only memory mapping of a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/types/span.h"
#include "r1/status.h"

namespace r1 {

class MappedFile {
 public:
  // Maps `path` read-only (or reads it into memory when use_mmap is false).
  static StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path, bool use_mmap = true);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  absl::Span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::unique_ptr<uint8_t[]> owned_;  // when not mapped
};

}  // namespace r1
