#include "core/server_edition.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/ascii_case.hpp"

namespace m2r {

namespace {

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

CheckResult result(const char* id, const char* title, CheckStatus status, std::string detail, std::string fix = {}) {
  return {id, title, status, std::move(detail), std::move(fix)};
}

constexpr const char* k_edition_fix =
    "migrate from a Standard, Enterprise or Developer edition: upgrade this instance's edition (SQL Server Setup, "
    "Maintenance > Edition Upgrade), or restore the database on such an instance and migrate from there";

}  // namespace

EditionKind edition_kind(std::string_view edition, int engine_edition) {
  const std::string e = ascii_lower(std::string(edition));
  if (starts_with(e, "express")) return EditionKind::express;
  if (starts_with(e, "web")) return EditionKind::web;
  if (starts_with(e, "standard")) return EditionKind::standard;
  if (starts_with(e, "enterprise")) return EditionKind::enterprise;
  if (starts_with(e, "developer")) return EditionKind::developer;
  if (engine_edition == 4) return EditionKind::express;
  if (!e.empty() || engine_edition != 0) return EditionKind::other;
  return EditionKind::unknown;
}

bool can_publish(EditionKind edition) { return edition != EditionKind::express && edition != EditionKind::web; }
bool has_backup_compression(EditionKind edition) { return edition != EditionKind::express && edition != EditionKind::web; }

std::string edition_query() {
  return "SELECT CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition, "
         "CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition";
}

std::string agent_state_query() {
  return "SELECT servicename, status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%'";
}

bool backup_compression(bool configured, EditionKind edition) { return configured && has_backup_compression(edition); }

void evaluate_server_edition(const SourceFacts& f, std::vector<CheckResult>& out) {
  const EditionKind kind = edition_kind(f.edition, f.engine_edition);
  const char* eid = "source.edition";
  const char* etitle = "the source edition can publish and run MS-CDC";
  switch (kind) {
    case EditionKind::unknown:
      out.push_back(result(eid, etitle, CheckStatus::warn, "SERVERPROPERTY('Edition') could not be read",
                           "check that the login may run SELECT SERVERPROPERTY('Edition'); Express and Web cannot "
                           "publish, and the migration needs a publication"));
      break;
    case EditionKind::express:
      out.push_back(result(eid, etitle, CheckStatus::fail,
                           f.edition + ": it cannot publish (Msg 21106 \"This edition of SQL Server does not support "
                                       "publications.\") and has no SQL Server Agent, so DMS has no way to capture "
                                       "changes from the backup's start point",
                           k_edition_fix));
      break;
    case EditionKind::web:
      out.push_back(result(eid, etitle, CheckStatus::fail,
                           f.edition + ": a transactional replication subscriber only, it cannot publish (Msg 21106) "
                                       "and has no MS-CDC, so DMS has no way to capture changes from the backup's start point",
                           k_edition_fix));
      break;
    default:
      out.push_back(result(eid, etitle, CheckStatus::pass,
                           f.edition.empty() ? fmt::format("EngineEdition {}", f.engine_edition) : f.edition));
  }

  const char* vid = "source.version";
  const char* vtitle = "the source version is one RDS for SQL Server and this tool support (2016 to 2022)";
  if (f.major_version == 0) {
    out.push_back(result(vid, vtitle, CheckStatus::warn, "SERVERPROPERTY('ProductVersion') could not be read",
                         "check that the login may run SELECT SERVERPROPERTY('ProductVersion')"));
  } else if (f.major_version < k_oldest_major_version || f.major_version > k_newest_major_version) {
    out.push_back(result(vid, vtitle, CheckStatus::warn,
                         fmt::format("SQL Server {} (major version {})", f.product_version, f.major_version),
                         f.major_version < k_oldest_major_version
                             ? "this tool is tested with SQL Server 2016 (13.x) to 2022 (16.x) sources: upgrade the "
                               "source, or rehearse the whole migration on a copy first"
                             : "this tool knows SQL Server 2016 (13.x) to 2022 (16.x); RDS cannot restore a backup on an "
                               "older version than the one that took it: check that the RDS engine version is at least "
                               "the source's"));
  } else {
    out.push_back(result(vid, vtitle, CheckStatus::pass, fmt::format("SQL Server {}", f.product_version)));
  }

  // MS-CDC's capture runs as an Agent job: without Agent the log is not processed and not
  // truncated (docs/facts.md §13). It matters where MS-CDC is or will be used.
  const bool needs_cdc = f.is_cdc_enabled || std::any_of(f.tables.begin(), f.tables.end(), [](const SourceTableFacts& t) {
                           return !t.has_pk || t.cdc_enabled;
                         });
  const char* aid = "source.agent";
  const char* atitle = "SQL Server Agent runs (MS-CDC's capture job needs it)";
  const std::string start_agent =
      "start SQL Server Agent and set it to start automatically (SQL Server Configuration Manager; on Linux "
      "`mssql-conf set sqlagent.enabled true`, then restart mssql-server): MS-CDC's capture job runs under it, and "
      "without it the log is never truncated (log_reuse_wait_desc REPLICATION)";
  if (kind == EditionKind::express) {
    out.push_back(result(aid, atitle, CheckStatus::fail, "Express has no SQL Server Agent", k_edition_fix));
  } else if (f.agent_status.empty()) {
    out.push_back(result(aid, atitle, CheckStatus::warn,
                         "sys.dm_server_services could not be read (it needs VIEW SERVER STATE)" +
                             (f.agent_error.empty() ? std::string() : ": " + f.agent_error),
                         "GRANT VIEW SERVER STATE to the login so that check can see SQL Server Agent, or make sure "
                         "yourself that Agent runs" + std::string(needs_cdc ? "; MS-CDC's capture job needs it" : "")));
  } else if (ascii_lower(f.agent_status) == "running") {
    out.push_back(result(aid, atitle, CheckStatus::pass, "SQL Server Agent is " + f.agent_status));
  } else if (needs_cdc) {
    out.push_back(result(aid, atitle, CheckStatus::fail,
                         "SQL Server Agent is " + f.agent_status + " and tables without a primary key need MS-CDC",
                         start_agent));
  } else {
    out.push_back(result(aid, atitle, CheckStatus::warn,
                         "SQL Server Agent is " + f.agent_status + "; no table needs MS-CDC now", start_agent));
  }
}

}  // namespace m2r
