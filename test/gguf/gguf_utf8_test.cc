// The strict UTF-8 check the reader applies to every key, string and tensor name.
#include <doctest/doctest.h>

#include <string>

#include "gguf/gguf_reader.h"

namespace r1 {
namespace {

using gguf_internal::IsValidUtf8;

TEST_SUITE("gguf") {

TEST_CASE("UTF-8: valid sequences") {
  for (const char* s :
       {"", "plain ascii, longer than eight bytes", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80",
        "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "\xc4\xa0the", "abcdefgh\xc3\xa9"}) {
    INFO(s);
    CHECK(IsValidUtf8(s));
  }
  CHECK(IsValidUtf8(std::string("nul\0inside", 10)));
}

TEST_CASE("UTF-8: invalid sequences") {
  for (const char* s : {
           "\x80",              // lone continuation byte
           "abcdefgh\xbf",      // after the ASCII fast path
           "\xc0\x80",          // overlong NUL
           "\xc1\xbf",          // overlong
           "\xe0\x80\x80",      // overlong 3-byte
           "\xe0\x9f\xbf",      // overlong 3-byte
           "\xf0\x80\x80\x80",  // overlong 4-byte
           "\xf0\x8f\xbf\xbf",  // overlong 4-byte
           "\xed\xa0\x80",      // surrogate U+D800
           "\xed\xbf\xbf",      // surrogate U+DFFF
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf5\x80\x80\x80",  // lead byte past F4
           "\xff",              //
           "\xe2\x82",          // truncated
           "\xf0\x9f\x98",      // truncated
           "\xe2\x28\xa1",      // bad continuation
           "\xc3\xa9\xc3",      // valid then truncated
       }) {
    INFO(s);
    CHECK(!IsValidUtf8(s));
  }
}

}  // TEST_SUITE

}  // namespace
}  // namespace r1
