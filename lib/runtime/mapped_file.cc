// mapped_file.cc — POSIX mmap with a plain read() fallback.
#include "runtime/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "absl/strings/str_format.h"

namespace r1 {

namespace {

Status ErrnoError(std::string_view what, const std::string& path) {
  const int err = errno;
  std::string msg = absl::StrFormat("%s '%s': %s", what, path, std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::UnavailableError(msg);
}

}  // namespace

StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(const std::string& path, bool use_mmap) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrFormat("'%s' is not a regular file", path));

  std::unique_ptr<MappedFile> file(new MappedFile());
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ == 0) return file;

  if (use_mmap) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return ErrnoError("cannot map", path);
    file->data_ = static_cast<const uint8_t*>(p);
    file->mapped_ = true;
    return file;
  }

  file->owned_.reset(new (std::nothrow) uint8_t[file->size_]);
  if (!file->owned_) {
    return absl::ResourceExhaustedError(absl::StrFormat("cannot allocate %d bytes to read '%s'", file->size_, path));
  }
  size_t done = 0;
  while (done < file->size_) {
    const ssize_t n = ::read(fd, file->owned_.get() + done, file->size_ - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot read", path);
    if (n == 0) return absl::DataLossError(absl::StrFormat("'%s' shrank while being read", path));
    done += static_cast<size_t>(n);
  }
  file->data_ = file->owned_.get();
  return file;
}

MappedFile::~MappedFile() {
  if (mapped_ && data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace r1
