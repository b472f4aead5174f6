#pragma once
// One TOML file per migration. Parsing and validation are pure (text in, config or a
// precise error out); reading the file is config_file.hpp's job in src/migrate.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace m2r {

struct SourceConfig {
  std::string server;        // host name or address of the source SQL Server
  std::uint16_t port = 1433;
  std::string database;
  std::string login;
  std::string password_env;  // name of the environment variable holding the password
  std::string driver = "FreeTDS";  // ODBC driver name or path ("ODBC Driver 18 for SQL Server")
  bool encrypt = true;
  bool trust_server_certificate = false;
  // The CA bundle that verifies the server's certificate; empty = the system's trust store.
  std::string ca_file;
  std::string odbc_connection_string;  // optional; replaces server/port/driver/encrypt when set
  std::string backup_dir_server;  // the backup directory as SQL Server sees it
  std::string backup_dir_local;   // the same directory as this host reads it
  int backup_stripes = 1;         // 1..10 (RDS restores at most 10 files, docs/facts.md §5)
  bool compression = true;
};

struct S3Config {
  std::string bucket;
  std::string prefix;
  std::string region;
};

struct TargetConfig {
  std::string rds_instance;  // DB instance identifier
  std::string database;      // name on RDS; defaults to the source database's
  std::string host_override; // "host:port" to reach the instance (a tunnel); empty = the RDS endpoint
  std::string login;
  std::string password_env;
  std::string driver = "FreeTDS";
  bool encrypt = true;
  bool trust_server_certificate = false;
  std::string ca_file;  // e.g. RDS's global-bundle.pem; empty = the system's trust store
};

struct DmsConfig {
  std::string replication_instance;  // identifier or ARN
  std::string source_endpoint;       // identifier or ARN
  std::string target_endpoint;       // identifier or ARN
  std::string task_id;
  std::string table_mappings = "include-all";  // "include-all" or a path to a DMS table-mappings JSON file
  // Limited LOB mode at this LobMaxSize (KB) instead of the size chosen from the source's
  // largest values (core/lob_mode.hpp); 0 = chosen from the data.
  int lob_max_size_kb = 0;
};

struct UploadConfig {
  int connections = 16;
  std::uint64_t part_size_mib = 0;  // 0: chosen from the file size
  bool streaming = false;           // upload while the backup is being written
  // How the finished object is verified: "checksum" (every part carries its CRC32C, which S3
  // verifies, and the object's composite CRC32C S3 reports is checked against the parts') or
  // "etag" (the multipart ETag only, for S3-compatible stores that misreport CRC32C, such as
  // moto without its optional crc32c module; it sends each part's Content-MD5 too).
  std::string verify_object = "checksum";
  // Also send each part's Content-MD5: no protection beyond the CRC32C, and client CPU
  // (bench/README.md, "Content-MD5 beside CRC32C").
  bool content_md5 = false;
};

// `validate` (and the cutover's validation): how the tables are walked (docs/architecture.md "Validation").
struct ValidateConfig {
  int chunk_rows = 5000;            // rows per key-range chunk
  int max_rows_per_second = 0;      // source rows read per second at most; 0 = unthrottled
  int lock_timeout_ms = 10000;      // SET LOCK_TIMEOUT: a read waiting longer for a writer stops (1222)
  int chunk_timeout_s = 300;        // the bound of each statement
  int max_differences = 100;        // differing rows named per table; the rest are counted
};

struct MigrationConfig {
  std::string name;      // names the journal and defaults the task id
  std::string journal;   // path of the journal; default "<name>.journal" beside the config
  SourceConfig source;
  S3Config s3;
  TargetConfig target;
  DmsConfig dms;
  UploadConfig upload;
  ValidateConfig validate;
};

// Parses and validates. `file_name` is used in messages: "<file>:<line>:<col>: [table] key: problem".
// Unknown keys are errors; secrets are never accepted in the file.
Expected<MigrationConfig> parse_config(std::string_view toml_text, const std::string& file_name);

// The commented template `mssql2rds init` writes.
std::string config_template();

}  // namespace m2r
