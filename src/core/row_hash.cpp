#include "core/row_hash.hpp"

#include <fmt/format.h>

namespace m2r {

namespace {

std::string q(const std::string& name) {
  if (auto quoted = tsql::quote_name(name)) return *quoted;
  return "[" + name + "]";  // a catalog name is at most 128 characters: not reached
}

// SQL Server's CONCAT takes 2 to 254 arguments: longer lists are nested.
constexpr std::size_t k_concat_arguments = 200;

std::string concat(const std::vector<std::string>& parts) {
  if (parts.size() <= k_concat_arguments) {
    std::string out = "CONCAT(N''";
    for (const auto& p : parts) out += ", " + p;
    return out + ")";
  }
  std::vector<std::string> groups;
  for (std::size_t i = 0; i < parts.size(); i += k_concat_arguments) {
    groups.push_back(concat(std::vector<std::string>(parts.begin() + static_cast<std::ptrdiff_t>(i),
                                                     parts.begin() + static_cast<std::ptrdiff_t>(std::min(parts.size(), i + k_concat_arguments)))));
  }
  return concat(groups);
}

// The style CONVERT(type, text, style) needs to read a canonical text back (0: none).
int read_back_style(const ColumnInfo& c) {
  if (c.type == "binary" || c.type == "varbinary") return 2;
  if (c.type == "datetime" || c.type == "smalldatetime" || c.type == "datetime2") return 121;
  return 0;
}

}  // namespace

std::optional<std::string> canonical_text(const ColumnInfo& c) {
  const std::string col = q(c.name);
  const std::string& t = c.type;
  // Exact in their default conversion: integers, decimal/numeric (every digit of the scale),
  // uniqueidentifier, strings (varchar to nvarchar loses nothing), date, time(n) and
  // datetimeoffset(n) ("yyyy-mm-dd hh:mi:ss.fffffff +hh:mm", the offset kept).
  if (t == "bit" || t == "tinyint" || t == "smallint" || t == "int" || t == "bigint" || t == "decimal" ||
      t == "numeric" || t == "uniqueidentifier" || t == "char" || t == "varchar" || t == "nchar" ||
      t == "nvarchar" || t == "date" || t == "time" || t == "datetimeoffset" || t == "ntext" || t == "xml") {
    return "CONVERT(nvarchar(max), " + col + ")";
  }
  if (t == "text") return "CONVERT(nvarchar(max), CONVERT(varchar(max), " + col + "))";
  // Style 3: 17 significant digits, every distinct float or real value a distinct string (SQL Server 2016+).
  if (t == "float" || t == "real") return "CONVERT(nvarchar(max), " + col + ", 3)";
  // Style 2: four digits after the point, no thousands separators (style 0 keeps two).
  if (t == "money" || t == "smallmoney") return "CONVERT(nvarchar(max), " + col + ", 2)";
  // Style 121: yyyy-mm-dd hh:mi:ss.mmm (datetime's default style 0 drops the seconds);
  // datetime2(n) with its n digits.
  if (t == "datetime" || t == "smalldatetime" || t == "datetime2") return "CONVERT(nvarchar(max), " + col + ", 121)";
  // Bytes as uppercase hex without 0x (style 2); CLR types by their serialized bytes.
  if (t == "binary" || t == "varbinary") return "CONVERT(nvarchar(max), " + col + ", 2)";
  if (t == "image" || t == "hierarchyid" || t == "geometry" || t == "geography") {
    return "CONVERT(nvarchar(max), CONVERT(varbinary(max), " + col + "), 2)";
  }
  return std::nullopt;
}

std::vector<std::string> RowHashPlan::left_out() const {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    if (c.use == ColumnUse::left_out) out.push_back(c.column.name + " (" + c.reason + ")");
  }
  return out;
}

std::vector<std::string> RowHashPlan::unsupported() const {
  std::vector<std::string> out;
  for (const auto& c : columns) {
    if (c.use == ColumnUse::unsupported) out.push_back(c.column.name + " (" + c.reason + ")");
  }
  return out;
}

