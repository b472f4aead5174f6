#pragma once
// Client requests after login: SQL batch ([MS-TDS] 2.2.6.7), RPC (2.2.6.6) and
// transaction manager requests (2.2.6.9), each behind ALL_HEADERS (2.2.5.3).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/api.hpp"

namespace sandbox::tds {

// Well-known procedure ids an RPC may name instead of a procedure ([MS-TDS] 2.2.6.6).
enum class ProcId : std::uint16_t {
  sp_cursor = 1, sp_cursoropen = 2, sp_cursorprepare = 3, sp_cursorexecute = 4,
  sp_cursorprepexec = 5, sp_cursorunprepare = 6, sp_cursorfetch = 7, sp_cursoroption = 8,
  sp_cursorclose = 9, sp_executesql = 10, sp_prepare = 11, sp_execute = 12, sp_prepexec = 13,
  sp_prepexecrpc = 14, sp_unprepare = 15,
};
const char* proc_id_name(std::uint16_t id);  // "sp_executesql"; nullptr when unknown

struct AllHeaders {
  std::uint64_t transaction_descriptor = 0;
};

struct RpcCall {
  std::string procedure;  // resolved name: "sp_executesql" for ProcID 10
  bool by_id = false;
  std::vector<RpcParam> params;
};

struct SqlBatch {
  AllHeaders headers;
  std::string sql;
};
SqlBatch parse_sql_batch(const std::vector<std::uint8_t>& payload);

struct RpcRequest {
  AllHeaders headers;
  std::vector<RpcCall> calls;  // several when the client batched RPCs (separator 0xFF / 0x80)
};
RpcRequest parse_rpc(const std::vector<std::uint8_t>& payload);

enum class TmRequestType : std::uint16_t {
  get_dtc_address = 0, propagate = 1, begin = 5, promote = 6, commit = 7, rollback = 8, save = 9,
};
// The isolation level a TM_BEGIN_XACT asks for ([MS-TDS] 2.2.6.9): 0 keeps the session's.
enum class TmIsolation : std::uint8_t {
  unchanged = 0, read_uncommitted = 1, read_committed = 2, repeatable_read = 3, serializable = 4, snapshot = 5,
};
// "READ COMMITTED" for SET TRANSACTION ISOLATION LEVEL; empty for `unchanged`; throws
// ProtocolError for a byte outside the list.
std::string isolation_sql(TmIsolation level);

struct TmRequest {
  AllHeaders headers;
  TmRequestType type = TmRequestType::begin;
  TmIsolation isolation = TmIsolation::unchanged;  // TM_BEGIN_XACT
  std::string name;           // transaction name (may be empty); BYTELEN in bytes of UCS-2 on the wire
  bool begin_after = false;   // COMMIT/ROLLBACK with fBeginXact: start a new transaction
  TmIsolation new_isolation = TmIsolation::unchanged;  // ... with this isolation level
  std::string new_name;                                // ... and this name
};
TmRequest parse_tm_request(const std::vector<std::uint8_t>& payload);

}  // namespace sandbox::tds
