#include "core/changed_rows.hpp"
#include "core/ascii_case.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include <fmt/format.h>

namespace m2r {

namespace {

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// Records that change a row's content. Allocation bookkeeping (PFS, IAM, GAM, ...) and
// page formats are not; nor are ghost cleanup's LOP_EXPUNGE_ROWS (the row was deleted, with
// its key locked, by the transaction that ghosted it) and a split's LOP_DELETE_SPLIT.
bool changes_data(const LogRecordLocks& r) {
  static const char* const row_operations[] = {"LOP_INSERT_ROWS", "LOP_DELETE_ROWS", "LOP_MODIFY_ROW",
                                               "LOP_MODIFY_COLUMNS"};
  if (std::none_of(std::begin(row_operations), std::end(row_operations),
                   [&](const char* op) { return r.operation == op; })) {
    return false;
  }
  static const char* const allocation_contexts[] = {"LCX_PFS", "LCX_IAM", "LCX_GAM", "LCX_SGAM", "LCX_DIFF_MAP",
                                                    "LCX_ML_MAP", "LCX_BOOT_PAGE", "LCX_FILE_HEADER"};
  return std::none_of(std::begin(allocation_contexts), std::end(allocation_contexts),
                      [&](const char* c) { return r.context == c; });
}

// A LOB value's pages: changed with the row that owns it, under that row's key lock.
bool lob_context(const std::string& context) { return starts_with(context, "LCX_TEXT"); }

// The hobt of a KEY or HOBT lock id "<db>:<hobt>".
std::string hobt_of(const std::string& id) {
  const auto colon = id.find(':');
  return colon == std::string::npos ? std::string() : id.substr(colon + 1);
}

// The object of an OBJECT lock id "<db>:<object>:<lock partition>".
std::string object_of(const std::string& id) {
  const auto first = id.find(':');
  if (first == std::string::npos) return {};
  const auto second = id.find(':', first + 1);
  return id.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

struct TransactionLocks {
  std::set<std::string> keys;  // KEY hashes on the table's clustered hobts
  std::string coarse;          // the first non-intent lock on the table, its object, a page or a hobt
};

}  // namespace

bool LogLock::intent() const { return mode == "IS" || mode == "IX" || mode == "IU"; }

LockInformation parse_lock_information(const std::string& text) {
  LockInformation out;
  static const std::regex hobt(R"(^\s*HoBt\s+(\d+)\s*:)");
  static const std::regex lock(R"(ACQUIRE_LOCK_([A-Z_]+)\s+([A-Z_]+):\s*([0-9:]+)(?:\s+(\([0-9a-fA-F]+\)))?)");
  std::smatch m;
  if (std::regex_search(text, m, hobt)) out.hobt = m[1].str();
  for (std::sregex_iterator it(text.begin(), text.end(), lock), end; it != end; ++it) {
    LogLock l;
    l.mode = (*it)[1].str();
    l.resource = (*it)[2].str();
    l.id = (*it)[3].str();
    l.hash = (*it)[4].str();
    l.hash = ascii_lower(l.hash);
    out.locks.push_back(std::move(l));
  }
  return out;
}

bool unit_of_table(const std::string& unit, const std::string& table) {
  if (!istarts_with(unit, table)) return false;
  return unit.size() == table.size() || unit[table.size()] == '.';
}

ChangedRows changed_rows(const std::vector<LogRecordLocks>& records, const std::string& table,
                         const std::optional<ClusteredIndex>& clustered, const std::string& since) {
  ChangedRows out;
  std::map<std::string, std::string> names;            // transaction -> its name
  std::map<std::string, TransactionLocks> by_transaction;
  std::vector<const LogRecordLocks*> changes;           // the table's data records after `since`
  const std::string object = clustered ? std::to_string(clustered->object_id) : std::string();
  for (const auto& r : records) {
    if (r.operation == "LOP_BEGIN_XACT") names[r.transaction_id] = r.transaction_name;
    if (!unit_of_table(r.unit, table)) continue;
    const auto info = parse_lock_information(r.lock_information);
    auto& locks = by_transaction[r.transaction_id];
    for (const auto& l : info.locks) {
      const bool on_clustered = clustered && clustered->hobt_ids.count(hobt_of(l.id));
      if (l.resource == "KEY" && on_clustered && !l.hash.empty()) locks.keys.insert(l.hash);
      const bool on_table = l.resource == "PAGE" || l.resource == "EXTENT" || (l.resource == "HOBT" && on_clustered) ||
                            (l.resource == "OBJECT" && object_of(l.id) == object);
      if (on_table && !l.intent() && locks.coarse.empty()) locks.coarse = l.mode + " " + l.resource;
    }
    if (r.lsn <= since || !changes_data(r)) continue;
    if (names.count(r.transaction_id) && names[r.transaction_id] == "SplitPage") continue;  // rows moved, not changed
    ++out.records;
    changes.push_back(&r);
    // A row record of the clustered index itself must name the row it changed.
    if (out.known && clustered && clustered->hobt_ids.count(info.hobt) && !lob_context(r.context) &&
        std::none_of(info.locks.begin(), info.locks.end(), [&](const LogLock& l) {
          return l.resource == "KEY" && clustered->hobt_ids.count(hobt_of(l.id));
        })) {
      out.known = false;
      out.why_unknown = fmt::format("the log record {} ({}) names no row it changed", r.lsn, r.operation);
    }
  }
  if (!out.known) return out;
  if (!clustered && !changes.empty()) {
    out.known = false;
    out.why_unknown = "a table without a clustered index: its rows are not named alike on source and target";
    return out;
  }
  for (const auto* r : changes) {
    const auto& locks = by_transaction[r->transaction_id];
    if (!locks.coarse.empty()) {
      out.known = false;
      out.why_unknown = fmt::format("transaction {} took a {} lock on it (lock escalation, a table lock or TRUNCATE): "
                                    "the log does not name each row it changed",
                                    r->transaction_id, locks.coarse);
      return out;
    }
    if (locks.keys.empty()) {
      out.known = false;
      out.why_unknown = fmt::format("the log record {} ({}) is in transaction {}, which locked none of its rows",
                                    r->lsn, r->operation, r->transaction_id);
      return out;
    }
    out.lock_resources.insert(locks.keys.begin(), locks.keys.end());
  }
  return out;
}

}  // namespace m2r
