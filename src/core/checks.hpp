#pragma once
// Preflight: facts gathered from the source, RDS, S3 and DMS are judged here, purely, into
// PASS / WARN / FAIL results, each failure with its fix. Gathering is src/migrate/preflight.
#include <optional>
#include <string>
#include <vector>

namespace m2r {

enum class CheckStatus { pass, warn, fail };
const char* to_string(CheckStatus status);

struct CheckResult {
  std::string id;      // stable, for --json consumers: "source.recovery_model"
  std::string title;   // "recovery model is FULL or BULK_LOGGED"
  CheckStatus status = CheckStatus::pass;
  std::string detail;  // what was found
  std::string fix;     // what to do (empty on pass)
};

struct SourceTableFacts {
  std::string name;  // schema.table
  bool has_pk = false;
  bool published = false;      // an article of a transactional publication
  bool cdc_enabled = false;    // sys.sp_cdc_enable_table was run for it
  bool memory_optimized = false;
  bool columnstore = false;
  // What DMS cannot carry faithfully (docs/facts.md §12), read from sys.columns / sys.indexes;
  // columns as "name (type)".
  bool has_unique_index = false;                 // enabled, unfiltered, other than the primary key
  std::vector<std::string> lob_columns;          // (max) types, text, ntext, image, xml, spatial
  std::vector<std::string> rowversion_columns;   // regenerated on the target
  std::vector<std::string> computed_columns;     // recomputed on the target
  std::vector<std::string> sparse_columns;       // sparse columns and column sets
  std::vector<std::string> clr_columns;          // CLR user-defined types, hierarchyid, spatial
};

// What `EXEC sp_get_distributor` answers (docs/facts.md §13). A login that is neither sysadmin
// nor db_owner of a published or distribution database gets NULLs: it reads as "not installed".
struct DistributorFacts {
  bool known = false;               // sp_get_distributor answered
  std::string error;                // why it did not
  bool installed = false;           // installed
  std::string server;               // distribution server; empty when NULL (none configured)
  bool database_installed = false;  // distribution db installed
  bool is_publisher = false;        // is distribution publisher: this server registered at it
};

struct SourceFacts {
  bool reachable = false;
  std::string connect_error;
  bool database_exists = false;
  std::string database;
  int major_version = 0;       // SERVERPROPERTY('ProductVersion') major
  std::string product_version;
  // core/server_edition: SERVERPROPERTY('Edition') and ('EngineEdition'), empty / 0 when not
  // read; SQL Server Agent's status_desc in sys.dm_server_services ("Running", "Stopped"),
  // empty when the view could not be read (agent_error says why: VIEW SERVER STATE).
  std::string edition;
  int engine_edition = 0;
  std::string agent_status;
  std::string agent_error;
  std::string recovery_model;  // FULL | BULK_LOGGED | SIMPLE
  std::string log_reuse_wait;  // log_reuse_wait_desc
  bool is_published = false;
  bool is_cdc_enabled = false;
  bool is_encrypted = false;   // TDE
  bool accelerated_database_recovery = false;
  std::string delayed_durability;  // DISABLED | ALLOWED | FORCED
  double size_gb = 0;
  bool is_sysadmin = false;
  std::string server_name;     // @@SERVERNAME
  DistributorFacts distributor;
  std::vector<SourceTableFacts> tables;
};

struct RdsFacts {
  bool reachable = false;
  std::string error;         // the AWS error when the call failed
  bool instance_exists = false;
  std::string instance_id;
  std::string engine;        // sqlserver-se, ...
  std::string engine_version;
  int major_version = 0;
  std::string status;        // available, ...
  std::string region;
  double allocated_storage_gb = 0;
  std::string endpoint;      // host:port
  bool option_group_has_backup_restore = false;
  std::string option_group_name;
  std::string option_group_status;  // in-sync, pending-apply, ...
  std::string iam_role_arn;         // IAM_ROLE_ARN setting
  std::optional<bool> target_database_exists;  // unknown when the target could not be reached
  std::string target_connect_error;
};

struct S3Facts {
  bool reachable = false;
  std::string error;
  std::string bucket;
  std::string region;     // GetBucketLocation
  std::string error_fix;  // the error's own fix (a skewed clock is not a missing permission)
};

struct DmsEndpointFacts {
  bool exists = false;
  std::string identifier;
  std::string engine;  // sqlserver
  std::string server;
  int port = 0;
  std::string database;
  std::string connection_status;  // successful | failed | testing | "" (never tested)
  std::string connection_message;
};

struct DmsFacts {
  bool reachable = false;
  std::string error;
  bool instance_exists = false;
  std::string instance_status;  // available, ...
  DmsEndpointFacts source;
  DmsEndpointFacts target;
  bool task_exists = false;     // a task with our identifier already exists
  std::string task_status;
};

struct ExpectedTopology {
  std::string source_server;
  int source_port = 1433;
  std::string source_database;
  std::string target_database;
  std::string s3_region;
  std::string target_host_override;  // "host:port": DMS may reach the target there too (a private address)
};

std::vector<CheckResult> evaluate_source(const SourceFacts& facts);
std::vector<CheckResult> evaluate_rds(const RdsFacts& facts, const SourceFacts& source);
std::vector<CheckResult> evaluate_s3(const S3Facts& facts, const RdsFacts& rds);
std::vector<CheckResult> evaluate_dms(const DmsFacts& facts, const ExpectedTopology& expected, const RdsFacts& rds);

// The fix for a failed DMS TestConnection, from its LastFailureMessage (the server's error as
// DMS reports it: 18456 login failed, 4060 cannot open database, a network or TLS failure).
// `which`: "source" or "target".
std::string dms_connection_fix(const std::string& last_failure_message, const std::string& which);

// The failure is SQL Server's 4060 for exactly `database` ("Cannot open database "x" requested by
// the login"): DMS reached the server and logged in; the database is what is missing.
bool dms_connection_cannot_open_database(const std::string& last_failure_message, const std::string& database);

// How the product connects to one SQL Server (the config's encrypt, trust_server_certificate).
struct ConnectionSecurity {
  std::string section;  // "source" / "target"
  bool encrypt = true;
  bool trust_server_certificate = false;
  bool custom_connection_string = false;  // odbc_connection_string decides
  bool custom_turns_encryption_off = false;
};
// source.tls / rds.tls: WARN for a session in clear after the login (encrypt = false), a
// certificate not verified (trust_server_certificate = true) or no encryption at all.
CheckResult evaluate_connection_security(const ConnectionSecurity& connection);

bool any_failed(const std::vector<CheckResult>& results);

}  // namespace m2r
