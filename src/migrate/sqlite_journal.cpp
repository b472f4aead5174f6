#include "migrate/sqlite_journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <sqlite3.h>

namespace m2r {

namespace {

// The migration ladder: entry i upgrades a journal from user_version i to i + 1.
// Never edit a released entry; append a new one.
const char* const k_ladder[] = {
    // 0 -> 1
    R"(CREATE TABLE steps(
         name TEXT PRIMARY KEY,
         status TEXT NOT NULL,
         started_at INTEGER,
         finished_at INTEGER,
         attempts INTEGER NOT NULL DEFAULT 0,
         inputs TEXT NOT NULL DEFAULT '{}',
         outputs TEXT NOT NULL DEFAULT '{}',
         error TEXT NOT NULL DEFAULT '');
       CREATE TABLE events(
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         at INTEGER NOT NULL,
         step TEXT NOT NULL,
         kind TEXT NOT NULL,
         data TEXT NOT NULL);
       CREATE TABLE upload_parts(
         upload_id TEXT NOT NULL,
         part_number INTEGER NOT NULL,
         offset INTEGER NOT NULL,
         size INTEGER NOT NULL,
         etag TEXT NOT NULL,
         checksum_crc32c TEXT NOT NULL,
         content_md5 TEXT NOT NULL,
         PRIMARY KEY(upload_id, part_number));)",
};
constexpr int k_ladder_size = static_cast<int>(sizeof(k_ladder) / sizeof(k_ladder[0]));
static_assert(k_ladder_size == SqliteJournal::k_schema_version);

std::int64_t to_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint from_millis(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
  ~Statement() { sqlite3_finalize(m_stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return m_rc == SQLITE_OK; }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(m_stmt, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
  }
  Statement& bind_null(int i) {
    sqlite3_bind_null(m_stmt, i);
    return *this;
  }
  int step() { return sqlite3_step(m_stmt); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(m_stmt, col); }
  bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* m_stmt = nullptr;
  int m_rc;
};

tl::unexpected<Error> db_error(sqlite3* db, const std::string& what) {
  // The file system's refusals (full, read-only, no permission, unreadable) are the
  // environment's to fix, not a bug of the tool.
  const int code = db == nullptr ? SQLITE_CANTOPEN : (sqlite3_extended_errcode(db) & 0xff);
  const bool environment = code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_READONLY ||
                           code == SQLITE_CANTOPEN || code == SQLITE_PERM || code == SQLITE_NOTADB ||
                           code == SQLITE_CORRUPT || code == SQLITE_BUSY || code == SQLITE_LOCKED;
  return fail(environment ? ErrorKind::prerequisite : ErrorKind::fatal,
              fmt::format("journal: {}: {}", what, db == nullptr ? "out of memory" : sqlite3_errmsg(db)),
              "check the disk has space and the journal file and its directory are writable (or set [migration] "
              "journal to a writable path)");
}

StepRecord read_step(const Statement& st) {
  StepRecord s;
  s.name = st.text(0);
  s.status = step_status_from_string(st.text(1)).value_or(StepStatus::pending);
  if (!st.is_null(2)) s.started_at = from_millis(st.integer(2));
  if (!st.is_null(3)) s.finished_at = from_millis(st.integer(3));
  s.attempts = static_cast<int>(st.integer(4));
  s.inputs = nlohmann::json::parse(st.text(5), nullptr, false);
  s.outputs = nlohmann::json::parse(st.text(6), nullptr, false);
  s.error = st.text(7);
  return s;
}

// The lock is a flock on "<journal>.lock", held for the life of the process (released by
// the kernel even on kill -9). The file records who holds it, for the error message.
Expected<int> take_lock(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(ErrorKind::prerequisite,
                fmt::format("cannot create the journal lock {}: {}", lock_path, std::strerror(errno)),
                "create the journal's directory or make it writable, or set [migration] journal to a writable path");
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder;
    std::ifstream(lock_path) >> holder;
    close(fd);
    return fail(ErrorKind::conflict,
                fmt::format("the journal {} is in use by another mssql2rds process{}", path,
                            holder.empty() ? "" : " (pid " + holder + ")"),
                "wait for that run to finish or stop it; `mssql2rds status` can watch it meanwhile");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Informational only; the lock itself is what matters.
  }
  return fd;
}

}  // namespace

