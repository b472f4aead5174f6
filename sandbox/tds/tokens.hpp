#pragma once
// Writers for the response tokens ([MS-TDS] 2.2.7) the sandbox sends.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/api.hpp"
#include "tds/wire.hpp"

namespace sandbox::tds {

enum TokenType : std::uint8_t {
  k_token_colmetadata = 0x81,
  k_token_tabname = 0xA4,
  k_token_colinfo = 0xA5,
  k_token_error = 0xAA,
  k_token_info = 0xAB,
  k_token_returnvalue = 0xAC,
  k_token_loginack = 0xAD,
  k_token_featureextack = 0xAE,
  k_token_returnstatus = 0x79,
  k_token_row = 0xD1,
  k_token_nbcrow = 0xD2,
  k_token_envchange = 0xE3,
  k_token_done = 0xFD,
  k_token_doneproc = 0xFE,
  k_token_doneinproc = 0xFF,
};

// DONE status bits ([MS-TDS] 2.2.7.6).
enum DoneStatus : std::uint16_t {
  k_done_final = 0x00,
  k_done_more = 0x01,
  k_done_error = 0x02,
  k_done_inxact = 0x04,
  k_done_count = 0x10,
  k_done_attn = 0x20,
  k_done_srverror = 0x100,
};

// ENVCHANGE types ([MS-TDS] 2.2.7.9).
enum EnvChangeType : std::uint8_t {
  k_env_database = 1,
  k_env_language = 2,
  k_env_packet_size = 4,
  k_env_sql_collation = 7,
  k_env_begin_tran = 8,
  k_env_commit_tran = 9,
  k_env_rollback_tran = 10,
  k_env_reset_ack = 18,  // RESETCONNECTION acknowledged
};

// TDS 7.4 as LOGINACK states it (big-endian on the wire: 74 00 00 04).
inline constexpr std::uint32_t k_tds_version_74 = 0x74000004;
inline constexpr std::uint32_t k_tds_version_73 = 0x730A0003;  // 7.3A, the first with datetime2
inline constexpr std::uint32_t k_tds_version_72 = 0x72090002;  // 7.2, the first with XMLTYPE and PLP

void write_done(ByteWriter& w, std::uint8_t token, std::uint16_t status, std::uint16_t cur_cmd,
                std::uint64_t row_count);
// INFO when severity <= 10 (reported with class 0 for severity 10, as SQL Server
// does: docs/facts.md §10), ERROR otherwise.
void write_message(ByteWriter& w, const Message& m, const std::string& server_name);
void write_env_string(ByteWriter& w, std::uint8_t type, const std::string& new_value, const std::string& old_value);
void write_env_bytes(ByteWriter& w, std::uint8_t type, const std::vector<std::uint8_t>& new_value,
                     const std::vector<std::uint8_t>& old_value);
// The negotiated version: the client's when older than 7.4, else 7.4.
void write_loginack(ByteWriter& w, const std::string& product_version, std::uint32_t tds_version);
void write_featureextack_empty(ByteWriter& w);
void write_colmetadata(ByteWriter& w, const std::vector<Column>& cols);
// TABNAME and COLINFO for columns that carry browse information (a server cursor's result set);
// nothing for a result set without any.
void write_browse_info(ByteWriter& w, const std::vector<Column>& cols);
// ROW, or NBCROW when any value is NULL.
void write_row(ByteWriter& w, const std::vector<Column>& cols, const std::vector<Value>& values);
void write_returnstatus(ByteWriter& w, std::int32_t status);
void write_returnvalue(ByteWriter& w, std::uint16_t ordinal, const std::string& name, const ColumnType& type,
                       const Value& value);

}  // namespace sandbox::tds
