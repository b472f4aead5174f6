#include "core/config.hpp"

#include <algorithm>
#include <functional>
#include <cctype>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace m2r {

namespace {

enum class Kind { string, integer, boolean };

// One accepted key: where it lives, its type, whether it is required, an example of a
// good value (shown in every error about it) and how it lands in MigrationConfig.
struct Field {
  const char* table;
  const char* key;
  Kind kind;
  bool required;
  const char* example;
  std::function<std::optional<std::string>(MigrationConfig&, const toml::node&)> apply;  // returns a problem
};

std::string position(const std::string& file, const toml::source_region& src) {
  return fmt::format("{}:{}:{}", file, src.begin.line, src.begin.column);
}

tl::unexpected<Error> config_error(const std::string& file, const toml::source_region& src, const std::string& where,
                                   const std::string& problem, const std::string& example) {
  return fail(ErrorKind::invalid_input, fmt::format("{}: {}: {}", position(file, src), where, problem),
              example.empty() ? std::string() : fmt::format("for example: {}", example));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

using Setter = std::function<std::optional<std::string>(MigrationConfig&, const toml::node&)>;

Setter str(std::string MigrationConfig::*member) {
  return [member](MigrationConfig& c, const toml::node& n) -> std::optional<std::string> {
    c.*member = *n.value<std::string>();
    return std::nullopt;
  };
}

template <typename Section>
Setter str_in(Section MigrationConfig::*section, std::string Section::*member) {
  return [section, member](MigrationConfig& c, const toml::node& n) -> std::optional<std::string> {
    (c.*section).*member = *n.value<std::string>();
    return std::nullopt;
  };
}

template <typename Section>
Setter bool_in(Section MigrationConfig::*section, bool Section::*member) {
  return [section, member](MigrationConfig& c, const toml::node& n) -> std::optional<std::string> {
    (c.*section).*member = *n.value<bool>();
    return std::nullopt;
  };
}

template <typename Section, typename Int>
Setter int_in(Section MigrationConfig::*section, Int Section::*member, std::int64_t lo, std::int64_t hi) {
  return [=](MigrationConfig& c, const toml::node& n) -> std::optional<std::string> {
    const auto v = *n.value<std::int64_t>();
    if (v < lo || v > hi) return fmt::format("{} is out of range; allowed {} to {}", v, lo, hi);
    (c.*section).*member = static_cast<Int>(v);
    return std::nullopt;
  };
}

// Value shapes, as predicates (no std::regex: gcc 12 warns inside it under sanitizers).
using Shape = bool (*)(const std::string&);

bool all_chars(const std::string& s, std::size_t from, const char* extra, bool lower_only = false) {
  for (std::size_t i = from; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool alnum = lower_only ? (std::islower(c) || std::isdigit(c)) : std::isalnum(c) != 0;
    if (!alnum && !std::strchr(extra, c)) return false;
  }
  return true;
}
// DMS identifiers (docs/facts.md §4): 1-255 letters, digits, hyphens; starts with a letter.
bool is_identifier(const std::string& s) {
  return !s.empty() && s.size() <= 255 && std::isalpha(static_cast<unsigned char>(s[0])) && all_chars(s, 1, "-");
}
bool is_rds_id(const std::string& s) { return is_identifier(s) && s.size() <= 63; }
bool is_bucket(const std::string& s) {
  return s.size() >= 3 && s.size() <= 63 && all_chars(s, 0, ".-", true) && std::isalnum(static_cast<unsigned char>(s.front())) &&
         std::isalnum(static_cast<unsigned char>(s.back()));
}
// "us-east-1", "us-gov-west-1", "ap-southeast-2": lower-case words joined by '-', ending in a number.
bool is_region(const std::string& s) {
  const auto last = s.rfind('-');
  const auto first = s.find('-');
  if (first == std::string::npos || first == last || last + 1 >= s.size()) return false;
  for (std::size_t i = last + 1; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  for (std::size_t i = 0; i < last; ++i) {
    if (!std::islower(static_cast<unsigned char>(s[i])) && s[i] != '-') return false;
  }
  return first == 2;
}
bool is_env_name(const std::string& s) {
  return !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_') && all_chars(s, 1, "_");
}
bool is_verify_mode(const std::string& s) { return s == "checksum" || s == "etag"; }
bool is_host_port(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size() || s.size() - colon - 1 > 5) return false;
  for (std::size_t i = colon + 1; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return all_chars(s.substr(0, colon), 0, ".-[]:");
}

Setter validated(Setter inner, Shape shape, const char* what) {
  return [inner = std::move(inner), shape, what](MigrationConfig& c, const toml::node& n) -> std::optional<std::string> {
    const auto v = *n.value<std::string>();
    if (!shape(v)) return fmt::format("'{}' is not {}", v, what);
    return inner(c, n);
  };
}

const std::vector<Field>& fields() {
  using M = MigrationConfig;
  static const std::vector<Field> k_fields = {
      {"migration", "name", Kind::string, true, "name = \"sales-to-rds\"",
       validated(str(&M::name), is_identifier, "a name of letters, digits and hyphens starting with a letter")},
      {"migration", "journal", Kind::string, false, "journal = \"sales-to-rds.journal\"", str(&M::journal)},

      {"source", "server", Kind::string, true, "server = \"sqlprod01.corp.example.com\"", str_in(&M::source, &SourceConfig::server)},
      {"source", "port", Kind::integer, false, "port = 1433", int_in(&M::source, &SourceConfig::port, 1, 65535)},
      {"source", "database", Kind::string, true, "database = \"Sales\"", str_in(&M::source, &SourceConfig::database)},
      {"source", "login", Kind::string, true, "login = \"mssql2rds\"", str_in(&M::source, &SourceConfig::login)},
      {"source", "password_env", Kind::string, true, "password_env = \"MSSQL2RDS_SOURCE_PASSWORD\"",
       validated(str_in(&M::source, &SourceConfig::password_env), is_env_name, "an environment variable name")},
      {"source", "driver", Kind::string, false, "driver = \"ODBC Driver 18 for SQL Server\"", str_in(&M::source, &SourceConfig::driver)},
      {"source", "encrypt", Kind::boolean, false, "encrypt = true", bool_in(&M::source, &SourceConfig::encrypt)},
      {"source", "trust_server_certificate", Kind::boolean, false, "trust_server_certificate = false",
       bool_in(&M::source, &SourceConfig::trust_server_certificate)},
      {"source", "ca_file", Kind::string, false, "ca_file = \"/etc/ssl/certs/corp-ca.pem\"",
       str_in(&M::source, &SourceConfig::ca_file)},
      {"source", "odbc_connection_string", Kind::string, false,
       "odbc_connection_string = \"Driver={ODBC Driver 18 for SQL Server};Server=tcp:db01,1433;Encrypt=yes\"",
       str_in(&M::source, &SourceConfig::odbc_connection_string)},
      {"source", "backup_dir_server", Kind::string, true, "backup_dir_server = 'D:\\Backups'",
       str_in(&M::source, &SourceConfig::backup_dir_server)},
      {"source", "backup_dir_local", Kind::string, true, "backup_dir_local = \"/mnt/sqlbackups\"",
       str_in(&M::source, &SourceConfig::backup_dir_local)},
      {"source", "backup_stripes", Kind::integer, false, "backup_stripes = 4",
       int_in(&M::source, &SourceConfig::backup_stripes, 1, 10)},
      {"source", "compression", Kind::boolean, false, "compression = true", bool_in(&M::source, &SourceConfig::compression)},

      {"s3", "bucket", Kind::string, true, "bucket = \"my-sql-backups\"",
       validated(str_in(&M::s3, &S3Config::bucket), is_bucket, "a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)")},
      {"s3", "prefix", Kind::string, false, "prefix = \"migrations/sales/\"", str_in(&M::s3, &S3Config::prefix)},
      {"s3", "region", Kind::string, true, "region = \"us-east-1\"",
       validated(str_in(&M::s3, &S3Config::region), is_region, "an AWS region name")},

      {"target", "rds_instance", Kind::string, true, "rds_instance = \"sales-rds\"",
       validated(str_in(&M::target, &TargetConfig::rds_instance), is_rds_id, "an RDS DB instance identifier")},
      {"target", "database", Kind::string, false, "database = \"Sales\"", str_in(&M::target, &TargetConfig::database)},
      {"target", "host_override", Kind::string, false, "host_override = \"127.0.0.1:11433\"",
       validated(str_in(&M::target, &TargetConfig::host_override), is_host_port, "host:port")},
      {"target", "login", Kind::string, true, "login = \"admin\"", str_in(&M::target, &TargetConfig::login)},
      {"target", "password_env", Kind::string, true, "password_env = \"MSSQL2RDS_TARGET_PASSWORD\"",
       validated(str_in(&M::target, &TargetConfig::password_env), is_env_name, "an environment variable name")},
      {"target", "driver", Kind::string, false, "driver = \"FreeTDS\"", str_in(&M::target, &TargetConfig::driver)},
      {"target", "encrypt", Kind::boolean, false, "encrypt = true", bool_in(&M::target, &TargetConfig::encrypt)},
      {"target", "trust_server_certificate", Kind::boolean, false, "trust_server_certificate = false",
       bool_in(&M::target, &TargetConfig::trust_server_certificate)},
      {"target", "ca_file", Kind::string, false, "ca_file = \"global-bundle.pem\"",
       str_in(&M::target, &TargetConfig::ca_file)},

      {"dms", "replication_instance", Kind::string, true, "replication_instance = \"dms-migration\"",
       str_in(&M::dms, &DmsConfig::replication_instance)},
      {"dms", "source_endpoint", Kind::string, true, "source_endpoint = \"sales-source\"",
       str_in(&M::dms, &DmsConfig::source_endpoint)},
      {"dms", "target_endpoint", Kind::string, true, "target_endpoint = \"sales-target\"",
       str_in(&M::dms, &DmsConfig::target_endpoint)},
      {"dms", "task_id", Kind::string, false, "task_id = \"sales-cdc\"",
       validated(str_in(&M::dms, &DmsConfig::task_id), is_identifier,
                 "a DMS identifier (1-255 letters, digits and hyphens, starting with a letter)")},
      {"dms", "table_mappings", Kind::string, false, "table_mappings = \"include-all\"  or  \"mappings.json\"",
       str_in(&M::dms, &DmsConfig::table_mappings)},
      // DMS takes LobMaxSize up to 102400 KB (docs/facts.md §12, core/lob_mode.hpp).
      {"dms", "lob_max_size_kb", Kind::integer, false, "lob_max_size_kb = 1024",
       int_in(&M::dms, &DmsConfig::lob_max_size_kb, 0, 102400)},

      {"upload", "connections", Kind::integer, false, "connections = 16", int_in(&M::upload, &UploadConfig::connections, 1, 256)},
      {"upload", "part_size_mib", Kind::integer, false, "part_size_mib = 64",
       int_in(&M::upload, &UploadConfig::part_size_mib, 5, 5 * 1024)},  // S3 part limits, docs/facts.md §7
      {"upload", "streaming", Kind::boolean, false, "streaming = true", bool_in(&M::upload, &UploadConfig::streaming)},
      {"upload", "verify_object", Kind::string, false, "verify_object = \"checksum\"",
       validated(str_in(&M::upload, &UploadConfig::verify_object), is_verify_mode, "\"checksum\" or \"etag\"")},
      {"upload", "content_md5", Kind::boolean, false, "content_md5 = false", bool_in(&M::upload, &UploadConfig::content_md5)},

      {"validate", "chunk_rows", Kind::integer, false, "chunk_rows = 5000",
       int_in(&M::validate, &ValidateConfig::chunk_rows, 100, 1000000)},
      {"validate", "max_rows_per_second", Kind::integer, false, "max_rows_per_second = 20000",
       int_in(&M::validate, &ValidateConfig::max_rows_per_second, 0, 1000000000)},
      {"validate", "lock_timeout_ms", Kind::integer, false, "lock_timeout_ms = 10000",
       int_in(&M::validate, &ValidateConfig::lock_timeout_ms, -1, 3600000)},
      {"validate", "chunk_timeout_s", Kind::integer, false, "chunk_timeout_s = 300",
       int_in(&M::validate, &ValidateConfig::chunk_timeout_s, 1, 86400)},
      {"validate", "max_differences", Kind::integer, false, "max_differences = 100",
       int_in(&M::validate, &ValidateConfig::max_differences, 1, 100000)},
  };
  return k_fields;
}

bool kind_matches(Kind kind, const toml::node& n) {
  switch (kind) {
    case Kind::string: return n.is_string();
    case Kind::integer: return n.is_integer();
    case Kind::boolean: return n.is_boolean();
  }
  return false;
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::string: return "a string";
    case Kind::integer: return "an integer";
    case Kind::boolean: return "true or false";
  }
  return "?";
}

std::string suggestion(std::string_view table, std::string_view key) {
  std::string best;
  std::size_t best_d = 3;  // suggest only near misses
  for (const auto& f : fields()) {
    if (!table.empty() && f.table != table) continue;
    const auto d = edit_distance(key, table.empty() ? f.table : f.key);
    if (d < best_d) {
      best_d = d;
      best = table.empty() ? f.table : f.key;
    }
  }
  return best;
}

}  // namespace

Expected<MigrationConfig> parse_config(std::string_view toml_text, const std::string& file_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, file_name);
  } catch (const toml::parse_error& e) {
    return config_error(file_name, e.source(), "TOML syntax", std::string(e.description()), "");
  }

  MigrationConfig config;
  // Unknown tables and keys are errors: a misspelt key would otherwise silently fall back to a default.
  for (const auto& [table_key, table_node] : root) {
    const std::string table_name(table_key.str());
    const bool known_table = std::any_of(fields().begin(), fields().end(),
                                         [&](const Field& f) { return f.table == table_name; });
    if (!known_table || !table_node.is_table()) {
      const auto near = suggestion("", table_name);
      return config_error(file_name, table_node.source(), fmt::format("[{}]", table_name),
                          known_table ? "must be a table" : "unknown section" + (near.empty() ? "" : fmt::format("; did you mean [{}]?", near)),
                          "sections are [migration], [source], [s3], [target], [dms], [upload], [validate]");
    }
    for (const auto& [key, node] : *table_node.as_table()) {
      const std::string key_name(key.str());
      const auto f = std::find_if(fields().begin(), fields().end(),
                                  [&](const Field& fl) { return fl.table == table_name && fl.key == key_name; });
      const std::string where = fmt::format("[{}] {}", table_name, key_name);
      if (key_name == "password" || key_name == "secret_access_key" || key_name == "aws_secret_access_key") {
        return config_error(file_name, node.source(), where,
                            "secrets are never read from the configuration file",
                            "password_env = \"MSSQL2RDS_SOURCE_PASSWORD\" (the password is read from that variable "
                            "or prompted for); AWS keys come from your AWS profile");
      }
      if (f == fields().end()) {
        const auto near = suggestion(table_name, key_name);
        return config_error(file_name, key.source(), where,
                            "unknown key" + (near.empty() ? "" : fmt::format("; did you mean '{}'?", near)),
                            near.empty() ? "see `mssql2rds init` for every key" : std::string(
                                std::find_if(fields().begin(), fields().end(), [&](const Field& fl) {
                                  return fl.table == table_name && fl.key == near;
                                })->example));
      }
      if (!kind_matches(f->kind, node)) {
        return config_error(file_name, node.source(), where, fmt::format("must be {}", kind_name(f->kind)), f->example);
      }
      if (f->kind == Kind::string && node.value<std::string>()->empty() && f->required) {
        return config_error(file_name, node.source(), where, "must not be empty", f->example);
      }
      if (auto problem = f->apply(config, node)) {
        return config_error(file_name, node.source(), where, *problem, f->example);
      }
    }
  }
  for (const auto& f : fields()) {
    if (!f.required) continue;
    const auto* table = root.get_as<toml::table>(f.table);
    if (!table || !table->contains(f.key)) {
      toml::source_region whole;
      whole.begin = {1, 1};
      if (table) whole = table->source();
      return config_error(file_name, whole, fmt::format("[{}] {}", f.table, f.key), "required key is missing", f.example);
    }
  }
  if (config.target.database.empty()) config.target.database = config.source.database;
  if (config.dms.task_id.empty()) config.dms.task_id = config.name + "-cdc";
  if (config.journal.empty()) config.journal = config.name + ".journal";
  return config;
}

