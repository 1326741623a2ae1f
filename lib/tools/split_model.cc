// split_model.cc — SplitModel: plan the shards, then write each through a temporary file.
#include "tools/split_model.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "gguf/gguf_copy.h"
#include "gguf/gguf_split.h"
#include "gguf/gguf_writer.h"
#include "tools/output_file.h"

namespace r1::tools {
namespace {

// Tensor index ranges [begin, end) of each shard.
std::vector<std::pair<size_t, size_t>> PlanShards(const GgufFile& model, const SplitOptions& options) {
  std::vector<std::pair<size_t, size_t>> shards;
  const auto& tensors = model.tensors();
  size_t begin = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const bool full_by_count = options.max_tensors > 0 && static_cast<int64_t>(i - begin) >= options.max_tensors;
    const bool full_by_size = options.max_bytes > 0 && i > begin && bytes + tensors[i].n_bytes > options.max_bytes;
    if (full_by_count || full_by_size) {
      shards.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += tensors[i].n_bytes;
  }
  shards.emplace_back(begin, tensors.size());
  return shards;
}

Status SetSplitKeys(GgufWriter& w, size_t index, size_t count, size_t n_tensors) {
  R1_RETURN_IF_ERROR(w.SetUint16("split.no", static_cast<uint16_t>(index)));
  R1_RETURN_IF_ERROR(w.SetUint16("split.count", static_cast<uint16_t>(count)));
  return w.SetInt32("split.tensors.count", static_cast<int32_t>(n_tensors));
}

}  // namespace

StatusOr<std::vector<std::string>> SplitModel(const std::string& in, const std::string& out_prefix,
                                              const SplitOptions& options) {
  if (options.max_tensors <= 0 && options.max_bytes == 0) {
    return absl::InvalidArgumentError("split: give a maximum number of tensors or bytes per shard");
  }
  if (out_prefix.empty()) return absl::InvalidArgumentError("split: the output prefix is empty");
  R1_ASSIGN_OR_RETURN(GgufModelFiles files, OpenGgufModelFiles(in));
  const GgufFile& model = files.model();
  const auto plan = PlanShards(model, options);
  if (plan.size() > static_cast<size_t>(kMaxSplitCount)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("split: %d shards would be needed (at most %d)", plan.size(), kMaxSplitCount));
  }
  if (model.tensors().size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("split: too many tensors for split.tensors.count");
  }
  std::vector<std::string> outs;
  for (size_t s = 0; s < plan.size(); ++s) {
    outs.push_back(SplitPath(out_prefix, static_cast<int>(s), static_cast<int>(plan.size())));
    R1_RETURN_IF_ERROR(CheckOutputPath(outs.back(), files.paths, options.overwrite));
  }
  for (size_t s = 0; s < plan.size(); ++s) {
    GgufWriter w;
    R1_RETURN_IF_ERROR(w.SetAlignment(static_cast<uint32_t>(model.alignment())));
    if (s == 0) {
      for (const GgufKeyValue& kv : model.metadata()) {
        if (kv.key == "general.alignment" || kv.key.starts_with("split.")) continue;
        R1_RETURN_IF_ERROR(CopyKeyValue(model, kv, w));
      }
    }
    R1_RETURN_IF_ERROR(SetSplitKeys(w, s, plan.size(), model.tensors().size()));
    for (size_t i = plan[s].first; i < plan[s].second; ++i) {
      const GgufTensorInfo& t = model.tensors()[i];
      const std::vector<uint64_t> ne(t.ne, t.ne + t.n_dims);
      R1_RETURN_IF_ERROR(w.AddTensorView(t.name, t.type, ne, {t.data, t.n_bytes}));
    }
    if (Status st = WriteGgufFile(w, outs[s], options.overwrite); !st.ok()) {
      // Half a model is no model: remove the shards this call wrote.
      for (size_t k = 0; k < s; ++k) std::remove(outs[k].c_str());
      return st;
    }
  }
  return outs;
}

}  // namespace r1::tools
