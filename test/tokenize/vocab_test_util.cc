#include "vocab_test_util.h"

#include <algorithm>
#include <filesystem>

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <mutex>
#include <sstream>

#include "support/test_util.h"

namespace r1::test {

std::string VocabDir() {
  const auto dir = SharedDir();
  return dir ? *dir + "/vocab" : std::string();
}

std::vector<std::string> SharedVocabFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(VocabDir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".gguf" && std::filesystem::exists(entry.path().string() + ".inp")) {
      files.push_back(name);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

const Tokenizer& SharedVocab(const std::string& file) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  std::lock_guard<std::mutex> lock(mu);
  auto it = loaded.find(file);
  if (it == loaded.end()) {
    auto tok = Tokenizer::Load(VocabDir() + "/" + file);
    INFO(file, ": ", tok.status().ToString());
    REQUIRE(tok.ok());
    it = loaded.emplace(file, std::move(*tok)).first;
  }
  return *it->second;
}

std::vector<VocabCase> ReadVocabCases(const std::string& gguf_path) {
  const auto inp = ReadFileBytes(gguf_path + ".inp");
  const auto out = ReadFileBytes(gguf_path + ".out");
  REQUIRE(inp.has_value());
  REQUIRE(out.has_value());
  const std::string all(inp->begin(), inp->end());
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<VocabCase> cases;
  size_t pos = 0;
  while (true) {
    const size_t hit = all.find(separator, pos);
    if (hit == std::string::npos) break;
    cases.push_back({all.substr(pos, hit - pos), {}});
    pos = hit + separator.size();
  }
  std::istringstream lines(std::string(out->begin(), out->end()));
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    REQUIRE(i < cases.size());
    std::istringstream ids(line);
    int32_t id;
    while (ids >> id) cases[i].ids.push_back(id);
    ++i;
  }
  REQUIRE(i == cases.size());
  return cases;
}

}  // namespace r1::test