RowHashPlan row_hash_plan(const std::vector<ColumnInfo>& columns) {
  RowHashPlan plan;
  std::vector<std::string> pieces;
  for (const auto& c : columns) {
    ColumnPlan p{.column = c};
    if (c.type == "timestamp" || c.type == "rowversion") {
      p.use = ColumnUse::left_out;
      p.reason = "rowversion: the target generates its own values";
    } else if (auto text = canonical_text(c)) {
      p.canonical = *text;
      pieces.push_back(fmt::format("CASE WHEN {0} IS NULL THEN N'N' ELSE CONCAT(DATALENGTH({1}), N':', {1}) END",
                                   q(c.name), *text));
    } else {
      p.use = ColumnUse::unsupported;
      p.reason = c.type.empty() ? "type unknown to sys.types" : "type " + c.type + " has no lossless text form";
    }
    plan.columns.push_back(std::move(p));
  }
  // A table whose every column is left out hashes the empty string per row: the rows still count.
  plan.expression = "HASHBYTES('SHA2_256', " + concat(pieces) + ")";
  return plan;
}

std::string type_declaration(const ColumnInfo& c) {
  const std::string& t = c.type;
  const auto length = [&](int per_char) {
    return c.max_length < 0 ? std::string("max") : std::to_string(c.max_length / per_char);
  };
  if (t == "decimal" || t == "numeric") return fmt::format("{}({},{})", t, c.precision, c.scale);
  if (t == "char" || t == "varchar" || t == "binary" || t == "varbinary") return t + "(" + length(1) + ")";
  if (t == "nchar" || t == "nvarchar") return t + "(" + length(2) + ")";
  if (t == "datetime2" || t == "time" || t == "datetimeoffset") return fmt::format("{}({})", t, c.scale);
  return t;
}

KeysetQueries::KeysetQueries(tsql::TableName table, std::vector<ColumnInfo> key, RowHashPlan row_hash)
    : m_table(std::move(table)), m_key(std::move(key)), m_row_hash(std::move(row_hash)) {}

// (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...: the rows after `values` in key order.
std::string KeysetQueries::bound(std::vector<std::string>& params, std::size_t column, const std::string& value) const {
  params.push_back(value);
  const int style = read_back_style(m_key[column]);
  return style ? fmt::format("CONVERT({}, ?, {})", type_declaration(m_key[column]), style)
               : fmt::format("CONVERT({}, ?)", type_declaration(m_key[column]));
}

std::string KeysetQueries::greater_than(std::vector<std::string>& params, const KeyValues& values) const {
  const auto bound = [&](std::size_t i) { return this->bound(params, i, values.at(i)); };
  std::string out;
  for (std::size_t i = 0; i < m_key.size(); ++i) {
    std::string term = "(";
    for (std::size_t j = 0; j < i; ++j) term += q(m_key[j].name) + " = " + bound(j) + " AND ";
    term += q(m_key[i].name) + " > " + bound(i) + ")";
    out += (out.empty() ? "" : " OR ") + term;
  }
  return "(" + out + ")";
}

std::string KeysetQueries::where(const KeyRange& range, std::vector<std::string>& params) const {
  std::string out;
  if (range.after) out = greater_than(params, *range.after);
  if (range.through) out += (out.empty() ? "NOT " : " AND NOT ") + greater_than(params, *range.through);
  return out.empty() ? "" : " WHERE " + out;
}

std::string KeysetQueries::order_by(const std::string& prefix, bool descending) const {
  std::string out;
  for (const auto& k : m_key) out += (out.empty() ? "" : ", ") + prefix + q(k.name) + (descending ? " DESC" : "");
  return out;
}

std::string KeysetQueries::key_texts(const std::string& prefix) const {
  std::string out;
  for (std::size_t i = 0; i < m_key.size(); ++i) {
    ColumnInfo prefixed = m_key[i];
    std::string text = canonical_text(prefixed).value_or("NULL");
    if (!prefix.empty()) {
      const std::string bare = q(m_key[i].name);
      text.replace(text.find(bare), bare.size(), prefix + bare);
    }
    out += (out.empty() ? "" : ", ") + text + " AS " + q("k" + std::to_string(i + 1));
  }
  return out;
}

