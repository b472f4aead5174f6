#include "migrate/lsn_capture_step.hpp"

#include <fmt/format.h>

#include "core/tsql.hpp"

namespace m2r {

std::string table_of_alloc_unit(const std::string& name) {
  const auto first = name.find('.');
  if (first == std::string::npos) return {};
  const auto second = name.find('.', first + 1);
  return second == std::string::npos ? name : name.substr(0, second);
}

namespace {

LogOperation operation_of(const std::string& op) {
  if (op == "LOP_BEGIN_XACT") return LogOperation::begin_xact;
  if (op == "LOP_COMMIT_XACT") return LogOperation::commit_xact;
  if (op == "LOP_ABORT_XACT") return LogOperation::abort_xact;
  return LogOperation::other;
}

Expected<Lsn> lsn_column(const mssql::ResultSet& rs, std::size_t row, const char* column) {
  const auto v = M2R_TRY(rs.value(row, column));
  const auto text = v.is_null() ? std::string() : v.to_text();
  auto lsn = Lsn::parse(text);
  if (!lsn) {
    return fail(ErrorKind::fatal, fmt::format("msdb.dbo.backupset.{} is '{}', not an LSN", column, text),
                "this is unexpected from SQL Server; please report it");
  }
  return lsn;
}

nlohmann::json spans_json(const std::vector<TransactionSpan>& spans) {
  auto out = nlohmann::json::array();
  for (const auto& t : spans) {
    out.push_back({{"transaction_id", t.transaction_id},
                   {"name", t.name},
                   {"begin", t.begin.to_hex()},
                   {"end", t.end ? t.end->to_hex() : ""},
                   {"tables", t.tables}});
  }
  return out;
}

}  // namespace

Expected<nlohmann::json> run_lsn_capture_step(StepContext& ctx, mssql::SqlSession& source, const std::string& database,
                                              const std::string& first_backup_file) {
  const mssql::StatementOptions read{.idempotent = mssql::Idempotent::yes};
  const auto bs = M2R_TRY(source.query(tsql::backupset_for_file(database, first_backup_file), {}, read));
  if (bs.rows().empty()) {
    return fail(ErrorKind::prerequisite,
                fmt::format("msdb.dbo.backupset has no full backup of {} to {}", database, first_backup_file),
                "the backup step did not complete; re-run `mssql2rds run`");
  }
  const auto& set = bs.first();
  BackupSetLsns backup;
  backup.first_lsn = M2R_TRY(lsn_column(set, 0, "first_lsn"));
  backup.last_lsn = M2R_TRY(lsn_column(set, 0, "last_lsn"));
  backup.checkpoint_lsn = M2R_TRY(lsn_column(set, 0, "checkpoint_lsn"));
  backup.database_backup_lsn = M2R_TRY(lsn_column(set, 0, "database_backup_lsn"));
  backup.is_copy_only = M2R_TRY(set.value(0, "is_copy_only")).to_text() == "1";

  const auto log_rows = M2R_TRY(source.query(tsql::fn_dblog_transactions(backup.first_lsn.to_hex()), {}, read));
  std::vector<LogRecord> log;
  log.reserve(log_rows.rows().size());
  for (const auto& row : log_rows.rows()) {
    if (row.size() < 5) continue;
    auto lsn = Lsn::parse(row[0].to_text());
    if (!lsn) return fail(ErrorKind::fatal, "fn_dblog returned an unreadable [Current LSN]: " + row[0].to_text());
    log.push_back({*lsn, operation_of(row[1].to_text()), row[2].is_null() ? "" : row[2].to_text(),
                   row[3].is_null() ? "" : row[3].to_text(),
                   row[4].is_null() ? "" : table_of_alloc_unit(row[4].to_text())});
  }

  std::set<std::string> without_pk;
  const auto tables = M2R_TRY(source.query(tsql::list_user_tables(), {}, read));
  for (std::size_t i = 0; i < tables.rows().size(); ++i) {
    const auto has_pk = M2R_TRY(tables.first().value(i, "has_pk")).to_text();
    if (has_pk == "0") {
      without_pk.insert(M2R_TRY(tables.first().value(i, "schema_name")).to_text() + "." +
                        M2R_TRY(tables.first().value(i, "table_name")).to_text());
    }
  }

  const auto d = M2R_TRY(choose_start_point(backup, log, without_pk));
  ctx.info(fmt::format("CDC start point {} (numeric {}): {}", d.start.to_hex(), d.start.to_numeric(), d.rule));
  if (d.differential_base) {
    ctx.info(fmt::format("backupset: first_lsn {}, last_lsn {}; Backup:CommitDifferentialBase at {}",
                         backup.first_lsn.to_hex(), backup.last_lsn.to_hex(), d.differential_base->to_hex()));
  }
  if (!d.lost_by_common_recipe.empty()) {
    ctx.warning(fmt::format("starting at Backup:CommitDifferentialBase (the common recipe) would have lost {} "
                            "transaction(s) open across the backup's end; this start point captures them",
                            d.lost_by_common_recipe.size()));
  }
  if (!d.replayed.empty()) {
    ctx.info(fmt::format("{} transaction(s) already in the backup will be replayed by DMS (harmless on tables with a "
                         "primary key: a replayed insert replaces the row, a replayed change of a row that is gone is skipped)",
                         d.replayed.size()));
  }
  for (const auto& w : d.warnings) ctx.warning(w);

  return nlohmann::json{
      {"start_lsn", d.start.to_hex()},
      {"start_lsn_numeric", d.start.to_numeric()},
      {"rule", d.rule},
      {"backup",
       {{"first_lsn", backup.first_lsn.to_hex()},
        {"last_lsn", backup.last_lsn.to_hex()},
        {"checkpoint_lsn", backup.checkpoint_lsn.to_hex()},
        {"database_backup_lsn", backup.database_backup_lsn.to_hex()},
        {"is_copy_only", backup.is_copy_only}}},
      {"differential_base", d.differential_base ? d.differential_base->to_hex() : ""},
      {"open_transactions", spans_json(d.open_at_backup_end)},
      {"replayed_transactions", spans_json(d.replayed)},
      {"lost_by_common_recipe", spans_json(d.lost_by_common_recipe)},
      {"warnings", d.warnings},
  };
}

}  // namespace m2r
