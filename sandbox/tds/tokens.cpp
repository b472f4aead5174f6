#include "tds/tokens.hpp"

#include <algorithm>
#include <stdexcept>

#include "tds/prelogin.hpp"
#include "tds/type_codec.hpp"

namespace sandbox::tds {
namespace {
constexpr std::uint16_t k_col_nullable = 0x0001;
constexpr std::uint16_t k_col_updatable_unknown = 0x0008;  // usUpdateable (bits 2-3) = 2: unknown
constexpr std::uint8_t k_interface_sql = 1;                 // LOGINACK Interface: SQL_TSQL
constexpr std::uint8_t k_returnvalue_output = 0x01;

// Tokens with a 2-byte length: write a placeholder, patch it when the body is done.
class LengthScope {
 public:
  LengthScope(ByteWriter& w, std::uint8_t token) : m_w(w) {
    m_w.u8(token);
    m_at = m_w.size();
    m_w.u16(0);
  }
  ~LengthScope() { m_w.patch_u16(m_at, static_cast<std::uint16_t>(m_w.size() - m_at - 2)); }
  LengthScope(const LengthScope&) = delete;
  LengthScope& operator=(const LengthScope&) = delete;

 private:
  ByteWriter& m_w;
  std::size_t m_at = 0;
};
}  // namespace

void write_done(ByteWriter& w, std::uint8_t token, std::uint16_t status, std::uint16_t cur_cmd,
                std::uint64_t row_count) {
  w.u8(token);
  w.u16(status);
  w.u16(cur_cmd);
  w.u64(row_count);
}

void write_message(ByteWriter& w, const Message& m, const std::string& server_name) {
  LengthScope scope(w, m.is_error() ? k_token_error : k_token_info);
  w.i32(m.number);
  w.u8(static_cast<std::uint8_t>(m.state));
  w.u8(static_cast<std::uint8_t>(m.severity == 10 ? 0 : m.severity));
  w.us_varchar(m.text);
  w.b_varchar(server_name);
  w.b_varchar(m.procedure);
  w.i32(m.line);
}

void write_env_string(ByteWriter& w, std::uint8_t type, const std::string& new_value, const std::string& old_value) {
  LengthScope scope(w, k_token_envchange);
  w.u8(type);
  w.b_varchar(new_value);
  w.b_varchar(old_value);
}

void write_env_bytes(ByteWriter& w, std::uint8_t type, const std::vector<std::uint8_t>& new_value,
                     const std::vector<std::uint8_t>& old_value) {
  LengthScope scope(w, k_token_envchange);
  w.u8(type);
  w.u8(static_cast<std::uint8_t>(new_value.size()));
  w.bytes(new_value);
  w.u8(static_cast<std::uint8_t>(old_value.size()));
  w.bytes(old_value);
}

void write_loginack(ByteWriter& w, const std::string& product_version, std::uint32_t tds_version) {
  const ProductVersion v = parse_product_version(product_version);
  LengthScope scope(w, k_token_loginack);
  w.u8(k_interface_sql);
  w.u8(static_cast<std::uint8_t>(tds_version >> 24));
  w.u8(static_cast<std::uint8_t>((tds_version >> 16) & 0xFF));
  w.u8(static_cast<std::uint8_t>((tds_version >> 8) & 0xFF));
  w.u8(static_cast<std::uint8_t>(tds_version & 0xFF));
  w.b_varchar("Microsoft SQL Server");
  w.u8(static_cast<std::uint8_t>(v.major));
  w.u8(static_cast<std::uint8_t>(v.minor));
  w.u8(static_cast<std::uint8_t>((v.build >> 8) & 0xFF));
  w.u8(static_cast<std::uint8_t>(v.build & 0xFF));
}

void write_featureextack_empty(ByteWriter& w) {
  w.u8(k_token_featureextack);
  w.u8(0xFF);  // no feature acknowledged: the client falls back to plain behaviour
}

void write_colmetadata(ByteWriter& w, const std::vector<Column>& cols) {
  w.u8(k_token_colmetadata);
  w.u16(static_cast<std::uint16_t>(cols.size()));
  for (const Column& c : cols) {
    w.u32(0);  // UserType
    w.u16(static_cast<std::uint16_t>((c.nullable ? k_col_nullable : 0) | k_col_updatable_unknown));
    write_type_info(w, c.type);
    w.b_varchar(c.name);
  }
}

namespace {
void write_tabname(ByteWriter& w, const std::vector<std::string>& tables) {
  w.u8(k_token_tabname);
  const std::size_t tabname_length = w.size();
  w.u16(0);
  for (const std::string& t : tables) {
    w.u8(1);
    w.us_varchar(t);
  }
  w.patch_u16(tabname_length, static_cast<std::uint16_t>(w.size() - tabname_length - 2));
}

// COLINFO: per column its number, its table's (1-based in TABNAME; 0 for none) and its status.
void write_colinfo(ByteWriter& w, const std::vector<Column>& cols, const std::vector<std::string>& tables) {
  enum : std::uint8_t { expression = 0x04, hidden = 0x10, different_name = 0x20 };
  w.u8(k_token_colinfo);
  const std::size_t colinfo_length = w.size();
  w.u16(0);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const Column& c = cols[i];
    const auto table = std::find(tables.begin(), tables.end(), c.base_table);
    const bool renamed = !c.base_column.empty() && c.base_column != c.name;
    w.u8(static_cast<std::uint8_t>(i + 1));
    w.u8(c.base_table.empty() ? 0 : static_cast<std::uint8_t>(table - tables.begin() + 1));
    w.u8(static_cast<std::uint8_t>((c.base_table.empty() ? expression : 0) | (c.hidden ? hidden : 0) |
                                   (renamed ? different_name : 0)));
    if (renamed) w.b_varchar(c.base_column);
  }
  w.patch_u16(colinfo_length, static_cast<std::uint16_t>(w.size() - colinfo_length - 2));
}
}  // namespace