KeysetStatement KeysetQueries::key_at(const KeyRange& range, std::int64_t position) const {
  KeysetStatement s;
  const std::string inner = fmt::format("SELECT TOP ({}) {} FROM {}{} ORDER BY {}", position, order_by(""),
                                        m_table.qualified(), where(range, s.params), order_by(""));
  s.sql = fmt::format("SELECT TOP (1) {} FROM ({}) AS c ORDER BY {}", key_texts("c."), inner, order_by("c.", true));
  return s;
}

KeysetStatement KeysetQueries::digest(const KeyRange& range) const {
  KeysetStatement s;
  s.sql = fmt::format(
      "SELECT COUNT_BIG(*) AS row_count, HASHBYTES('SHA2_256', STRING_AGG(CONVERT(varchar(max), c.rh, 2), '') "
      "WITHIN GROUP (ORDER BY {})) AS range_hash FROM (SELECT {}, {} AS rh FROM {}{}) AS c",
      order_by("c."), order_by(""), m_row_hash.expression, m_table.qualified(), where(range, s.params));
  return s;
}

KeysetStatement KeysetQueries::row_hashes(const KeyRange& range) const {
  KeysetStatement s;
  s.sql = fmt::format("SELECT {}, {} AS rh FROM {}{} ORDER BY {}", key_texts(""), m_row_hash.expression,
                      m_table.qualified(), where(range, s.params), order_by(""));
  return s;
}

KeysetStatement KeysetQueries::rows_at(const std::vector<std::string>& lock_resources,
                                       const std::vector<KeyValues>& keys) const {
  KeysetStatement s;
  std::vector<std::string> terms;
  if (!lock_resources.empty()) {
    std::string in;
    for (const auto& r : lock_resources) {
      s.params.push_back(r);
      in += in.empty() ? "?" : ", ?";
    }
    terms.push_back("%%lockres%% IN (" + in + ")");
  }
  for (const auto& key : keys) {
    std::string term;
    for (std::size_t i = 0; i < m_key.size(); ++i) {
      term += (term.empty() ? "" : " AND ") + q(m_key[i].name) + " = " + bound(s.params, i, key.at(i));
    }
    terms.push_back("(" + term + ")");
  }
  std::string where;
  for (const auto& t : terms) where += (where.empty() ? "" : " OR ") + t;
  s.sql = fmt::format("SELECT {}, {} AS rh FROM {} WITH (INDEX(1)){} ORDER BY {}", key_texts(""), m_row_hash.expression,
                      m_table.qualified(), where.empty() ? " WHERE 1 = 0" : " WHERE " + where, order_by(""));
  return s;
}

std::string heap_row_hash_counts(const tsql::TableName& table, const RowHashPlan& row_hash) {
  return fmt::format("SELECT c.rh, COUNT_BIG(*) AS copies FROM (SELECT {} AS rh FROM {}) AS c GROUP BY c.rh",
                     row_hash.expression, table.qualified());
}

std::string heap_row_by_hash(const tsql::TableName& table, const RowHashPlan& row_hash) {
  std::string cols;
  for (const auto& c : row_hash.columns) {
    if (c.use != ColumnUse::hashed) continue;
    cols += (cols.empty() ? "" : ", ") + c.canonical + " AS " + q(c.column.name);
  }
  return fmt::format("SELECT TOP (1) {} FROM {} WHERE {} = CONVERT(varbinary(32), ?, 2)", cols.empty() ? "1 AS one" : cols,
                     table.qualified(), row_hash.expression);
}

std::string table_columns() {
  return "SELECT c.name, ty.name AS type_name, c.max_length, c.precision, c.scale, c.is_nullable, c.is_computed "
         "FROM sys.columns AS c LEFT JOIN sys.types AS ty ON ty.user_type_id = c.system_type_id "
         "WHERE c.object_id = ? ORDER BY c.column_id";
}

std::string table_key_columns() {
  return "SELECT i.index_id, i.is_primary_key, c.name, c.is_nullable "
         "FROM sys.indexes AS i JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id "
         "JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id "
         "WHERE i.object_id = ? AND i.is_unique = 1 AND i.is_disabled = 0 AND i.has_filter = 0 AND ic.is_included_column = 0 "
         "ORDER BY i.is_primary_key DESC, i.index_id, ic.key_ordinal";
}

}  // namespace m2r
