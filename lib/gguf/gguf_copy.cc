// gguf_copy.cc — one metadata entry of a read file, set again on a writer.
#include "gguf/gguf_copy.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"

namespace r1 {

namespace {

template <typename T>
Status CopyNumbers(GgufWriter& w, std::string_view key, const GgufArray& a) {
  std::vector<T> v(a.size());
  if (!v.empty()) std::memcpy(v.data(), a.data(), v.size() * sizeof(T));
  return w.SetArray(key, absl::Span<const T>(v));
}

}  // namespace

Status CopyKeyValue(const GgufFile& f, const GgufKeyValue& kv, GgufWriter& w) {
  auto load = [&](auto v) {
    std::memcpy(&v, kv.value, sizeof(v));
    return v;
  };
  switch (kv.type) {
    case GgufType::kUint8: return w.SetUint8(kv.key, load(uint8_t{}));
    case GgufType::kInt8: return w.SetInt8(kv.key, load(int8_t{}));
    case GgufType::kUint16: return w.SetUint16(kv.key, load(uint16_t{}));
    case GgufType::kInt16: return w.SetInt16(kv.key, load(int16_t{}));
    case GgufType::kUint32: return w.SetUint32(kv.key, load(uint32_t{}));
    case GgufType::kInt32: return w.SetInt32(kv.key, load(int32_t{}));
    case GgufType::kUint64: return w.SetUint64(kv.key, load(uint64_t{}));
    case GgufType::kInt64: return w.SetInt64(kv.key, load(int64_t{}));
    case GgufType::kFloat32: return w.SetFloat32(kv.key, load(float{}));
    case GgufType::kFloat64: return w.SetFloat64(kv.key, load(double{}));
    case GgufType::kBool: return w.SetBool(kv.key, kv.value[0] != 0);
    case GgufType::kString: {
      R1_ASSIGN_OR_RETURN(std::string_view s, f.GetString(kv.key));
      return w.SetString(kv.key, s);
    }
    case GgufType::kArray: break;
  }
  const GgufArray& a = *kv.array;
  switch (a.type()) {
    case GgufType::kUint8: return CopyNumbers<uint8_t>(w, kv.key, a);
    case GgufType::kInt8: return CopyNumbers<int8_t>(w, kv.key, a);
    case GgufType::kUint16: return CopyNumbers<uint16_t>(w, kv.key, a);
    case GgufType::kInt16: return CopyNumbers<int16_t>(w, kv.key, a);
    case GgufType::kUint32: return CopyNumbers<uint32_t>(w, kv.key, a);
    case GgufType::kInt32: return CopyNumbers<int32_t>(w, kv.key, a);
    case GgufType::kUint64: return CopyNumbers<uint64_t>(w, kv.key, a);
    case GgufType::kInt64: return CopyNumbers<int64_t>(w, kv.key, a);
    case GgufType::kFloat32: return CopyNumbers<float>(w, kv.key, a);
    case GgufType::kFloat64: return CopyNumbers<double>(w, kv.key, a);
    case GgufType::kBool: {
      std::vector<bool> v(a.size());
      for (uint64_t i = 0; i < a.size(); ++i) v[i] = a.data()[i] != 0;
      return w.SetBoolArray(kv.key, v);
    }
    case GgufType::kString: {
      std::vector<std::string_view> v(a.size());
      for (uint64_t i = 0; i < a.size(); ++i) {
        R1_ASSIGN_OR_RETURN(v[i], a.StringAt(i));
      }
      return w.SetStringArray(kv.key, v);
    }
    default:
      return absl::UnimplementedError(absl::StrFormat("metadata '%s': nested arrays are not copied", kv.key));
  }
}

}  // namespace r1
