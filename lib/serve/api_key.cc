#include "serve/api_key.h"

#include <cstddef>

namespace r1::serve {

bool ApiKeyMatches(std::string_view authorization, std::string_view key) {
  constexpr std::string_view kScheme = "Bearer ";
  const bool has_scheme = authorization.starts_with(kScheme);
  const std::string_view given = has_scheme ? authorization.substr(kScheme.size()) : authorization;
  // Every byte of the key is compared whatever the given length; only the key's length,
  // which is not secret in practice, shapes the timing.
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(key[i]);
  }
  // Volatile keeps the compiler from turning the loop into an early-exit comparison.
  volatile unsigned char result = diff;
  return has_scheme && !key.empty() && result == 0;
}

}  // namespace r1::serve