SqliteJournal::SqliteJournal(std::string path, sqlite3* db, int lock_fd)
    : m_path(std::move(path)), m_db(db), m_lock_fd(lock_fd) {}

SqliteJournal::~SqliteJournal() {
  sqlite3_close_v2(m_db);
  if (m_lock_fd >= 0) close(m_lock_fd);  // releases the flock
}

Expected<std::unique_ptr<SqliteJournal>> SqliteJournal::open(const std::string& path) { return open_impl(path, true); }

Expected<std::unique_ptr<Journal>> open_journal_for_reading(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) {
    return fail(ErrorKind::not_found, fmt::format("no journal at {}", path),
                "nothing has run yet for this configuration: start with `mssql2rds run`");
  }
  auto journal = M2R_TRY(SqliteJournal::open_impl(path, false));
  return std::unique_ptr<Journal>(std::move(journal));
}

Expected<std::unique_ptr<SqliteJournal>> SqliteJournal::open_impl(const std::string& path, bool writable) {
  int fd = -1;
  if (writable) fd = M2R_TRY(take_lock(path));

  sqlite3* db = nullptr;
  const int flags = writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    auto err = db_error(db, "cannot open " + path);
    sqlite3_close_v2(db);
    if (fd >= 0) close(fd);
    return err;
  }
  std::unique_ptr<SqliteJournal> journal(new SqliteJournal(path, db, fd));
  sqlite3_busy_timeout(db, 5000);
  // WAL + synchronous=FULL: a committed transaction survives a kill or a power cut.
  if (writable) M2R_TRY(journal->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));

  int version = 0;
  {
    Statement st(db, "PRAGMA user_version");
    if (st.step() == SQLITE_ROW) version = static_cast<int>(st.integer(0));
  }
  if (version > k_schema_version) {
    return fail(ErrorKind::prerequisite,
                fmt::format("the journal {} has schema version {}, newer than this mssql2rds understands ({})", path,
                            version, k_schema_version),
                "use the mssql2rds version that wrote it, or a newer one");
  }
  if (!writable && version != k_schema_version) {
    return fail(ErrorKind::prerequisite, fmt::format("the journal {} has schema version {}; expected {}", path, version,
                                              k_schema_version),
                "run `mssql2rds run` once with this version to upgrade it");
  }
  for (int v = version; v < k_schema_version; ++v) {
    auto step = journal->in_transaction([&]() -> Expected<void> {
      M2R_TRY(journal->exec(k_ladder[v]));
      return journal->exec(fmt::format("PRAGMA user_version={}", v + 1).c_str());
    });
    if (!step) return tl::unexpected(step.error());
  }
  return journal;
}

Expected<void> SqliteJournal::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return fail(ErrorKind::prerequisite, "journal: " + text, "check the disk has space and the journal file is writable");
  }
  return {};
}

template <typename F>
Expected<void> SqliteJournal::in_transaction(F&& body) {
  M2R_TRY(exec("BEGIN IMMEDIATE"));
  auto result = body();
  if (!result) {
    (void)exec("ROLLBACK");
    return result;
  }
  return exec("COMMIT");
}

Expected<std::optional<StepRecord>> SqliteJournal::load_step(const std::string& name) {
  Statement st(m_db, "SELECT name,status,started_at,finished_at,attempts,inputs,outputs,error FROM steps WHERE name=?");
  if (!st.ok()) return db_error(m_db, "read step");
  st.bind(1, name);
  const int rc = st.step();
  if (rc == SQLITE_ROW) return std::optional<StepRecord>(read_step(st));
  if (rc == SQLITE_DONE) return std::optional<StepRecord>{};
  return db_error(m_db, "read step");
}

