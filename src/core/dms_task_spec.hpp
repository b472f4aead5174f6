#pragma once
// The DMS task mssql2rds creates (docs/facts.md §3, §4): migration type cdc from a native start
// position, target restored from a backup (TargetTablePrepMode DO_NOTHING), replayed inserts
// replacing the row so that the overlap between backup and CDC start converges (and never
// ApplyErrorUpdatePolicy=UPDATE_RECORD, which disables LOB replication: docs/facts.md §2).
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/lob_mode.hpp"
#include "core/lsn.hpp"

namespace m2r {

// "include-all": every table of every schema. Otherwise the text of a DMS table-mappings
// file, which is validated (rules array, rule-type, object-locator) and passed through.
Expected<std::string> table_mappings_json(const std::string& mode_or_file_text);

// Whether a DMS table-mappings document (JSON text, as table_mappings_json returns it) selects
// the table: an include (or explicit) selection rule matches it and no exclude rule does;
// '%' in a name matches any run of characters, compared without case as SQL Server's default
// collation compares names.
bool table_mappings_select(const std::string& mappings_json, const std::string& schema, const std::string& table);

// ReplicationTaskSettings for a CDC task applied onto a restored target, with the LOB mode
// chosen from the source's data (core/lob_mode.hpp) as TargetMetadata.
std::string replication_task_settings_json(const LobDecision& lobs = LobDecision{});

struct ReplicationTaskRequest {
  std::string identifier;
  std::string source_endpoint_arn;
  std::string target_endpoint_arn;
  std::string replication_instance_arn;
  std::string table_mappings;  // JSON text
  Lsn start;
  LobDecision lobs;
};

// The CreateReplicationTask request body (JSON 1.1). CdcStartPosition is the hex form;
// never a hand-built checkpoint (docs/facts.md §4).
nlohmann::json create_replication_task_body(const ReplicationTaskRequest& request);

}  // namespace m2r