std::string config_template() {
  return R"(# mssql2rds migration configuration. One file per migration.
# Every key is checked when the file is loaded: unknown keys are errors.
# Secrets are never stored here: passwords come from environment variables (or a prompt),
# AWS credentials from your usual AWS profile (AWS_PROFILE, ~/.aws/config, roles).

[migration]
name = "sales-to-rds"                 # REQUIRED: names the journal and the default DMS task id
# journal = "sales-to-rds.journal"    # where progress is recorded; default: <name>.journal

[source]                              # the SQL Server you migrate from
server = "sqlprod01.corp.example.com" # REQUIRED
port = 1433
database = "Sales"                    # REQUIRED
login = "mssql2rds"                   # REQUIRED: db_owner, VIEW SERVER STATE, SELECT on fn_dblog and msdb backup tables
password_env = "MSSQL2RDS_SOURCE_PASSWORD"  # REQUIRED: the variable that holds the password (prompted if unset)
driver = "ODBC Driver 18 for SQL Server"    # or "FreeTDS"
encrypt = true                        # false still encrypts the login (password), nothing after it
trust_server_certificate = false      # true: any certificate is accepted (check warns)
# ca_file = "/etc/ssl/certs/corp-ca.pem"  # the CA that signed the server's certificate; default: the system's
# odbc_connection_string = "Driver={ODBC Driver 18 for SQL Server};Server=tcp:db01,1433;Encrypt=yes"
backup_dir_server = 'D:\Backups'      # REQUIRED: the backup directory as SQL Server sees it
backup_dir_local = "/mnt/sqlbackups"  # REQUIRED: the same directory as this machine reads it
backup_stripes = 1                    # 1-10 files; RDS restores at most 10
compression = true

[s3]
bucket = "my-sql-backups"             # REQUIRED: in the same region as the RDS instance
prefix = "migrations/sales/"
region = "us-east-1"                  # REQUIRED

[target]                              # the RDS for SQL Server instance
rds_instance = "sales-rds"            # REQUIRED: the DB instance identifier
# database = "Sales"                  # default: the source database's name
# host_override = "127.0.0.1:11433"   # reach the instance through a tunnel instead of its endpoint
login = "admin"                       # REQUIRED: the master user
password_env = "MSSQL2RDS_TARGET_PASSWORD"  # REQUIRED
driver = "ODBC Driver 18 for SQL Server"
encrypt = true
trust_server_certificate = false
# ca_file = "global-bundle.pem"       # RDS's CA bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)

[dms]                                 # identifiers or ARNs
replication_instance = "dms-migration"  # REQUIRED
source_endpoint = "sales-source"      # REQUIRED: a sqlserver endpoint pointing at [source]
target_endpoint = "sales-target"      # REQUIRED: a sqlserver endpoint pointing at [target]
# task_id = "sales-to-rds-cdc"        # default: <name>-cdc
table_mappings = "include-all"        # or the path of a DMS table-mappings JSON file
# lob_max_size_kb = 0                 # LOB mode chosen from the source's largest values; N = limited mode at N KB

[upload]
connections = 16                      # parallel S3 connections
# part_size_mib = 64                  # default: chosen from the backup size (5 MiB - 5 GiB, <= 10,000 parts)
streaming = false                     # upload while the backup is still being written
verify_object = "checksum"            # each part's CRC32C and the object's composite CRC32C, verified;
                                      # "etag" only for S3-compatible stores that misreport CRC32C
content_md5 = false                   # CRC32C already protects every part; true also sends Content-MD5

[validate]                            # every row's SHA2_256 hash, compared per key range
# chunk_rows = 5000                   # rows per chunk of the key-order walk
# max_rows_per_second = 0             # throttle the reads on the source; 0 = unthrottled
# lock_timeout_ms = 10000             # a read waiting longer for a writer's lock stops the validation
# chunk_timeout_s = 300               # the bound of each statement
# max_differences = 100               # differing rows named per table; the rest are counted
)";
}

}  // namespace m2r
