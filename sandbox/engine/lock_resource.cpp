#include "engine/lock_resource.hpp"

#include <cctype>
#include <cstdio>

namespace sandbox::engine {

namespace {

// hobt ids as SQL Server prints them are large (72057594043760640); one per object here.
constexpr std::int64_t k_first_hobt = 72057594037927936LL;
constexpr std::int64_t k_rows_per_page = 100;  // heap RIDs: a page of 100 slots

std::uint64_t fnv1a(std::uint64_t h, const std::string& bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// One key value as the hash sees it: its kind, then its comparable form.
std::string comparable(const Cell& c) {
  switch (c.type) {
    case SQLITE_INTEGER: return "i" + std::to_string(c.i);
    case SQLITE_FLOAT: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "f%.17g", c.d);
      return buf;
    }
    case SQLITE_TEXT: {
      std::string s = c.s;
      while (!s.empty() && s.back() == ' ') s.pop_back();
      for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return "t" + s;
    }
    case SQLITE_BLOB: return "b" + c.s;
    default: return "n";
  }
}

Cell cell_of(sqlite3_value* v) {
  Cell c;
  c.type = sqlite3_value_type(v);
  if (c.type == SQLITE_INTEGER) c.i = sqlite3_value_int64(v);
  else if (c.type == SQLITE_FLOAT) c.d = sqlite3_value_double(v);
  else if (c.type == SQLITE_TEXT || c.type == SQLITE_BLOB) {
    const auto* p = static_cast<const char*>(c.type == SQLITE_TEXT ? reinterpret_cast<const char*>(sqlite3_value_text(v))
                                                                   : sqlite3_value_blob(v));
    c.s.assign(p ? p : "", static_cast<std::size_t>(sqlite3_value_bytes(v)));
  }
  return c;
}

void fn_lockres(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::vector<Cell> cells;
  for (int i = 0; i < argc; ++i) cells.push_back(cell_of(argv[i]));
  std::vector<const Cell*> key;
  for (const auto& c : cells) key.push_back(&c);
  const std::string h = key_hash(key);
  sqlite3_result_text(ctx, h.c_str(), static_cast<int>(h.size()), SQLITE_TRANSIENT);
}

void fn_hobt_id(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_result_int64(ctx, hobt_id(sqlite3_value_int64(argv[0])));
}

void fn_heap_lockres(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const std::string r = heap_rid(sqlite3_value_int64(argv[0]));
  sqlite3_result_text(ctx, r.c_str(), static_cast<int>(r.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::int64_t hobt_id(std::int64_t object_id) { return k_first_hobt + object_id * 65536; }

std::string key_hash(const std::vector<const Cell*>& key) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const Cell* c : key) {
    const std::string part = comparable(*c);
    h = fnv1a(h, std::to_string(part.size()) + ":" + part);
  }
  h ^= h >> 29;  // fold the high bits in before keeping 48 of them
  char buf[20];
  std::snprintf(buf, sizeof buf, "(%012llx)", static_cast<unsigned long long>(h & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string heap_rid(std::int64_t row_id) {
  return "1:" + std::to_string(row_id / k_rows_per_page + 1) + ":" + std::to_string(row_id % k_rows_per_page);
}

std::string row_lock_information(int db_id, std::int64_t object_id, const std::vector<std::string>& key_hashes,
                                 const std::vector<std::int64_t>& heap_row_ids) {
  const std::string db = std::to_string(db_id);
  const std::string hobt = std::to_string(hobt_id(object_id));
  std::string out = "HoBt " + hobt + ":ACQUIRE_LOCK_IX OBJECT: " + db + ":" + std::to_string(object_id) + ":0";
  for (const auto& h : key_hashes) out += " ;ACQUIRE_LOCK_X KEY: " + db + ":" + hobt + " " + h;
  for (const auto r : heap_row_ids) out += " ;ACQUIRE_LOCK_X RID: " + db + ":" + heap_rid(r);
  return out;
}

void register_lock_resource_functions(sqlite3* db) {
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  sqlite3_create_function_v2(db, "m2r_lockres", -1, flags, nullptr, fn_lockres, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_hobt_id", 1, flags, nullptr, fn_hobt_id, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "m2r_heap_lockres", 1, flags, nullptr, fn_heap_lockres, nullptr, nullptr, nullptr);
}

}  // namespace sandbox::engine
