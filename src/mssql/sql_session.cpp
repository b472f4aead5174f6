#include "mssql/sql_session.hpp"
#include "core/ascii_case.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace m2r::mssql {
namespace {

const char* kind_name(const SqlValue::Storage& v) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return "an integer";
    case 2: return "a float";
    case 3: return "text";
    default: return "bytes";
  }
}

tl::unexpected<Error> wrong_kind(const SqlValue::Storage& v, const char* wanted) {
  return fail(ErrorKind::fatal, fmt::format("SQL Server returned {} where {} was expected", kind_name(v), wanted));
}


}  // namespace

Expected<std::int64_t> SqlValue::as_int64() const {
  if (const auto* i = std::get_if<std::int64_t>(&m_value)) return *i;
  if (const auto* s = std::get_if<std::string>(&m_value)) {
    // Exact text of a numeric(p,0) (or a decimal whose fraction is all zeros) that fits.
    std::string_view t = *s;
    if (const auto dot = t.find('.'); dot != std::string_view::npos) {
      if (t.find_first_not_of('0', dot + 1) != std::string_view::npos) {
        return fail(ErrorKind::fatal, fmt::format("SQL Server returned '{}' where an integer was expected", *s));
      }
      t = t.substr(0, dot);
    }
    std::int64_t out = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    if (ec == std::errc() && end == t.data() + t.size() && !t.empty()) return out;
    return fail(ErrorKind::fatal, fmt::format("SQL Server returned '{}' where a 64-bit integer was expected", *s));
  }
  return wrong_kind(m_value, "an integer");
}

Expected<double> SqlValue::as_double() const {
  if (const auto* d = std::get_if<double>(&m_value)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&m_value)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&m_value)) {
    char* end = nullptr;
    const double d = std::strtod(s->c_str(), &end);
    if (!s->empty() && end == s->c_str() + s->size()) return d;
    return fail(ErrorKind::fatal, fmt::format("SQL Server returned '{}' where a number was expected", *s));
  }
  return wrong_kind(m_value, "a number");
}

Expected<bool> SqlValue::as_bool() const {
  if (const auto* i = std::get_if<std::int64_t>(&m_value); i && (*i == 0 || *i == 1)) return *i == 1;
  return wrong_kind(m_value, "a bit");
}

Expected<std::string> SqlValue::as_string() const {
  if (const auto* s = std::get_if<std::string>(&m_value)) return *s;
  return wrong_kind(m_value, "text");
}

Expected<Bytes> SqlValue::as_bytes() const {
  if (const auto* b = std::get_if<Bytes>(&m_value)) return *b;
  return wrong_kind(m_value, "bytes");
}

std::string SqlValue::to_text() const {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return fmt::format("{}", v); }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const Bytes& v) const {
      std::string out = "0x";
      for (auto b : v.data) out += fmt::format("{:02X}", b);
      return out;
    }
  };
  return std::visit(Visitor{}, m_value);
}

const char* to_string(SqlType type) {
  switch (type) {
    case SqlType::unknown: return "unknown";
    case SqlType::bit: return "bit";
    case SqlType::tinyint: return "tinyint";
    case SqlType::smallint: return "smallint";
    case SqlType::int_: return "int";
    case SqlType::bigint: return "bigint";
    case SqlType::decimal: return "decimal";
    case SqlType::real: return "real";
    case SqlType::float_: return "float";
    case SqlType::char_: return "char";
    case SqlType::varchar: return "varchar";
    case SqlType::nchar: return "nchar";
    case SqlType::nvarchar: return "nvarchar";
    case SqlType::binary: return "binary";
    case SqlType::varbinary: return "varbinary";
    case SqlType::date: return "date";
    case SqlType::time: return "time";
    case SqlType::datetime: return "datetime";
    case SqlType::datetime2: return "datetime2";
    case SqlType::datetimeoffset: return "datetimeoffset";
    case SqlType::uniqueidentifier: return "uniqueidentifier";
  }
  return "unknown";
}

std::optional<std::size_t> ResultSet::column_index(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (iequals(columns[i].name, name)) return i;
  }
  return std::nullopt;
}

Expected<SqlValue> ResultSet::value(std::size_t row, std::string_view name) const {
  const auto col = column_index(name);
  if (!col) return fail(ErrorKind::fatal, fmt::format("the result has no column named '{}'", name));
  if (row >= rows.size()) {
    return fail(ErrorKind::fatal, fmt::format("the result has {} rows; row {} was asked for", rows.size(), row));
  }
  if (*col >= rows[row].size()) return fail(ErrorKind::fatal, fmt::format("row {} is shorter than its columns", row));
  return rows[row][*col];
}

const ResultSet& QueryResult::first() const {
  static const ResultSet k_empty;
  return result_sets.empty() ? k_empty : result_sets.front();
}

Expected<std::int64_t> SqlSession::execute(std::string sql, std::vector<SqlParam> params, StatementOptions options) {
  auto result = run(Statement{std::move(sql), std::move(params), options}, {});
  if (!result) return tl::unexpected(std::move(result.error()));
  return result->rows_affected;
}

}  // namespace m2r::mssql
