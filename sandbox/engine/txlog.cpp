#include "engine/txlog.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "engine/sqlite_util.hpp"

namespace sandbox::engine {

m2r::Lsn LsnState::peek() const { return m2r::Lsn(vlf, block, static_cast<std::uint16_t>(slot + 1)); }

void LsnState::close_block() {
  if (slot == 0) return;
  block += (block_bytes + 511) / 512;
  slot = 0;
  block_bytes = 0;
  if (block >= k_vlf_blocks) {
    ++vlf;
    block = k_first_block;
  }
}

m2r::Lsn LsnState::next(std::uint32_t size, bool closes_block) {
  if (slot > 0 && (block_bytes + size > k_block_limit || slot == 0xFFFF)) close_block();
  ++slot;
  block_bytes += size;
  m2r::Lsn lsn(vlf, block, slot);
  if (closes_block) close_block();
  return lsn;
}

std::string LsnState::serialize() const {
  return std::to_string(vlf) + ":" + std::to_string(block) + ":" + std::to_string(slot) + ":" + std::to_string(block_bytes);
}

LsnState LsnState::parse(const std::string& text) {
  LsnState s;
  unsigned long v = 0, b = 0, sl = 0, bb = 0;
  if (std::sscanf(text.c_str(), "%lu:%lu:%lu:%lu", &v, &b, &sl, &bb) == 4) {
    s.vlf = static_cast<std::uint32_t>(v);
    s.block = static_cast<std::uint32_t>(b);
    s.slot = static_cast<std::uint16_t>(sl);
    s.block_bytes = static_cast<std::uint32_t>(bb);
  }
  return s;
}

void create_log_schema(sqlite3* db) {
  exec(db,
       "CREATE TABLE IF NOT EXISTS __m2r_log("
       " seq INTEGER PRIMARY KEY,"
       " lsn nvarchar(23) NOT NULL UNIQUE,"
       " operation nvarchar(31) NOT NULL,"
       " context nvarchar(31),"
       " xact_id nvarchar(14),"
       " xact_name nvarchar(33),"
       " begin_time nvarchar(24),"
       " end_time nvarchar(24),"
       " prev_lsn nvarchar(23),"
       " spid int,"
       " table_name nvarchar(387),"
       " row_id bigint, row_id_after bigint,"
       " before_json nvarchar(-1), after_json nvarchar(-1),"
       " record_length int,"
       " description nvarchar(256),"
       " begin_lsn nvarchar(23),"
       " lock_info nvarchar(-1));"
       "CREATE INDEX IF NOT EXISTS __m2r_log_xact ON __m2r_log(xact_id);");
}

std::string append_log(sqlite3* db, LsnState& state, const LogRecord& rec) {
  std::uint32_t size = 60;
  if (rec.operation == "LOP_BEGIN_XACT") size = 120 + static_cast<std::uint32_t>(rec.xact_name.size());
  else if (rec.operation == "LOP_COMMIT_XACT" || rec.operation == "LOP_ABORT_XACT") size = 84;
  else size = 100 + static_cast<std::uint32_t>(rec.before_json.size() + rec.after_json.size());
  const bool closes = rec.operation == "LOP_COMMIT_XACT" || rec.operation == "LOP_ABORT_XACT" || rec.operation == "LOP_END_CKPT";
  const std::string lsn = state.next(size, closes).to_hex();
  std::string prev;
  if (!rec.xact_id.empty() && rec.xact_id != "0000:00000000") {
    Stmt p(db, "SELECT lsn FROM __m2r_log WHERE xact_id = ? ORDER BY seq DESC LIMIT 1");
    p.bind(1, rec.xact_id);
    if (p.step()) prev = p.str(0);
  }
  Stmt s(db,
         "INSERT INTO __m2r_log(lsn, operation, context, xact_id, xact_name, begin_time, end_time, prev_lsn, spid,"
         " table_name, row_id, row_id_after, before_json, after_json, record_length, description, begin_lsn, lock_info)"
         " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, lsn).bind(2, rec.operation).bind(3, rec.context).bind(4, rec.xact_id.empty() ? std::string("0000:00000000") : rec.xact_id);
  auto opt = [&](int i, const std::string& v) { v.empty() ? s.bind_null(i) : s.bind(i, v); };
  opt(5, rec.xact_name);
  opt(6, rec.begin_time);
  opt(7, rec.end_time);
  prev.empty() ? s.bind(8, std::string("00000000:00000000:0000")) : s.bind(8, prev);
  s.bind(9, static_cast<std::int64_t>(rec.spid));
  opt(10, rec.table_name);
  rec.table_name.empty() ? s.bind_null(11) : s.bind(11, rec.row_id);
  rec.table_name.empty() ? s.bind_null(12) : s.bind(12, rec.row_id_after);
  opt(13, rec.before_json);
  opt(14, rec.after_json);
  s.bind(15, static_cast<std::int64_t>(size));
  opt(16, rec.description);
  opt(17, rec.begin_lsn);
  opt(18, rec.lock_information);
  s.step();
  return lsn;
}

std::string format_xact_id(std::int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04x:%08llx", static_cast<unsigned>((id >> 32) & 0xFFFF),
                static_cast<unsigned long long>(id & 0xFFFFFFFF));
  return buf;
}

std::string fn_dblog_time_now() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d %02d:%02d:%02d:%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace sandbox::engine