void write_browse_info(ByteWriter& w, const std::vector<Column>& cols) {
  std::vector<std::string> tables;
  bool any = false;
  for (const Column& c : cols) {
    any = any || c.hidden || !c.base_table.empty();
    if (!c.base_table.empty() && std::find(tables.begin(), tables.end(), c.base_table) == tables.end()) {
      tables.push_back(c.base_table);
    }
  }
  if (!any) return;
  // TABNAME: each table as NumParts and its parts (US_VARCHAR); one part here. None when no
  // column has a table (FreeTDS refuses an empty TABNAME): COLINFO alone then.
  if (!tables.empty()) write_tabname(w, tables);
  write_colinfo(w, cols, tables);
}

void write_row(ByteWriter& w, const std::vector<Column>& cols, const std::vector<Value>& values) {
  if (values.size() != cols.size()) throw std::invalid_argument("row width does not match its columns");
  bool any_null = false;
  for (const Value& v : values) any_null = any_null || std::holds_alternative<std::monostate>(v);
  if (!any_null) {
    w.u8(k_token_row);
    for (std::size_t i = 0; i < cols.size(); ++i) write_value(w, cols[i].type, values[i]);
    return;
  }
  w.u8(k_token_nbcrow);
  std::vector<std::uint8_t> bitmap((cols.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::holds_alternative<std::monostate>(values[i])) bitmap[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
  }
  w.bytes(bitmap);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (!std::holds_alternative<std::monostate>(values[i])) write_value(w, cols[i].type, values[i]);
  }
}

void write_returnstatus(ByteWriter& w, std::int32_t status) {
  w.u8(k_token_returnstatus);
  w.i32(status);
}

void write_returnvalue(ByteWriter& w, std::uint16_t ordinal, const std::string& name, const ColumnType& type,
                       const Value& value) {
  w.u8(k_token_returnvalue);
  w.u16(ordinal);
  w.b_varchar(name);
  w.u8(k_returnvalue_output);
  w.u32(0);  // UserType
  w.u16(k_col_nullable);
  write_type_info(w, type);
  write_value(w, type, value);
}

}  // namespace sandbox::tds
