// Fuzzes the sandbox engine's T-SQL path end to end: the lexer, the statement splitter, every
// statement handler, the translation to SQLite and execution. Each input is one batch run by a
// fresh session of an in-process instance (a temporary data directory, created once) over a
// small fixed schema. The engine may answer any input with SQL Server errors; it must never
// crash, trip a sanitizer, let anything but its own SqlError/BatchAborted escape a statement
// (the batch API reports every error as a message), or take longer than a client's query
// timeout: the sink reports itself cancelled after k_batch_budget (a client's attention), which
// ends WAITFOR and lock waits; a batch using over 1 s of CPU is a finding.
//
// State is bounded: every k_inputs_per_world inputs (or when the data directory outgrows
// k_max_world_bytes) the instance is closed, its directory removed and a new one seeded.
// Backups can only go to the instance's directory: inputs naming a DISK with a path separator
// are skipped (the working directory is the data directory, so plain file names land there).
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/api.hpp"
#include "engine/instance_factory.hpp"

namespace {

namespace fs = std::filesystem;

constexpr auto k_batch_budget = std::chrono::milliseconds(300);
constexpr int k_inputs_per_world = 200;
constexpr std::uintmax_t k_max_world_bytes = 64u << 20;
constexpr const char* k_password = "Fuzz#Pass1";

// The schema every input starts from (re-created with each world).
constexpr const char* k_schema =
    "CREATE DATABASE fuzz;\n"
    "USE fuzz;\n"
    "CREATE TABLE dbo.Customers (Id int IDENTITY(1,1) PRIMARY KEY, Name nvarchar(50) NOT NULL DEFAULT N'x',"
    " Balance decimal(10,2) NULL, Born datetime2 NULL, Tag uniqueidentifier NULL);\n"
    "CREATE TABLE dbo.Orders (Id int IDENTITY(1,1) PRIMARY KEY, CustomerId int NOT NULL REFERENCES dbo.Customers(Id),"
    " Amount money NOT NULL, Note varchar(100) NULL);\n"
    "CREATE TABLE dbo.Notes (Body nvarchar(max), Flag bit);\n"
    "INSERT INTO dbo.Customers (Name, Balance) VALUES (N'Ann', 10.5), (N'Bob', NULL), (N'Cy', -3);\n"
    "INSERT INTO dbo.Orders (CustomerId, Amount, Note) VALUES (1, 9.99, 'a'), (2, 100, NULL);\n"
    "INSERT INTO dbo.Notes VALUES (N'hello', 1), (NULL, 0);\n"
    "GO\n"  // CREATE VIEW must be the first statement of its batch (Msg 111)
    "CREATE VIEW dbo.Totals AS SELECT CustomerId, SUM(Amount) AS Total FROM dbo.Orders GROUP BY CustomerId;\n"
    "GO\n"
    "CREATE PROCEDURE dbo.AddOrder @c int, @a money = 1 AS INSERT INTO dbo.Orders (CustomerId, Amount) VALUES (@c, @a);\n"
    "GO\n"
    "CREATE TRIGGER dbo.trg_Notes ON dbo.Orders AFTER INSERT AS INSERT INTO dbo.Notes (Body) SELECT Note FROM inserted;\n";

class BudgetSink : public sandbox::ResultSink {
 public:
  BudgetSink() : m_deadline(std::chrono::steady_clock::now() + k_batch_budget) {}
  void columns(const std::vector<sandbox::Column>& c) override { m_columns = c.size(); }
  void row(const std::vector<sandbox::Value>& v) override {
    if (v.size() != m_columns) std::abort();  // a row must match its result set's columns
  }
  void done(sandbox::DoneKind, std::optional<std::int64_t>, bool) override {}
  void message(const sandbox::Message& m) override {
    if (m.is_error() && m.text.empty()) std::abort();  // an error always says what went wrong
  }
  void database_changed(const std::string&, const std::string&) override {}
  void return_status(int) override {}
  bool cancelled() override { return std::chrono::steady_clock::now() > m_deadline; }

 private:
  std::chrono::steady_clock::time_point m_deadline;
  std::size_t m_columns = 0;
};

struct World {
  std::string dir;
  std::unique_ptr<sandbox::Instance> instance;
  int inputs = 0;

  World() {
    char tmpl[] = "/tmp/m2r-tsql-fuzz-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (!made) std::abort();
    dir = made;
    if (chdir(dir.c_str()) != 0) std::abort();
    sandbox::InstanceConfig cfg;
    cfg.name = "fuzz";
    cfg.data_dir = dir;
    cfg.sa_password = k_password;
    cfg.rds_task_pace = 0;
    instance = sandbox::open_instance(cfg);
    auto admin = instance->login("sa", k_password, "");
    if (!admin.session) std::abort();
    BudgetSink sink;
    admin.session->execute_batch(k_schema, sink);
  }
  ~World() {
    instance.reset();
    if (chdir("/tmp") != 0) std::abort();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::uintmax_t bytes() const {
    std::uintmax_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->is_regular_file(ec)) total += it->file_size(ec);
    }
    return total;
  }
};

std::unique_ptr<World> g_world;

bool names_a_path(const std::string& sql) {
  std::string up;
  for (char c : sql) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return up.find("DISK") != std::string::npos && (sql.find('/') != std::string::npos || sql.find('\\') != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string sql(reinterpret_cast<const char*>(data), size);
  if (names_a_path(sql)) return -1;  // backups stay inside the instance's directory
  if (!g_world || g_world->inputs >= k_inputs_per_world || (g_world->inputs % 50 == 49 && g_world->bytes() > k_max_world_bytes)) {
    g_world.reset();
    g_world = std::make_unique<World>();
  }
  ++g_world->inputs;
  auto login = g_world->instance->login("sa", k_password, "fuzz");
  if (!login.session) {
    // An earlier input dropped the fuzz database or left it RESTORING (4060): a new world.
    if (login.failure.number != 4060) std::abort();
    g_world.reset();
    g_world = std::make_unique<World>();
    login = g_world->instance->login("sa", k_password, "fuzz");
    if (!login.session) std::abort();
  }
  BudgetSink sink;
  // CPU time of this thread, not wall time: a loaded machine must not turn into findings
  // (a batch that waits is bounded by the sink's budget; libFuzzer's -timeout catches the rest).
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  };
  const auto start = cpu_now();
  // Anything other than the engine's own errors escaping execute_batch is a finding: the TDS
  // server would turn it into "The sandbox engine failed" and the rest of the batch is lost.
  login.session->execute_batch(sql, sink);
  if (cpu_now() - start > std::chrono::seconds(1)) {
    std::fprintf(stderr, "batch used more than 1 s of CPU\n");
    std::abort();
  }
  login.session.reset();  // closing the session rolls back what it left open
  return 0;
}
