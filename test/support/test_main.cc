// test_main.cc — doctest's main, with the "skip when ../shared is absent" rule.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "kernels/isa.h"
#include "support/test_util.h"

namespace r1::test {
bool NeedsSharedDir();
}

int main(int argc, char** argv) {
  if (r1::test::NeedsSharedDir() && !r1::test::SharedDir()) {
    const char* dir = std::getenv("R1_SHARED_DIR");
    std::fprintf(stderr,
                 "SKIPPED: this suite needs the shared test-data folder, not found at '%s' "
                 "(configure with -Dshared_dir=PATH)\n",
                 dir ? dir : "(R1_SHARED_DIR unset)");
    return 77;  // Meson reports exit status 77 as a skipped test
  }
  if (const char* isa_name = std::getenv("R1_ISA")) {
    const auto isa = r1::ParseIsa(isa_name);
    if (!isa || !r1::IsaSupported(*isa)) {
      std::fprintf(stderr, "SKIPPED: R1_ISA=%s is not built or not supported by this CPU\n", isa_name);
      return 77;
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
