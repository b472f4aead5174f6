#include "engine/hash_functions.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "engine/tsql_lexer.hpp"

namespace sandbox::engine {

namespace {

std::string text_of(sqlite3_value* v) {
  const auto* p = sqlite3_value_text(v);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_value_bytes(v))) : std::string();
}

// UTF-8 -> code points (a byte that starts no valid sequence stands for itself, as Latin-1).
std::vector<char32_t> code_points(const std::string& s) {
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    bool valid = n < 4 && i + n < s.size();
    for (std::size_t k = 1; valid && k <= n; ++k) valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!valid) {
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k <= n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n + 1;
  }
  return out;
}

std::string utf16le(const std::string& s) {
  std::string out;
  const auto unit = [&out](char32_t u) {
    out += static_cast<char>(u & 0xFF);
    out += static_cast<char>((u >> 8) & 0xFF);
  };
  for (char32_t cp : code_points(s)) {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

// varchar in the default collation's code page (1252; its 0x80-0x9F differences from
// Latin-1 are not modelled); a character the code page has no byte for is '?', as SQL Server stores it.
std::string code_page_bytes(const std::string& s) {
  std::string out;
  for (char32_t cp : code_points(s)) out += cp <= 0xFF ? static_cast<char>(cp) : '?';
  return out;
}

bool is_wide(const std::string& type) {
  const std::string t = lower(type);
  return t.rfind("nvarchar", 0) == 0 || t.rfind("nchar", 0) == 0 || t.rfind("ntext", 0) == 0 || t == "sysname";
}

// HASHBYTES ( '<algorithm>', { @input | 'input' } ): MD2 and MD4 are deprecated and not modelled.
void fn_hashbytes(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    return sqlite3_result_null(ctx);
  }
  const std::string alg = upper(text_of(argv[0]));
  const EVP_MD* md = alg == "SHA2_256" ? EVP_sha256() : alg == "SHA2_512" ? EVP_sha512() : alg == "SHA1" || alg == "SHA" ? EVP_sha1()
                     : alg == "MD5" ? EVP_md5() : nullptr;
  if (!md) {
    // SQL Server returns NULL for an algorithm it does not know; MD2/MD4 it knows but the sandbox does not model.
    if (alg == "MD2" || alg == "MD4") {
      const std::string m = "HASHBYTES('" + alg + "') is not supported by the sandbox (deprecated algorithm).";
      return sqlite3_result_error(ctx, m.c_str(), -1);
    }
    return sqlite3_result_null(ctx);
  }
  std::string input;
  if (sqlite3_value_type(argv[1]) == SQLITE_BLOB) {
    input.assign(static_cast<const char*>(sqlite3_value_blob(argv[1])), static_cast<std::size_t>(sqlite3_value_bytes(argv[1])));
  } else {
    const std::string type = text_of(argv[2]);
    const std::string s = text_of(argv[1]);
    input = is_wide(type) ? utf16le(s) : code_page_bytes(s);
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(input.data(), input.size(), out, &n, md, nullptr);
  sqlite3_result_blob(ctx, out, static_cast<int>(n), SQLITE_TRANSIENT);
}

// DATALENGTH(x) with x's static type: the bytes SQL Server stores, so an nvarchar counts two per
// UTF-16 unit and a varchar one per character of its code page; other values their SQLite bytes.
void fn_datalength_typed(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_TEXT) {
    const std::string type = lower(text_of(argv[1]));
    const std::string s = text_of(argv[0]);
    if (is_wide(type)) return sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(utf16le(s).size()));
    if (type.rfind("varchar", 0) == 0 || type.rfind("char", 0) == 0 || type.rfind("text", 0) == 0) {
      return sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(code_page_bytes(s).size()));
    }
  }
  sqlite3_result_int64(ctx, sqlite3_value_bytes(argv[0]));
}

// One input row of STRING_AGG: its value and its sort keys (copies: SQLite's values die with the step).
struct AggRow {
  std::string value;
  std::vector<sqlite3_value*> keys;
};

struct StringAgg {
  std::string separator;
  std::string directions;
  std::vector<AggRow> rows;
  ~StringAgg() {
    for (auto& r : rows)
      for (auto* k : r.keys) sqlite3_value_free(k);
  }
};

