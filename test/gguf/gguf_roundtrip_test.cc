// Files built with GgufWriter read back with every value, array element and tensor view intact.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_test_bytes.h"
#include "gguf/gguf_writer.h"

namespace r1 {
namespace {

using test::RawGguf;

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

struct TensorSpec {
  std::string name;
  DType type;
  std::vector<uint64_t> ne;
  uint64_t n_bytes;
};

const std::vector<TensorSpec>& Specs() {
  static const std::vector<TensorSpec> specs = {
      {"t.f32", DType::kF32, {8, 3}, 96},
      {"t.f16", DType::kF16, {5}, 10},
      {"t.q4_0", DType::kQ4_0, {64, 2}, 2 * 2 * 18},
      {"t.q8_0", DType::kQ8_0, {32, 1, 2}, 2 * 34},
      {"t.i32", DType::kI32, {3, 1, 1, 2}, 24},
      {"t.q4_k", DType::kQ4_K, {256}, 144},
      {"t.bf16", DType::kBF16, {7, 1}, 14},
  };
  return specs;
}

// Every metadata type, with edge values.
void AddAllMetadata(GgufWriter& w) {
  R1_REQUIRE_OK(w.SetString("general.architecture", "qwen2"));
  R1_REQUIRE_OK(w.SetString("s.empty", ""));
  R1_REQUIRE_OK(w.SetString("s.unicode", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  R1_REQUIRE_OK(w.SetUint8("u8", 255));
  R1_REQUIRE_OK(w.SetInt8("i8", -128));
  R1_REQUIRE_OK(w.SetUint16("u16", 65535));
  R1_REQUIRE_OK(w.SetInt16("i16", -32768));
  R1_REQUIRE_OK(w.SetUint32("u32", 4000000000u));
  R1_REQUIRE_OK(w.SetInt32("i32", -2000000000));
  R1_REQUIRE_OK(w.SetUint64("u64", std::numeric_limits<uint64_t>::max()));
  R1_REQUIRE_OK(w.SetInt64("i64", std::numeric_limits<int64_t>::min()));
  R1_REQUIRE_OK(w.SetFloat32("f32", 1e-6f));
  R1_REQUIRE_OK(w.SetFloat64("f64", -2.5e300));
  R1_REQUIRE_OK(w.SetBool("b.true", true));
  R1_REQUIRE_OK(w.SetBool("b.false", false));
  R1_REQUIRE_OK(w.SetArray("a.u8", std::vector<uint8_t>{0, 1, 255}));
  R1_REQUIRE_OK(w.SetArray("a.i8", std::vector<int8_t>{-128, 0, 127}));
  R1_REQUIRE_OK(w.SetArray("a.u16", std::vector<uint16_t>{1, 65535}));
  R1_REQUIRE_OK(w.SetArray("a.i16", std::vector<int16_t>{-32768, 32767}));
  R1_REQUIRE_OK(w.SetArray("a.u32", std::vector<uint32_t>{7, 4000000000u}));
  R1_REQUIRE_OK(w.SetArray("a.i32", std::vector<int32_t>{-1, 2, -3}));
  R1_REQUIRE_OK(
      w.SetArray("a.u64", std::vector<uint64_t>{1, std::numeric_limits<uint64_t>::max()}));
  R1_REQUIRE_OK(w.SetArray("a.i64", std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 5}));
  R1_REQUIRE_OK(w.SetArray("a.f32", std::vector<float>{0.5f, -1.25f, 3e38f}));
  R1_REQUIRE_OK(w.SetArray("a.f64", std::vector<double>{1e-300, -0.0}));
  R1_REQUIRE_OK(w.SetBoolArray("a.bool", {true, false, true}));
  R1_REQUIRE_OK(w.SetStringArray("a.str", std::vector<std::string>{"!", "", "\xc4\xa0t", "<s>"}));
  R1_REQUIRE_OK(w.SetArray("a.empty", std::vector<float>{}));
  R1_REQUIRE_OK(w.SetStringArray("a.str_empty", std::vector<std::string_view>{}));
}

void CheckAllMetadata(const GgufFile& f) {
  CHECK(*f.GetString("general.architecture") == "qwen2");
  CHECK(f.GetString("s.empty")->empty());
  CHECK(*f.GetString("s.unicode") == "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(*f.GetUint("u8") == 255);
  CHECK(*f.GetInt("u8") == 255);
  CHECK(*f.GetInt("i8") == -128);
  CHECK(*f.GetUint("u16") == 65535);
  CHECK(*f.GetInt("i16") == -32768);
  CHECK(*f.GetUint("u32") == 4000000000u);
  CHECK(*f.GetInt("i32") == -2000000000);
  CHECK(*f.GetUint("u64") == std::numeric_limits<uint64_t>::max());
  CHECK(*f.GetInt("i64") == std::numeric_limits<int64_t>::min());
  CHECK(*f.GetFloat("f32") == doctest::Approx(1e-6).epsilon(1e-7));
  CHECK(*f.GetFloat("f32") == static_cast<double>(1e-6f));
  CHECK(*f.GetFloat("f64") == -2.5e300);
  CHECK(*f.GetFloat("i32") == -2000000000.0);  // integers convert to floats
  CHECK(*f.GetBool("b.true") == true);
  CHECK(*f.GetBool("b.false") == false);

  const auto kv_u32 = f.Find("u32");
  REQUIRE(kv_u32 != nullptr);
  CHECK(kv_u32->type == GgufType::kUint32);
  CHECK(kv_u32->array == nullptr);

  auto arr = [&](const char* key, GgufType type, uint64_t size) -> const GgufArray& {
    const StatusOr<const GgufArray*> a = f.GetArray(key);
    REQUIRE_MESSAGE(a.ok(), key);
    CHECK((*a)->type() == type);
    CHECK((*a)->size() == size);
    CHECK(f.Find(key)->array == *a);
    return **a;
  };
  const GgufArray& u8 = arr("a.u8", GgufType::kUint8, 3);
  CHECK(*u8.IntAt(2) == 255);
  CHECK(u8.data()[1] == 1);
  CHECK(*arr("a.i8", GgufType::kInt8, 3).IntAt(0) == -128);
  CHECK(*arr("a.u16", GgufType::kUint16, 2).IntAt(1) == 65535);
  CHECK(*arr("a.i16", GgufType::kInt16, 2).IntAt(0) == -32768);
  CHECK(*arr("a.u32", GgufType::kUint32, 2).IntAt(1) == 4000000000ll);
  const GgufArray& i32 = arr("a.i32", GgufType::kInt32, 3);
  CHECK(*i32.IntAt(0) == -1);
  CHECK(*i32.IntAt(2) == -3);
  CHECK(*i32.FloatAt(1) == 2.0);
  int32_t raw[3];
  std::memcpy(raw, i32.data(), sizeof(raw));
  CHECK(raw[1] == 2);
  const GgufArray& u64 = arr("a.u64", GgufType::kUint64, 2);
  CHECK(*u64.IntAt(0) == 1);
  CHECK(u64.IntAt(1).status().code() == absl::StatusCode::kOutOfRange);  // above int64
  CHECK(*arr("a.i64", GgufType::kInt64, 2).IntAt(0) == std::numeric_limits<int64_t>::min());
  const GgufArray& f32 = arr("a.f32", GgufType::kFloat32, 3);
  CHECK(*f32.FloatAt(1) == -1.25);
  CHECK(*f32.FloatAt(2) == static_cast<double>(3e38f));
  CHECK(!f32.IntAt(0).ok());
  const GgufArray& f64 = arr("a.f64", GgufType::kFloat64, 2);
  CHECK(*f64.FloatAt(0) == 1e-300);
  CHECK(std::signbit(*f64.FloatAt(1)));
  const GgufArray& b = arr("a.bool", GgufType::kBool, 3);
  CHECK(*b.IntAt(0) == 1);
  CHECK(*b.IntAt(1) == 0);
  const GgufArray& s = arr("a.str", GgufType::kString, 4);
  CHECK(*s.StringAt(0) == "!");
  CHECK(s.StringAt(1)->empty());
  CHECK(*s.StringAt(2) == "\xc4\xa0t");
  CHECK(*s.StringAt(3) == "<s>");
  CHECK(s.StringAt(4).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(!s.IntAt(0).ok());
  CHECK(!s.FloatAt(0).ok());
  CHECK(!f32.StringAt(0).ok());
  arr("a.empty", GgufType::kFloat32, 0);
  CHECK(!arr("a.str_empty", GgufType::kString, 0).StringAt(0).ok());
}

void AddTensors(GgufWriter& w) {
  uint8_t seed = 1;
  for (const TensorSpec& t : Specs()) {
    R1_REQUIRE_OK(w.AddTensor(t.name, t.type, t.ne, Pattern(t.n_bytes, seed++)));
  }
}

void CheckTensors(const GgufFile& f) {
  REQUIRE(f.tensors().size() == Specs().size());
  uint8_t seed = 1;
  for (size_t i = 0; i < Specs().size(); ++i) {
    const TensorSpec& spec = Specs()[i];
    INFO("tensor ", spec.name);
    const GgufTensorInfo* t = f.FindTensor(spec.name);
    REQUIRE(t != nullptr);
    CHECK(t == &f.tensors()[i]);  // table order is insertion order
    CHECK(t->name == spec.name);
    CHECK(t->type == spec.type);
    CHECK(t->n_dims == spec.ne.size());
    uint64_t n = 1;
    for (uint32_t d = 0; d < 4; ++d) {
      const uint64_t want = d < spec.ne.size() ? spec.ne[d] : 1;
      CHECK(t->ne[d] == want);
      n *= want;
    }
    CHECK(t->n_elements == n);
    CHECK(t->n_bytes == spec.n_bytes);
    CHECK(t->file_offset % f.alignment() == 0);
    CHECK(t->file_offset >= f.data_offset());
    CHECK(t->data == f.bytes().data() + t->file_offset);
    const std::vector<uint8_t> want = Pattern(spec.n_bytes, seed++);
    CHECK(std::memcmp(t->data, want.data(), want.size()) == 0);
  }
  CHECK(f.FindTensor("t.absent") == nullptr);
}

TEST_SUITE("gguf") {

TEST_CASE("round trip: every value type and tensor type, v2 and v3, several alignments") {
  for (uint32_t version : {2u, 3u}) {
    for (uint32_t alignment : {0u, 1u, 8u, 32u, 64u, 4096u}) {  // 0: leave the default
      INFO("version ", version, " alignment ", alignment);
      GgufWriter w;
      R1_REQUIRE_OK(w.SetVersion(version));
      if (alignment != 0) R1_REQUIRE_OK(w.SetAlignment(alignment));
      AddAllMetadata(w);
      AddTensors(w);
      const StatusOr<std::vector<uint8_t>> bytes = w.Serialize();
      R1_REQUIRE_OK(bytes.status());
      CHECK(bytes->size() == *w.FileSize());

      const auto f = GgufFile::FromBuffer(*bytes);
      R1_REQUIRE_OK(f.status());
      CHECK((*f)->version() == version);
      CHECK((*f)->alignment() == (alignment == 0 ? 32 : alignment));
      CHECK((*f)->data_offset() % (*f)->alignment() == 0);
      CHECK((*f)->path() == "<buffer>");
      CHECK((*f)->metadata().size() == w.kv_count());
      CheckAllMetadata(**f);
      CheckTensors(**f);
    }
  }
}

TEST_CASE("metadata keeps insertion order; setting a key again replaces it in place") {
  GgufWriter w;
  R1_REQUIRE_OK(w.SetUint32("k.first", 1));
  R1_REQUIRE_OK(w.SetString("k.second", "two"));
  R1_REQUIRE_OK(w.SetUint32("k.third", 3));
  R1_REQUIRE_OK(w.SetFloat32("k.second", 2.0f));  // new type, same position
  CHECK(w.kv_count() == 3);
  CHECK(w.HasKey("k.second"));
  CHECK(!w.HasKey("k.fourth"));
  const auto bytes = w.Serialize();
  R1_REQUIRE_OK(bytes.status());
  const auto f = GgufFile::FromBuffer(*bytes);
  R1_REQUIRE_OK(f.status());
  const auto md = (*f)->metadata();
  REQUIRE(md.size() == 3);
  CHECK(md[0].key == "k.first");
  CHECK(md[1].key == "k.second");
  CHECK(md[1].type == GgufType::kFloat32);
  CHECK(md[2].key == "k.third");
  CHECK(*(*f)->GetFloat("k.second") == 2.0);
  CHECK((*f)->tensors().empty());
}

TEST_CASE("typed getters: conversions, range checks, wrong types and absent keys") {
  GgufWriter w;
  R1_REQUIRE_OK(w.SetInt32("neg", -5));
  R1_REQUIRE_OK(w.SetUint64("big", uint64_t{1} << 63));
  R1_REQUIRE_OK(w.SetString("name", "x"));
  R1_REQUIRE_OK(w.SetBool("flag", true));
  R1_REQUIRE_OK(w.SetFloat32("eps", 0.5f));
  R1_REQUIRE_OK(w.SetArray("list", std::vector<int32_t>{1}));
  const auto bytes = w.Serialize();
  R1_REQUIRE_OK(bytes.status());
  const auto fo = GgufFile::FromBuffer(*bytes);
  R1_REQUIRE_OK(fo.status());
  const GgufFile& f = **fo;

  CHECK(*f.GetInt("neg") == -5);
  CHECK(*f.GetFloat("neg") == -5.0);
  const Status neg = f.GetUint("neg").status();
  CHECK(!neg.ok());
  CHECK(std::string(neg.message()).find("'neg'") != std::string::npos);
  CHECK(*f.GetUint("big") == uint64_t{1} << 63);
  CHECK(!f.GetInt("big").ok());  // does not fit in int64
  CHECK(*f.GetFloat("eps") == 0.5);

  struct Wrong {
    Status status;
    const char* type;
  };
  for (const Wrong& c : {Wrong{f.GetInt("name").status(), "string"},
                         Wrong{f.GetUint("eps").status(), "float32"},
                         Wrong{f.GetFloat("flag").status(), "bool"},
                         Wrong{f.GetBool("neg").status(), "int32"},
                         Wrong{f.GetString("list").status(), "array"},
                         Wrong{f.GetArray("name").status(), "string"},
                         Wrong{f.GetInt("flag").status(), "bool"}}) {
    const std::string msg(c.status.message());
    INFO(msg);
    CHECK(c.status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(msg.find(c.type) != std::string::npos);
    CHECK(msg.find("key '") != std::string::npos);
  }
  for (const Status& s : {f.GetString("absent").status(), f.GetInt("absent").status(),
                          f.GetUint("absent").status(), f.GetFloat("absent").status(),
                          f.GetBool("absent").status(), f.GetArray("absent").status()}) {
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(std::string(s.message()).find("'absent'") != std::string::npos);
  }
  CHECK(f.Find("absent") == nullptr);
  CHECK(!f.Has("absent"));
  CHECK(f.Has("neg"));
}

TEST_CASE("nested arrays are validated and skipped; the keys after them still read") {
  RawGguf r;
  r.Header(3, 0, 3);
  r.Str("nested").Type(GgufType::kArray).Type(GgufType::kArray).U64(2);
  r.Type(GgufType::kUint16).U64(2).U32(0x00020001);                   // [1, 2]
  r.Type(GgufType::kString).U64(2).Str("a").Str("bc");                // ["a", "bc"]
  r.Str("deep").Type(GgufType::kArray).Type(GgufType::kArray).U64(1);
  r.Type(GgufType::kArray).U64(1).Type(GgufType::kInt8).U64(1).U8(7);  // [[[7]]]
  r.Str("after").Type(GgufType::kUint32).U32(42);
  const auto f = GgufFile::FromBuffer(r.b);
  R1_REQUIRE_OK(f.status());
  const GgufArray* a = *(*f)->GetArray("nested");
  CHECK(a->type() == GgufType::kArray);
  CHECK(a->size() == 2);
  CHECK(!a->IntAt(0).ok());
  CHECK(!a->FloatAt(0).ok());
  CHECK(!a->StringAt(0).ok());
  CHECK((*(*f)->GetArray("deep"))->size() == 1);
  CHECK(*(*f)->GetUint("after") == 42);
}

TEST_CASE("a file without tensors may end without padding") {
  RawGguf r;
  r.Header(3, 0, 1).Str("general.name").Type(GgufType::kString).Str("x");
  const auto f = GgufFile::FromBuffer(r.b);
  R1_REQUIRE_OK(f.status());
  CHECK((*f)->data_offset() == r.b.size());
  CHECK((*f)->tensors().empty());
}

TEST_CASE("an empty file: no keys and no tensors") {
  GgufWriter w;
  const auto bytes = w.Serialize();
  R1_REQUIRE_OK(bytes.status());
  CHECK(bytes->size() == 24);
  const auto f = GgufFile::FromBuffer(*bytes);
  R1_REQUIRE_OK(f.status());
  CHECK((*f)->metadata().empty());
  CHECK((*f)->tensors().empty());
}

}  // TEST_SUITE

}  // namespace
}  // namespace r1
