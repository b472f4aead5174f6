#pragma once
// Typed arithmetic, comparison and conversion behind T-SQL expressions (README.md "Types and
// values"). SQLite has no decimal, no integer overflow and no conversion errors; the
// translator (translate.cpp) knows each operand's T-SQL type where it can and calls these SQL
// functions with the types as text, so values stay exact and SQL Server's errors are raised:
//
//   m2r_op(op, a, b, type_a, type_b, result_type)   + - * / %  (8134, 8115, 245, 8114)
//   m2r_cast(x, source_type, target_type)           CAST/CONVERT (245, 8114, 8115, 241, 242)
//   m2r_assign(x, source_type, column_type, table, column)
//                                                    a value stored into a column (plus 2628)
//   m2r_cmp(a, b, type_a, type_b)                   -1/0/1, exact for wide decimals
//   m2r_dec_sum(x, type), m2r_dec_avg(x, type), m2r_dec_min/max(x, type)   exact aggregates
//
// A type is its T-SQL text ("decimal(25,0)", "int", "nvarchar(10)") or "?" when unknown.
// A decimal value lives in SQLite as INTEGER or REAL when its precision is at most 15 (a
// double holds 15 digits exactly) and as exact TEXT above.
#include <optional>
#include <string>

#include <sqlite3.h>

#include "engine/api.hpp"

namespace sandbox::engine {

void register_value_functions(sqlite3* db);

// Canonical text of a date/time literal for a date/time type (datetime rounds to 1/300 s,
// smalldatetime to the minute, date drops the time, time(n)/datetime2(n) keep n digits,
// datetimeoffset(n) keeps its offset "+hh:mm"). nullopt when SQL Server would raise 241.
// Accepts 'YYYYMMDD[ hh:mm[:ss[.f...]]]', 'YYYY-MM-DD[T| ]hh:mm[:ss[.f...]]', 'hh:mm[:ss[.f]]'
// (time, and the date 1900-01-01 for the others) and an offset for datetimeoffset.
// out_of_range is set when the text is a date the type cannot hold (242 for datetime).
std::optional<std::string> normalize_datetime(const std::string& text, const ColumnType& type, bool* out_of_range);

bool is_string_type(SqlType t);
bool is_integer_type(SqlType t);
bool is_datetime_type(SqlType t);

}  // namespace sandbox::engine
