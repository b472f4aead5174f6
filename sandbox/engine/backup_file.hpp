#pragma once
// The sandbox's backup file format (README.md "Backup file format"). One backup set is
// one or more stripe files; each stripe is
//   "M2RBAK1\n" | uint32 LE header length | header (JSON) | this stripe's payload bytes
// The payload of the whole set is the stripes' payloads concatenated in stripe order:
// for a full backup the SQLite image of the database file (schema objects, log tail and
// catalog included) as of the backup's end; for a log backup, one JSON log record per line.
#include <cstdint>
#include <string>
#include <vector>

namespace sandbox::engine {

struct BackupHeader {
  int format = 1;
  std::string database;
  std::string type;  // "D" (full) or "L" (log)
  int server_major = 2019;  // the SQL Server release year of the instance that wrote it
  std::string product_version;
  std::string first_lsn, last_lsn, checkpoint_lsn, database_backup_lsn;  // hex 8:8:4 forms
  bool is_copy_only = false;
  bool compressed = false;
  bool has_checksum = false;
  int stripe = 1;
  int stripes = 1;
  std::string backup_set_uuid;
  std::uint64_t payload_size = 0;  // whole set
  std::uint64_t stripe_size = 0;
  std::uint32_t stripe_crc32c = 0;
  std::uint32_t payload_crc32c = 0;
  std::string start_date, finish_date;
  std::string recovery_model;
  std::string lsn_state;  // the writer's LsnState at last_lsn (log backups: where redo ends)
};

inline constexpr char k_backup_magic[] = "M2RBAK1\n";

std::string encode_stripe(const BackupHeader& header, const std::string& stripe_payload);
// Parses a stripe; false (with `error`) when it is not a sandbox backup or is damaged.
bool decode_stripe(const std::string& file, BackupHeader& header, std::string& payload, std::string& error);

}  // namespace sandbox::engine
