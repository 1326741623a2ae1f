// r1 quantize's promises about files: never over its input, never over an existing file
// unless asked, no temporary file left after a failure, and no requantizing unless asked, so
// general.file_type always describes the tensors written.
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gguf/gguf_reader.h"
#include "r1/model.h"
#include "r1/session.h"
#include "support/test_util.h"
#include "tools/model_tools.h"

namespace r1::tools {
namespace {

R1_TEST_NEEDS_SHARED_DIR();

// A fresh empty directory, removed with what is in it at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = absl::StrFormat("/tmp/r1_quantize_safety_%d_XXXXXX", static_cast<int>(getpid()));
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
    REQUIRE(!path_.empty());
  }
  ~ScratchDir() {
    for (const std::string& name : Names()) std::remove((path_ + "/" + name).c_str());
    rmdir(path_.c_str());
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  std::set<std::string> Names() const {
    std::set<std::string> out;
    if (DIR* d = opendir(path_.c_str())) {
      while (dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") out.insert(name);
      }
      closedir(d);
    }
    return out;
  }

 private:
  std::string path_;
};

std::string F16Model() { return *test::SharedDir() + "/reference/qwen2-dev.F16.gguf"; }

QuantizeOptions TwoThreads() {
  QuantizeOptions o;
  o.n_threads = 2;
  return o;
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_SUITE("tools") {
  TEST_CASE("quantize refuses to write over its input, by any name") {
    ScratchDir dir;
    const std::string in = dir / "in.gguf";
    REQUIRE(QuantizeModel(F16Model(), in, *ParseQuantScheme("F16"), TwoThreads()).ok());
    const std::string before = ReadText(in);
    REQUIRE(link(in.c_str(), (dir / "hard.gguf").c_str()) == 0);
    REQUIRE(symlink("in.gguf", (dir / "soft.gguf").c_str()) == 0);
    QuantizeOptions o = TwoThreads();
    o.overwrite = true;
    for (const std::string& out : {in, dir / "./in.gguf", dir / "hard.gguf", dir / "soft.gguf"}) {
      INFO(out);
      const Status s = QuantizeModel(in, out, *ParseQuantScheme("Q8_0"), o);
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(s.message().find("is the input file") != std::string_view::npos);
    }
    CHECK(ReadText(in) == before);
    CHECK(dir.Names() == std::set<std::string>{"in.gguf", "hard.gguf", "soft.gguf"});
  }

  TEST_CASE("quantize replaces an existing output only when allowed to") {
    ScratchDir dir;
    const std::string out = dir / "out.gguf";
    WriteText(out, "keep me");
    QuantizeOptions o = TwoThreads();
    const Status s = QuantizeModel(F16Model(), out, *ParseQuantScheme("Q8_0"), o);
    CHECK(s.code() == absl::StatusCode::kAlreadyExists);
    CHECK(s.message().find(out) != std::string_view::npos);
    CHECK(ReadText(out) == "keep me");
    o.overwrite = true;
    REQUIRE(QuantizeModel(F16Model(), out, *ParseQuantScheme("Q8_0"), o).ok());
    CHECK(GgufFile::Open(out).ok());
    CHECK(dir.Names() == std::set<std::string>{"out.gguf"});
  }

  TEST_CASE("a failed write leaves no temporary file, keeps the old output, names the output") {
    ScratchDir dir;
    const std::string out = dir / "out.gguf";
    WriteText(out, "old");
    // Writes past 64 KiB fail with EFBIG (the signal that would kill the process is ignored).
    struct rlimit saved;
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    struct rlimit small = saved;
    small.rlim_cur = 64 * 1024;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    QuantizeOptions o = TwoThreads();
    o.overwrite = true;
    const Status s = QuantizeModel(F16Model(), out, *ParseQuantScheme("Q8_0"), o);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);
    REQUIRE_FALSE(s.ok());
    INFO(s.ToString());
    CHECK(s.message().find("'" + out + "'") != std::string_view::npos);
    CHECK(s.message().find(".tmp") == std::string_view::npos);
    CHECK(s.message().find("/.out.gguf") == std::string_view::npos);
    CHECK(ReadText(out) == "old");
    CHECK(dir.Names() == std::set<std::string>{"out.gguf"});
  }

  TEST_CASE("an already quantized file is requantized only on request, and labelled as written") {
    ScratchDir dir;
    const std::string q8 = dir / "q8.gguf", q4 = dir / "q4.gguf";
    REQUIRE(QuantizeModel(F16Model(), q8, *ParseQuantScheme("Q8_0"), TwoThreads()).ok());

    QuantizeOptions o = TwoThreads();
    int warnings = 0;
    o.on_warning = [&](const std::string& message) {
      ++warnings;
      CHECK(message.find("loses quality") != std::string::npos);
    };
    const Status refused = QuantizeModel(q8, q4, *ParseQuantScheme("Q4_0"), o);
    CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(refused.message().find("already quantized") != std::string_view::npos);
    CHECK(warnings == 0);
    CHECK(dir.Names() == std::set<std::string>{"q8.gguf"});

    o.allow_requantize = true;
    const Status s = QuantizeModel(q8, q4, *ParseQuantScheme("Q4_0"), o);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    CHECK(warnings == 1);
    auto f = GgufFile::Open(q4);
    REQUIRE(f.ok());
    CHECK(*(*f)->GetInt("general.file_type") == 2);  // Q4_0
    int n_q4 = 0;
    for (const GgufTensorInfo& t : (*f)->tensors()) {
      INFO(t.name);
      if (t.n_dims < 2) {
        CHECK(t.type == DType::kF32);
      } else if (t.name == "output.weight") {
        CHECK(t.type == DType::kQ6_K);  // llama.cpp's rule for the output matrix
      } else {
        CHECK(t.type == DType::kQ4_0);
        ++n_q4;
      }
    }
    CHECK(n_q4 > 0);

    auto model = Model::Load(q4);
    REQUIRE_MESSAGE(model.ok(), model.status().ToString());
    SessionOptions so;
    so.n_threads = 2;
    auto session = Session::Create(*model, so);
    REQUIRE(session.ok());
    REQUIRE((*session)->Evaluate(std::vector<int32_t>{1, 5, 9, 17}).ok());
    for (float v : (*session)->Logits()) REQUIRE(std::isfinite(v));

    // Nothing to convert: the same type again needs no permission.
    CHECK(QuantizeModel(q8, dir / "q8b.gguf", *ParseQuantScheme("Q8_0"), TwoThreads()).ok());
  }

  TEST_CASE("quantize and mkmodel take 0 (all cores) or a bounded thread count") {
    ScratchDir dir;
    for (int n : {-1, 100000}) {
      INFO(n);
      QuantizeOptions o;
      o.n_threads = n;
      const Status s = QuantizeModel(F16Model(), dir / "out.gguf", *ParseQuantScheme("Q8_0"), o);
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(s.message().find(std::to_string(n)) != std::string_view::npos);
      MkModelOptions m;
      m.n_threads = n;
      m.n_layers = 1;
      CHECK(MakeSyntheticModel(*FindPreset("r1-distill-qwen-1.5b"), *ParseQuantScheme("Q8_0"), dir / "mk.gguf", m)
                .code() == absl::StatusCode::kInvalidArgument);
    }
    CHECK(dir.Names().empty());
  }
}

}  // namespace
}  // namespace r1::tools