Expected<void> SqliteJournal::store_step(const StepRecord& s) {
  Statement st(m_db,
               "INSERT OR REPLACE INTO steps(name,status,started_at,finished_at,attempts,inputs,outputs,error) "
               "VALUES(?,?,?,?,?,?,?,?)");
  if (!st.ok()) return db_error(m_db, "write step");
  st.bind(1, s.name).bind(2, std::string(to_string(s.status)));
  if (s.started_at) st.bind(3, to_millis(*s.started_at)); else st.bind_null(3);
  if (s.finished_at) st.bind(4, to_millis(*s.finished_at)); else st.bind_null(4);
  st.bind(5, std::int64_t{s.attempts}).bind(6, s.inputs.dump()).bind(7, s.outputs.dump()).bind(8, s.error);
  if (st.step() != SQLITE_DONE) return db_error(m_db, "write step");
  return {};
}

Expected<std::optional<StepRecord>> SqliteJournal::step(const std::string& name) {
  std::lock_guard lock(m_mutex);
  return load_step(name);
}

Expected<std::vector<StepRecord>> SqliteJournal::steps() {
  std::lock_guard lock(m_mutex);
  Statement st(m_db, "SELECT name,status,started_at,finished_at,attempts,inputs,outputs,error FROM steps ORDER BY rowid");
  if (!st.ok()) return db_error(m_db, "read steps");
  std::vector<StepRecord> out;
  while (st.step() == SQLITE_ROW) out.push_back(read_step(st));
  return out;
}

// Applies `change` to the stored step inside one transaction, after checking the transition.
#define M2R_UPDATE_STEP(name, target_status, change)                                     \
  std::lock_guard lock(m_mutex);                                                         \
  return in_transaction([&]() -> Expected<void> {                                        \
    auto current = M2R_TRY(load_step(name));                                             \
    StepRecord s = current.value_or(blank_step(name));                                   \
    if (target_status) M2R_TRY(check_transition(name, s.status, *target_status));        \
    change;                                                                              \
    return store_step(s);                                                                \
  })

Expected<void> SqliteJournal::begin_step(const std::string& name, const nlohmann::json& inputs) {
  const std::optional<StepStatus> to = StepStatus::running;
  M2R_UPDATE_STEP(name, to, {
    s.status = StepStatus::running;
    s.started_at = std::chrono::system_clock::now();
    s.finished_at.reset();
    s.attempts += 1;
    s.inputs = inputs;
    s.error.clear();
  });
}

Expected<void> SqliteJournal::record_outputs(const std::string& name, const nlohmann::json& outputs) {
  const std::optional<StepStatus> to = StepStatus::running;
  M2R_UPDATE_STEP(name, to, { s.outputs.merge_patch(outputs); });
}

Expected<void> SqliteJournal::finish_step(const std::string& name, const nlohmann::json& outputs) {
  const std::optional<StepStatus> to = StepStatus::done;
  M2R_UPDATE_STEP(name, to, {
    s.outputs.merge_patch(outputs);
    s.status = StepStatus::done;
    s.finished_at = std::chrono::system_clock::now();
  });
}

Expected<void> SqliteJournal::fail_step(const std::string& name, const std::string& error) {
  const std::optional<StepStatus> to = StepStatus::failed;
  M2R_UPDATE_STEP(name, to, {
    s.status = StepStatus::failed;
    s.error = error;
    s.finished_at = std::chrono::system_clock::now();
  });
}

Expected<void> SqliteJournal::reset_step(const std::string& name) {
  const std::optional<StepStatus> to = StepStatus::pending;
  M2R_UPDATE_STEP(name, to, { s.status = StepStatus::pending; });
}

Expected<void> SqliteJournal::restart_step(const std::string& name) {
  const std::optional<StepStatus> to = StepStatus::pending;
  M2R_UPDATE_STEP(name, to, {
    s.status = StepStatus::pending;
    s.inputs = nlohmann::json::object();
    s.outputs = nlohmann::json::object();
    s.error.clear();
    s.started_at.reset();
    s.finished_at.reset();
  });
}

#undef M2R_UPDATE_STEP

