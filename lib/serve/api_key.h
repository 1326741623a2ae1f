// serve/api_key.h — checking the client's API key ("Authorization: Bearer KEY").
#pragma once

#include <string_view>

namespace r1::serve {

// Whether the Authorization header value carries `key`. The comparison takes the same time
// wherever the first difference is, so response times do not reveal the key byte by byte.
bool ApiKeyMatches(std::string_view authorization, std::string_view key);

}  // namespace r1::serve
