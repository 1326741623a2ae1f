// output_file.cc — output checks by inode, and a temporary file renamed into place.
#include "tools/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace r1::tools {
namespace {

// The directory part of `path` ("." for a bare name) and the name part.
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// `status` with every mention of the temporary file replaced by the output's name.
Status NamingOutput(const Status& status, const std::string& tmp, const std::string& out) {
  if (status.ok()) return status;
  std::string message(status.message());
  // The writer stages through "<tmp>.tmp" itself: replace the longer name first.
  absl::StrReplaceAll({{tmp + ".tmp", out}}, &message);
  absl::StrReplaceAll({{tmp, out}}, &message);
  return Status(status.code(), message);
}

Status Unavailable(const char* what, const std::string& out, int err) {
  return absl::UnavailableError(absl::StrFormat("cannot %s '%s': %s", what, out, std::strerror(err)));
}

}  // namespace

Status CheckOutputPath(const std::string& out, absl::Span<const std::string> inputs, bool overwrite) {
  if (out.empty()) return absl::InvalidArgumentError("the output path is empty");
  struct stat out_st;
  if (::stat(out.c_str(), &out_st) != 0) {
    // Nothing there (or a dangling link, which the rename replaces): nothing to lose.
    return absl::OkStatus();
  }
  for (const std::string& in : inputs) {
    struct stat in_st;
    if (::stat(in.c_str(), &in_st) == 0 && in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the output '%s' is the input file '%s': writing it would destroy the data being read; "
          "choose another output path",
          out, in));
    }
  }
  if (S_ISDIR(out_st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrFormat("the output '%s' is a directory", out));
  }
  if (!overwrite) {
    return absl::AlreadyExistsError(absl::StrFormat("the output '%s' already exists", out));
  }
  return absl::OkStatus();
}

Status WriteGgufFile(const GgufWriter& writer, const std::string& out, bool overwrite) {
  const auto [dir, name] = SplitPath(out);
  if (name.empty()) return absl::InvalidArgumentError(absl::StrFormat("the output '%s' names no file", out));
  // A hidden, unique name in the same directory, so the final rename stays on one file system.
  std::string tmp = absl::StrFormat("%s/.%s.XXXXXX", dir, name);
  std::vector<char> tmpl(tmp.begin(), tmp.end());
  tmpl.push_back('\0');
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Unavailable("create", out, errno);
  ::close(fd);
  tmp = tmpl.data();

  Status status = NamingOutput(writer.WriteToFile(tmp), tmp, out);
  if (status.ok()) {
    if (overwrite) {
      if (::rename(tmp.c_str(), out.c_str()) != 0) status = Unavailable("write", out, errno);
    } else if (::link(tmp.c_str(), out.c_str()) != 0) {
      // link() refuses an existing name atomically; a file system without hard links gets a
      // last check and a rename instead.
      const int err = errno;
      struct stat st;
      if (err == EEXIST || ::lstat(out.c_str(), &st) == 0) {
        status = absl::AlreadyExistsError(absl::StrFormat("the output '%s' already exists", out));
      } else if (err != EPERM && err != ENOTSUP && err != ENOSYS) {
        status = Unavailable("write", out, err);
      } else if (::rename(tmp.c_str(), out.c_str()) != 0) {
        status = Unavailable("write", out, errno);
      }
    }
  }
  // After a rename the temporary name is gone already; after a link it is a second name.
  ::unlink(tmp.c_str());
  return status;
}

}  // namespace r1::tools
