#pragma once
// The sandbox's transaction log: one table __m2r_log in each database file, LSNs in
// SQL Server's VLF:block:slot form that advance as docs/facts.md §11 describes. The table is
// the clean, queryable structure DMS's CDC engine reads (see README.md "The log").
#ifndef SQLITE_ENABLE_PREUPDATE_HOOK
#define SQLITE_ENABLE_PREUPDATE_HOOK 1  // Debian's libsqlite3 has it compiled in
#endif
#include <sqlite3.h>

#include <cstdint>
#include <string>

#include "core/lsn.hpp"

namespace sandbox::engine {

// Where the next record goes (docs/facts.md §11). Persisted in __m2r_meta('lsn_state').
struct LsnState {
  std::uint32_t vlf = 0x22;
  std::uint32_t block = 0x10;
  std::uint16_t slot = 0;        // slots used in the open block
  std::uint32_t block_bytes = 0;  // bytes of records in the open block

  // The LSN the next record will get if it starts the block or continues it.
  m2r::Lsn peek() const;
  // Assigns an LSN to a record of `size` bytes; `closes_block` for commit/abort/checkpoint.
  m2r::Lsn next(std::uint32_t size, bool closes_block);
  void close_block();
  std::string serialize() const;
  static LsnState parse(const std::string& text);
};

inline constexpr std::uint32_t k_block_limit = 60 * 1024;   // a block holds at most 60 KB (§11)
inline constexpr std::uint32_t k_vlf_blocks = 0x800;         // 1 MiB VLFs in 512-byte units (sandbox choice)
inline constexpr std::uint32_t k_first_block = 0x10;         // a new VLF starts at block 0x10 (§11)

struct LogRecord {
  std::string operation;  // LOP_BEGIN_XACT, LOP_COMMIT_XACT, LOP_ABORT_XACT, LOP_INSERT_ROWS, ...
  std::string context = "LCX_NULL";
  std::string xact_id;    // "0000:000004d2"; "0000:00000000" for non-transactional records
  std::string xact_name;  // begin records only
  std::string begin_time; // begin records only ("YYYY/MM/DD HH:MM:SS:mmm" as fn_dblog shows)
  std::string end_time;   // commit/abort records
  std::string table_name; // "dbo.Orders" for row records
  std::int64_t row_id = 0;
  std::int64_t row_id_after = 0;
  std::string before_json;  // row image before (delete/update), JSON object column -> value
  std::string after_json;   // row image after (insert/update)
  std::string description;
  std::string begin_lsn;    // commit/abort: the begin record's LSN of the same transaction
  std::string lock_information;  // row records: fn_dblog's [Lock Information] (lock_resource.hpp)
  int spid = 0;
};

void create_log_schema(sqlite3* db);
// Appends one record, assigning its LSN from `state`; returns the LSN (hex form).
std::string append_log(sqlite3* db, LsnState& state, const LogRecord& rec);
std::string format_xact_id(std::int64_t id);
std::string fn_dblog_time_now();

}  // namespace sandbox::engine
