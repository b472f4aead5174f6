#include "mssql/quote.hpp"

#include <fmt/format.h>

namespace m2r::mssql {

std::size_t utf16_length(std::string_view utf8) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    std::size_t len = 1;
    if (c >= 0xF0 && c <= 0xF4) {
      len = 4;  // outside the BMP: a surrogate pair
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC2 && c < 0xE0) {
      len = 2;
    }
    if (i + len > utf8.size()) len = 1;
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return units;
}

Expected<std::string> quote_name(std::string_view name) {
  if (utf16_length(name) > k_max_identifier_length) {
    return fail(ErrorKind::invalid_input,
                fmt::format("the name '{}...' is longer than {} characters", name.substr(0, 24), k_max_identifier_length),
                "SQL Server names (databases, schemas, tables) are at most 128 characters; check the name in the config");
  }
  std::string out;
  out.reserve(name.size() + 2);
  out += '[';
  for (char c : name) {
    out += c;
    if (c == ']') out += ']';
  }
  out += ']';
  return out;
}

std::string quote_string_literal(std::string_view text) {
  std::string out = "N'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  out += '\'';
  return out;
}

}  // namespace m2r::mssql
