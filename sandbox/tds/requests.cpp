#include "tds/requests.hpp"

#include "tds/type_codec.hpp"
#include "tds/wire.hpp"

namespace sandbox::tds {
namespace {
constexpr std::uint16_t k_header_transaction_descriptor = 2;
constexpr std::uint16_t k_proc_by_id = 0xFFFF;
constexpr std::uint8_t k_param_by_ref = 0x01;       // fByRefValue: an OUTPUT parameter
constexpr std::uint8_t k_param_default = 0x02;      // fDefaultValue
constexpr std::uint8_t k_batch_separator_72 = 0xFF; // TDS 7.2+
constexpr std::uint8_t k_batch_separator_old = 0x80;
constexpr std::uint8_t k_no_exec = 0xFE;
constexpr std::uint8_t k_tm_begin_xact_flag = 0x01;

AllHeaders read_all_headers(ByteReader& r) {
  AllHeaders h;
  const std::size_t start = r.pos();
  const std::uint32_t total = r.u32();
  if (total < 4 || total > r.size() - start) throw ProtocolError("ALL_HEADERS length beyond the message");
  while (r.pos() < start + total) {
    const std::size_t header_start = r.pos();
    const std::uint32_t len = r.u32();
    if (len < 6 || header_start + len > start + total) throw ProtocolError("malformed ALL_HEADERS entry");
    const std::uint16_t type = r.u16();
    if (type == k_header_transaction_descriptor && len >= 6 + 8) h.transaction_descriptor = r.u64();
    r.seek(header_start + len);
  }
  return h;
}

// ALL_HEADERS is mandatory from TDS 7.2 on; a client speaking 7.1 would start with
// the request itself. Heuristic as servers apply it: a leading DWORD that matches a
// plausible header length.
bool has_all_headers(const std::vector<std::uint8_t>& payload) {
  if (payload.size() < 4) return false;
  ByteReader r(payload);
  const std::uint32_t total = r.u32();
  return total >= 4 && total <= payload.size() && (total == 4 || total >= 18);
}
}  // namespace

const char* proc_id_name(std::uint16_t id) {
  static const char* const names[] = {nullptr, "sp_cursor", "sp_cursoropen", "sp_cursorprepare",
                                      "sp_cursorexecute", "sp_cursorprepexec", "sp_cursorunprepare",
                                      "sp_cursorfetch", "sp_cursoroption", "sp_cursorclose",
                                      "sp_executesql", "sp_prepare", "sp_execute", "sp_prepexec",
                                      "sp_prepexecrpc", "sp_unprepare"};
  return id < std::size(names) ? names[id] : nullptr;
}

SqlBatch parse_sql_batch(const std::vector<std::uint8_t>& payload) {
  SqlBatch b;
  ByteReader r(payload);
  if (has_all_headers(payload)) b.headers = read_all_headers(r);
  b.sql = r.ucs2(r.remaining() / 2);
  return b;
}

RpcRequest parse_rpc(const std::vector<std::uint8_t>& payload) {
  RpcRequest req;
  ByteReader r(payload);
  if (has_all_headers(payload)) req.headers = read_all_headers(r);
  while (!r.at_end()) {
    RpcCall call;
    const std::uint16_t name_len = r.u16();
    if (name_len == k_proc_by_id) {
      const std::uint16_t id = r.u16();
      const char* name = proc_id_name(id);
      if (!name) throw ProtocolError("RPC with unknown procedure id " + std::to_string(id));
      call.procedure = name;
      call.by_id = true;
    } else {
      call.procedure = r.ucs2(name_len);
    }
    r.u16();  // OptionFlags: fWithRecomp, fNoMetaData, fReuseMetaData
    while (!r.at_end()) {
      const std::size_t mark = r.pos();
      const std::uint8_t next = r.u8();
      if (next == k_batch_separator_72 || next == k_batch_separator_old || next == k_no_exec) break;
      r.seek(mark);
      RpcParam p;
      p.name = r.b_varchar();
      const std::uint8_t status = r.u8();
      p.output = (status & k_param_by_ref) != 0;
      DecodedValue v = read_type_and_value(r);
      p.type = v.type;
      p.value = (status & k_param_default) ? Value{} : std::move(v.value);
      call.params.push_back(std::move(p));
    }
    req.calls.push_back(std::move(call));
  }
  return req;
}

std::string isolation_sql(TmIsolation level) {
  switch (level) {
    case TmIsolation::unchanged: return {};
    case TmIsolation::read_uncommitted: return "READ UNCOMMITTED";
    case TmIsolation::read_committed: return "READ COMMITTED";
    case TmIsolation::repeatable_read: return "REPEATABLE READ";
    case TmIsolation::serializable: return "SERIALIZABLE";
    case TmIsolation::snapshot: return "SNAPSHOT";
  }
  throw ProtocolError("transaction manager request with isolation level " + std::to_string(static_cast<int>(level)));
}

namespace {
// A transaction name: BYTELEN (its length in bytes) then UCS-2, as tedious and the
// Microsoft drivers send it ([MS-TDS] 2.2.6.9).
std::string read_tm_name(ByteReader& r) {
  if (r.at_end()) return {};
  const std::uint8_t bytes = r.u8();
  if (bytes % 2 != 0) throw ProtocolError("transaction name of an odd number of bytes");
  return r.ucs2(bytes / 2u);
}

TmIsolation read_isolation(ByteReader& r) {
  const std::uint8_t level = r.u8();
  if (level > static_cast<std::uint8_t>(TmIsolation::snapshot)) {
    throw ProtocolError("transaction manager request with isolation level " + std::to_string(level));
  }
  return static_cast<TmIsolation>(level);
}
}  // namespace

TmRequest parse_tm_request(const std::vector<std::uint8_t>& payload) {
  TmRequest t;
  ByteReader r(payload);
  t.headers = read_all_headers(r);
  t.type = static_cast<TmRequestType>(r.u16());
  switch (t.type) {
    case TmRequestType::begin:
      if (!r.at_end()) t.isolation = read_isolation(r);
      t.name = read_tm_name(r);
      break;
    case TmRequestType::commit:
    case TmRequestType::rollback:
      t.name = read_tm_name(r);
      if (!r.at_end()) t.begin_after = (r.u8() & k_tm_begin_xact_flag) != 0;
      if (t.begin_after) {
        if (!r.at_end()) t.new_isolation = read_isolation(r);
        t.new_name = read_tm_name(r);
      }
      break;
    case TmRequestType::save:
      t.name = read_tm_name(r);
      break;
    default:
      break;
  }
  return t;
}

}  // namespace sandbox::tds
