#include "core/start_point.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace m2r {

namespace {
constexpr const char* k_diff_base_name = "Backup:CommitDifferentialBase";  // docs/facts.md §2
}

std::vector<TransactionSpan> transactions_of(const std::vector<LogRecord>& log) {
  std::map<std::string, TransactionSpan> by_id;
  std::vector<std::string> order;
  for (const auto& r : log) {
    if (r.transaction_id.empty() || r.transaction_id == "0000:00000000") continue;
    auto it = by_id.find(r.transaction_id);
    if (r.operation == LogOperation::begin_xact) {
      // A transaction id can be reused after the earlier one ended; the newest begin wins.
      TransactionSpan span;
      span.transaction_id = r.transaction_id;
      span.name = r.transaction_name;
      span.begin = r.lsn;
      if (it == by_id.end()) order.push_back(r.transaction_id);
      by_id[r.transaction_id] = span;
      continue;
    }
    if (it == by_id.end()) continue;  // began before the part of the log we can see
    if (r.operation == LogOperation::commit_xact || r.operation == LogOperation::abort_xact) {
      it->second.end = r.lsn;
      it->second.committed = r.operation == LogOperation::commit_xact;
    } else if (!r.table.empty()) {
      it->second.tables.insert(r.table);
    }
  }
  std::vector<TransactionSpan> out;
  for (const auto& id : order) out.push_back(by_id[id]);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  return out;
}

Expected<StartPointDecision> choose_start_point(const BackupSetLsns& backup, const std::vector<LogRecord>& log,
                                                const std::set<std::string>& tables_without_pk) {
  const Lsn end = backup.last_lsn;  // E
  if (log.empty() || log.front().lsn > end) {
    return fail(ErrorKind::prerequisite,
                fmt::format("the active log no longer reaches back to the end of the backup ({}); the start point "
                            "cannot be proven safe",
                            end.to_hex()),
                "take the full backup again and capture the LSN right after it, while the log is held (FULL "
                "recovery, publication or MS-CDC enabled, no log backups in between)");
  }

  // A transaction with records in the visible log but no visible begin, and no end before E,
  // was open at E and began earlier than anything we can see: S cannot be placed before it.
  std::set<std::string> seen_begin, ended_before_end;
  std::map<std::string, Lsn> orphan_first_record;
  for (const auto& r : log) {
    if (r.transaction_id.empty() || r.transaction_id == "0000:00000000") continue;
    if (r.operation == LogOperation::begin_xact) {
      seen_begin.insert(r.transaction_id);
    } else if (!seen_begin.contains(r.transaction_id)) {
      if ((r.operation == LogOperation::commit_xact || r.operation == LogOperation::abort_xact) && r.lsn < end) {
        ended_before_end.insert(r.transaction_id);
      } else if (!ended_before_end.contains(r.transaction_id)) {
        orphan_first_record.emplace(r.transaction_id, r.lsn);
      }
    }
  }
  for (const auto& [id, first] : orphan_first_record) {
    if (!ended_before_end.contains(id) && first < end) {
      return fail(ErrorKind::prerequisite,
                  fmt::format("transaction {} was open at the end of the backup ({}) but its begin record is no longer "
                              "in the log (its first visible record is {})",
                              id, end.to_hex(), first.to_hex()),
                  "a CDC start point must precede it; let that transaction finish, then take the full backup again");
    }
  }

  StartPointDecision d;
  const auto spans = transactions_of(log);
  for (const auto& t : spans) {
    if (t.name == k_diff_base_name && t.begin < end) d.differential_base = t.begin;
    const bool open_at_end = t.begin < end && (!t.end || *t.end >= end);
    if (open_at_end) d.open_at_backup_end.push_back(t);
  }

  if (!d.open_at_backup_end.empty()) {
    d.start = d.open_at_backup_end.front().begin;  // spans are in begin order: the oldest
    d.rule = fmt::format(
        "{} transaction(s) were open at the end of the backup ({}); the restore rolls them back, so CDC must start at "
        "the begin of the oldest of them (transaction {}, '{}') to capture them",
        d.open_at_backup_end.size(), end.to_hex(), d.open_at_backup_end.front().transaction_id,
        d.open_at_backup_end.front().name);
  } else {
    // Nothing open at E: the latest transaction that began before E starts a range in which
    // everything is already in the backup (harmless replay), and every later one is captured.
    std::optional<Lsn> latest_before;
    for (const auto& t : spans) {
      if (t.begin < end) latest_before = t.begin;
    }
    std::optional<Lsn> first_after;
    for (const auto& t : spans) {
      if (t.begin >= end) {
        first_after = t.begin;
        break;
      }
    }
    if (first_after && !latest_before) {
      d.start = *first_after;
      d.rule = fmt::format("no transaction was open at the end of the backup ({}); CDC starts at the first "
                           "transaction that began after it",
                           end.to_hex());
    } else if (latest_before) {
      d.start = *latest_before;
      d.rule = fmt::format("no transaction was open at the end of the backup ({}); CDC starts at the last transaction "
                           "that began before it (already in the backup, replayed harmlessly), so that every later "
                           "transaction is captured",
                           end.to_hex());
    } else {
      return fail(ErrorKind::prerequisite,
                  fmt::format("no transaction begin record is visible in the log around the end of the backup ({})",
                              end.to_hex()),
                  "DMS needs a start position on a transaction boundary; run the LSN capture again after any "
                  "write to the database");
    }
  }

  for (const auto& t : spans) {
    if (t.begin >= d.start && t.end && *t.end < end && t.committed) {
      d.replayed.push_back(t);
      for (const auto& table : t.tables) {
        if (tables_without_pk.contains(table)) d.replayed_tables_without_pk.insert(table);
      }
    }
  }
  if (!d.replayed_tables_without_pk.empty()) {
    std::string names;
    for (const auto& n : d.replayed_tables_without_pk) names += (names.empty() ? "" : ", ") + n;
    d.warnings.push_back(fmt::format(
        "transactions already in the backup will be replayed on tables without a primary key ({}): DMS cannot upsert "
        "there, so those rows may be duplicated; check them with `mssql2rds validate` and add primary keys if you can",
        names));
  }

  // What the common recipe (start at Backup:CommitDifferentialBase) would lose: transactions
  // that began before it and were still open at E (docs/facts.md §2, "Loss").
  if (d.differential_base) {
    for (const auto& t : d.open_at_backup_end) {
      if (t.begin < *d.differential_base) d.lost_by_common_recipe.push_back(t);
    }
  } else if (!backup.is_copy_only) {
    d.warnings.push_back("no 'Backup:CommitDifferentialBase' record was found before the end of the backup; the "
                         "start point was chosen from the open transactions alone");
  }

  // Cross-checks with backupset.
  if (d.start < backup.first_lsn) {
    d.warnings.push_back(fmt::format("the start point {} lies before the backup's first_lsn {}", d.start.to_hex(),
                                     backup.first_lsn.to_hex()));
  }
  if (d.differential_base && *d.differential_base < backup.checkpoint_lsn) {
    d.warnings.push_back(fmt::format("the differential base record {} lies before the backup's checkpoint_lsn {}",
                                     d.differential_base->to_hex(), backup.checkpoint_lsn.to_hex()));
  }
  return d;
}

}  // namespace m2r
