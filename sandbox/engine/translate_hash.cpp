// The translation of HASHBYTES, STRING_AGG, CONCAT and DATALENGTH (hash_functions.hpp, README.md
// "Validation functions"): each argument translated on its own, with its static type.
#include "engine/hash_functions.hpp"
#include "engine/parse_util.hpp"
#include "engine/session.hpp"
#include "engine/sqlite_util.hpp"
#include "engine/value_ops.hpp"

namespace sandbox::engine {

namespace {

using Span = std::pair<std::size_t, std::size_t>;

// The arguments between t[b] and t[e] (exclusive), split at top-level commas.
std::vector<Span> split_arguments(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::vector<Span> out;
  int depth = 0;
  std::size_t start = b;
  for (std::size_t k = b; k < e; ++k) {
    if (is_sym(t[k], "(")) ++depth;
    else if (is_sym(t[k], ")")) --depth;
    else if (depth == 0 && is_sym(t[k], ",")) {
      out.emplace_back(start, k);
      start = k + 1;
    }
  }
  if (start < e) out.emplace_back(start, e);
  return out;
}

bool is_wide(SqlType t) { return t == SqlType::nvarchar || t == SqlType::nchar || t == SqlType::ntext; }

}  // namespace

std::optional<ColumnType> SessionImpl::hash_call_type(const std::vector<Token>& t, std::size_t i, std::size_t close) {
  const std::string up = upper(t[i].text);
  auto args = split_arguments(t, i + 2, close);
  if (up == "HASHBYTES") {
    ColumnType c;
    c.type = SqlType::varbinary;
    c.length = 8000;
    return c;
  }
  if (up == "STRING_AGG" && !args.empty()) args.resize(1);
  // nvarchar when any argument is Unicode, (max) when any is (max) (STRING_AGG: always (max)
  // for a (max) input, else 8000 bytes), varchar otherwise; unknown when an untyped argument
  // could still be Unicode.
  bool wide = false, all_known = true, max = false;
  for (const auto& [b, e] : args) {
    auto at = expr_type(t, b, e);
    if (!at) {
      all_known = false;
      continue;
    }
    wide = wide || is_wide(at->type);
    max = max || at->length == k_max_length || at->type == SqlType::text || at->type == SqlType::ntext;
  }
  if (!wide && !all_known) return std::nullopt;
  ColumnType c;
  c.type = wide ? SqlType::nvarchar : SqlType::varchar;
  c.length = max ? k_max_length : (wide ? 4000 : 8000);
  return c;
}

std::string SessionImpl::translate_hash_call(const std::vector<Token>& t, std::size_t i, std::size_t& close,
                                             std::size_t end, bool* needs_iv) {
  const std::string up = upper(t[i].text);
  const auto args = split_arguments(t, i + 2, close);
  const auto arg = [&](std::size_t n) { return translate(t, args[n].first, args[n].second, needs_iv); };
  if (up == "CONCAT") {
    // CONCAT(a, b, ...): NULL as the empty string; SQL Server wants 2 to 254 arguments (189).
    if (args.size() < 2 || args.size() > 254) {
      raise(189, 15, "The concat function requires 2 to 254 arguments.");
    }
    std::string out;
    for (std::size_t n = 0; n < args.size(); ++n) out += (n ? " || " : "") + std::string("IFNULL(") + arg(n) + ", '')";
    return "(" + out + ")";
  }
  if (up == "DATALENGTH") {
    if (args.size() != 1) raise(174, 15, "The datalength function requires 1 argument(s).");
    const auto ty = expr_type(t, args[0].first, args[0].second);
    return "m2r_datalength(" + arg(0) + ", " + quote_literal(ty ? type_to_string(*ty) : "?") + ")";
  }
  if (up == "HASHBYTES") {
    if (args.size() != 2) raise(174, 15, "The hashbytes function requires 2 argument(s).");
    const auto ty = expr_type(t, args[1].first, args[1].second);
    return "m2r_hashbytes(" + arg(0) + ", " + arg(1) + ", " + quote_literal(ty ? type_to_string(*ty) : "?") + ")";
  }
  // STRING_AGG(expression, separator) [WITHIN GROUP (ORDER BY key [ASC|DESC], ...)]
  if (args.size() != 2) raise(174, 15, "The string_agg function requires 2 argument(s).");
  std::string directions, keys;
  if (close + 3 < end && t[close + 1].is("WITHIN") && t[close + 2].is("GROUP") && is_sym(t[close + 3], "(")) {
    const std::size_t group_close = match_paren(t, close + 3, end);
    if (!(close + 5 < group_close && t[close + 4].is("ORDER") && t[close + 5].is("BY"))) syntax_near(t, close + 4);
    for (auto [b, e] : split_arguments(t, close + 6, group_close)) {
      char direction = 'A';
      if (e > b && (t[e - 1].is("ASC") || t[e - 1].is("DESC"))) {
        direction = t[e - 1].is("DESC") ? 'D' : 'A';
        --e;
      }
      if (e <= b) syntax_near(t, b);
      directions += direction;
      keys += ", " + translate(t, b, e, needs_iv);
    }
    close = group_close;
  }
  return "m2r_string_agg(" + arg(0) + ", " + arg(1) + ", " + quote_literal(directions) + keys + ")";
}

}  // namespace sandbox::engine
