#pragma once
// UTF-8 <-> UTF-16 for the ODBC wide-character API (SQLWCHAR is 16 bits in unixODBC), so
// nvarchar text round-trips whatever the locale or the driver's client charset.
#include <string>
#include <string_view>

namespace m2r::mssql {

// Invalid UTF-8 bytes become U+FFFD.
std::u16string utf8_to_utf16(std::string_view utf8);
// Unpaired surrogates become U+FFFD.
std::string utf16_to_utf8(std::u16string_view utf16);

}  // namespace m2r::mssql
