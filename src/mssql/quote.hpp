#pragma once
// Quoting for the few places T-SQL cannot take a parameter.
//
// Prefer parameters: BACKUP DATABASE @db TO DISK = @path, sp_executesql values, procedure
// arguments all take `?` markers. Quoting is needed only where T-SQL wants an identifier
// (USE [db], ALTER TABLE [s].[t] ...) and, as literals, inside text that is itself shown to
// the user before it runs (`plan` prints the statements; core/tsql.hpp generates those).
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace m2r::mssql {

// SQL Server's identifier limit (sysname = nvarchar(128)); QUOTENAME returns NULL beyond it.
inline constexpr std::size_t k_max_identifier_length = 128;

// Exactly QUOTENAME(name): '[' + name with every ']' doubled + ']'. The limit is 128
// characters as SQL Server counts them (UTF-16 code units of the UTF-8 input), checked
// before doubling, as QUOTENAME does. Longer names are invalid input.
Expected<std::string> quote_name(std::string_view name);

// N'text' with every ' doubled. Only for values that cannot be parameters; the result is
// safe to embed in a batch (N'' literals have no other escape in T-SQL).
std::string quote_string_literal(std::string_view text);

// Number of UTF-16 code units `utf8` encodes to (invalid bytes count as one each).
std::size_t utf16_length(std::string_view utf8);

}  // namespace m2r::mssql
