// output_file.h — writing a tool's output file without damaging an input or an existing file.
//
// A converter reads its input in place (mmap) while it writes: writing over the input would
// destroy the data being read, and a half-written file under the final name looks like a
// model. So the output is checked before any work and written to a fresh temporary file next
// to it, which becomes the output only once complete.
#pragma once

#include <string>

#include "absl/types/span.h"
#include "gguf/gguf_writer.h"
#include "r1/status.h"

namespace r1::tools {

// Refuses an `out` that is the same file as one of `inputs` (compared by device and inode, so
// the same path, hard links and symbolic links all count): InvalidArgument. Refuses an `out`
// that exists when `overwrite` is false: AlreadyExists. Refuses a directory.
Status CheckOutputPath(const std::string& out, absl::Span<const std::string> inputs, bool overwrite);

// Writes `writer`'s file to a temporary file in out's directory and renames it to `out`; without
// `overwrite` an `out` that appeared meanwhile is left alone (AlreadyExists). On failure no
// temporary file is left. Errors name `out`, never the temporary file.
Status WriteGgufFile(const GgufWriter& writer, const std::string& out, bool overwrite);

}  // namespace r1::tools