// SQLite's own order of values: NULL, numbers, text (binary), blobs.
int compare_values(sqlite3_value* a, sqlite3_value* b) {
  const auto rank = [](int t) { return t == SQLITE_NULL ? 0 : t == SQLITE_INTEGER || t == SQLITE_FLOAT ? 1 : t == SQLITE_TEXT ? 2 : 3; };
  const int ta = sqlite3_value_type(a), tb = sqlite3_value_type(b);
  if (rank(ta) != rank(tb)) return rank(ta) < rank(tb) ? -1 : 1;
  if (rank(ta) == 0) return 0;
  if (rank(ta) == 1) {
    if (ta == SQLITE_INTEGER && tb == SQLITE_INTEGER) {
      const auto x = sqlite3_value_int64(a), y = sqlite3_value_int64(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const double x = sqlite3_value_double(a), y = sqlite3_value_double(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const int na = sqlite3_value_bytes(a), nb = sqlite3_value_bytes(b);
  const void* pa = ta == SQLITE_TEXT ? static_cast<const void*>(sqlite3_value_text(a)) : sqlite3_value_blob(a);
  const void* pb = tb == SQLITE_TEXT ? static_cast<const void*>(sqlite3_value_text(b)) : sqlite3_value_blob(b);
  const int c = std::memcmp(pa, pb, static_cast<std::size_t>(std::min(na, nb)));
  if (c != 0) return c < 0 ? -1 : 1;
  return na < nb ? -1 : na > nb ? 1 : 0;
}

// The state lives behind a pointer in the aggregate context (the context is only 8-byte aligned).
StringAgg** state(sqlite3_context* ctx, bool create) {
  return static_cast<StringAgg**>(sqlite3_aggregate_context(ctx, create ? static_cast<int>(sizeof(StringAgg*)) : 0));
}

void string_agg_step(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  StringAgg** slot = state(ctx, true);
  if (!slot) return sqlite3_result_error_nomem(ctx);
  if (!*slot) {
    *slot = new StringAgg;
    (*slot)->separator = text_of(argv[1]);
    (*slot)->directions = text_of(argv[2]);
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;  // STRING_AGG skips NULL values
  AggRow row;
  row.value = sqlite3_value_type(argv[0]) == SQLITE_BLOB
                  ? std::string(static_cast<const char*>(sqlite3_value_blob(argv[0])), static_cast<std::size_t>(sqlite3_value_bytes(argv[0])))
                  : text_of(argv[0]);
  for (int k = 3; k < argc; ++k) row.keys.push_back(sqlite3_value_dup(argv[k]));
  (*slot)->rows.push_back(std::move(row));
}

void string_agg_final(sqlite3_context* ctx) {
  StringAgg** slot = state(ctx, false);
  std::unique_ptr<StringAgg> agg(slot ? *slot : nullptr);
  if (!agg || agg->rows.empty()) return sqlite3_result_null(ctx);
  const std::string& dirs = agg->directions;
  std::stable_sort(agg->rows.begin(), agg->rows.end(), [&dirs](const AggRow& a, const AggRow& b) {
    for (std::size_t k = 0; k < a.keys.size() && k < b.keys.size(); ++k) {
      int c = compare_values(a.keys[k], b.keys[k]);
      if (k < dirs.size() && dirs[k] == 'D') c = -c;
      if (c != 0) return c < 0;
    }
    return false;
  });
  std::string out;
  for (std::size_t i = 0; i < agg->rows.size(); ++i) {
    if (i) out += agg->separator;
    out += agg->rows[i].value;
  }
  sqlite3_result_text(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

}  // namespace

void register_hash_functions(sqlite3* db) {
  sqlite3_create_function_v2(db, "m2r_hashbytes", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, fn_hashbytes, nullptr,
                             nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_datalength", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, fn_datalength_typed,
                             nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_string_agg", -1, SQLITE_UTF8, nullptr, nullptr, string_agg_step, string_agg_final,
                             nullptr);
}

std::string utf16le_bytes(const std::string& utf8) { return utf16le(utf8); }

}  // namespace sandbox::engine
