#pragma once
// ASCII case folding, for the names and keywords that compare without case: SQL Server object
// and principal names under its default collations, HTTP header names and URL schemes, AWS
// configuration keys, ODBC type names. Not for user text (no locale, no Unicode folding).
#include <string>
#include <string_view>

namespace m2r {

std::string ascii_lower(std::string_view text);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
bool icontains(std::string_view haystack, std::string_view needle);

}  // namespace m2r