namespace {

Expected<std::int64_t> insert_event(sqlite3* db, const std::string& step, const std::string& kind,
                                    const nlohmann::json& data) {
  Statement st(db, "INSERT INTO events(at,step,kind,data) VALUES(?,?,?,?)");
  if (!st.ok()) return db_error(db, "append event");
  st.bind(1, to_millis(std::chrono::system_clock::now())).bind(2, step).bind(3, kind).bind(4, data.dump());
  if (st.step() != SQLITE_DONE) return db_error(db, "append event");
  return sqlite3_last_insert_rowid(db);
}

}  // namespace

Expected<std::int64_t> SqliteJournal::append_event(const std::string& step, const std::string& kind,
                                                   const nlohmann::json& data) {
  std::lock_guard lock(m_mutex);
  if (m_lock_fd >= 0) return insert_event(m_db, step, kind, data);
  // A journal opened for reading (`status` beside a running `run`) appends its observations,
  // such as the CDC lag it read, through a short-lived connection of its own: SQLite (WAL, busy
  // timeout) serializes it with the lock holder's writes; the steps stay read-only.
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(m_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    auto err = db_error(db, "cannot open " + m_path + " to append an event");
    sqlite3_close_v2(db);
    return err;
  }
  sqlite3_busy_timeout(db, 5000);
  auto id = insert_event(db, step, kind, data);
  sqlite3_close_v2(db);
  return id;
}

Expected<std::vector<JournalEvent>> SqliteJournal::events(std::int64_t after_id, int limit) {
  std::lock_guard lock(m_mutex);
  Statement st(m_db, "SELECT id,at,step,kind,data FROM events WHERE id>? ORDER BY id LIMIT ?");
  if (!st.ok()) return db_error(m_db, "read events");
  st.bind(1, after_id).bind(2, std::int64_t{limit});
  std::vector<JournalEvent> out;
  while (st.step() == SQLITE_ROW) {
    out.push_back(JournalEvent{st.integer(0), from_millis(st.integer(1)), st.text(2), st.text(3),
                               nlohmann::json::parse(st.text(4), nullptr, false)});
  }
  return out;
}

Expected<void> SqliteJournal::record_part(const UploadPartRecord& p) {
  std::lock_guard lock(m_mutex);
  Statement st(m_db,
               "INSERT OR REPLACE INTO upload_parts(upload_id,part_number,offset,size,etag,checksum_crc32c,content_md5) "
               "VALUES(?,?,?,?,?,?,?)");
  if (!st.ok()) return db_error(m_db, "record part");
  st.bind(1, p.upload_id).bind(2, std::int64_t{p.part_number}).bind(3, static_cast<std::int64_t>(p.offset))
      .bind(4, static_cast<std::int64_t>(p.size)).bind(5, p.etag).bind(6, p.checksum_crc32c).bind(7, p.content_md5);
  if (st.step() != SQLITE_DONE) return db_error(m_db, "record part");
  return {};
}

Expected<std::vector<UploadPartRecord>> SqliteJournal::parts(const std::string& upload_id) {
  std::lock_guard lock(m_mutex);
  Statement st(m_db,
               "SELECT upload_id,part_number,offset,size,etag,checksum_crc32c,content_md5 FROM upload_parts "
               "WHERE upload_id=? ORDER BY part_number");
  if (!st.ok()) return db_error(m_db, "read parts");
  st.bind(1, upload_id);
  std::vector<UploadPartRecord> out;
  while (st.step() == SQLITE_ROW) {
    out.push_back(UploadPartRecord{st.text(0), static_cast<int>(st.integer(1)), static_cast<std::uint64_t>(st.integer(2)),
                                   static_cast<std::uint64_t>(st.integer(3)), st.text(4), st.text(5), st.text(6)});
  }
  return out;
}

Expected<void> SqliteJournal::forget_parts(const std::string& upload_id) {
  std::lock_guard lock(m_mutex);
  Statement st(m_db, "DELETE FROM upload_parts WHERE upload_id=?");
  if (!st.ok()) return db_error(m_db, "forget parts");
  st.bind(1, upload_id);
  if (st.step() != SQLITE_DONE) return db_error(m_db, "forget parts");
  return {};
}

}  // namespace m2r
