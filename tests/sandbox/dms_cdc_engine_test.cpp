// The CDC engine against scripted SQL sessions: the start checks DMS makes (facts.md §3,
// §10), commit-order apply with IDENTITY_INSERT, the upsert policies, mappings, checkpoints.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "dms/cdc_checkpoint.hpp"
#include "dms/cdc_engine.hpp"
#include "dms/table_mappings.hpp"
#include "mssql/fake_sql_session.hpp"

namespace {

using m2r::mssql::FakeSqlSession;
using m2r::mssql::SqlRow;
using namespace sandbox::dms;

struct RecordingSink final : TaskStatusSink {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> events;
  std::string failure, checkpoint;
  std::vector<TableStats> tables;
  void push(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
    cv.notify_all();
  }
  void task_running(const std::string&) override { push("running"); }
  void task_progress(const std::string&, const std::string& cp, const std::vector<TableStats>& t) override {
    std::lock_guard lock(mutex);
    checkpoint = cp;
    tables = t;
  }
  void task_failed(const std::string&, const std::string& message) override {
    {
      std::lock_guard lock(mutex);
      failure = message;
    }
    push("failed");
  }
  void task_stopped(const std::string&) override { push("stopped"); }
  bool wait_for(const std::string& e) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, std::chrono::seconds(5),
                       [&] { return std::find(events.begin(), events.end(), e) != events.end(); });
  }
};

const char* k_all = R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"}]})";

// A healthy source: FULL recovery, a full backup, dbo.orders published, and a log.
std::shared_ptr<FakeSqlSession> source_with_log(std::vector<SqlRow> log, std::string recovery = "FULL",
                                                std::string is_replicated = "1") {
  auto s = std::make_shared<FakeSqlSession>();
  s->on_rows("recovery_model_desc", {"recovery_model_desc"}, {{recovery}});
  s->on_rows("type = 'D'", {"n"}, {{std::string("1")}});
  s->on_rows("FROM sys.tables", {"s", "t", "r", "c"}, {{"dbo", "orders", is_replicated, "0"}});
  s->on_rows("MIN([Current LSN])", {"m"}, {{std::string("00000022:00000010:0001")}});
  s->on_rows("[Current LSN] = ?", {"Operation"}, {{std::string("LOP_BEGIN_XACT")}});
  s->on("TOP (5000)", {.result = {.result_sets = {{{{"Current LSN"}, {"Operation"}, {"Transaction ID"}, {"AllocUnitName"},
                                                    {"Row Before"}, {"Row After"}, {"End Time"}},
                                                   log}}}});
  s->on_rows("TOP (5000)", {"x"}, {});  // later reads: nothing new
  return s;
}

std::shared_ptr<FakeSqlSession> target_with_orders(bool primary_key = true) {
  auto t = std::make_shared<FakeSqlSession>();
  t->on_rows("INFORMATION_SCHEMA.COLUMNS", {"COLUMN_NAME"}, {{std::string("id")}, {std::string("qty")}});
  if (primary_key) t->on_rows("is_primary_key", {"name"}, {{std::string("id")}});
  else t->on_rows("is_primary_key", {"name"}, {});
  t->on_rows("identity_columns", {"n"}, {{std::string("1")}});
  t->on_count("TRANSACTION", 0);
  t->on_count("INSERT INTO", 1);
  t->on_count("UPDATE", 1);
  t->on_count("DELETE", 1);
  return t;
}

// A session object the opener hands out; shares the scripted fake.
struct SharedSession final : m2r::mssql::SqlSession {
  std::shared_ptr<FakeSqlSession> fake;
  explicit SharedSession(std::shared_ptr<FakeSqlSession> f) : fake(std::move(f)) {}
  m2r::Expected<m2r::mssql::QueryResult> run(const m2r::mssql::Statement& s, const m2r::mssql::MessageHandler& h) override {
    return fake->run(s, h);
  }
  void cancel() override {}
  std::string describe() const override { return "shared"; }
};

CdcTaskSpec spec(std::string start, std::string settings = "") {
  CdcTaskSpec s;
  s.task_arn = "arn:aws:dms:us-east-1:123456789012:task:T";
  s.source.identifier = "src";
  s.target.identifier = "dst";
  s.table_mappings = k_all;
  s.task_settings = std::move(settings);
  s.cdc_start_position = std::move(start);
  return s;
}

struct EngineRun {
  RecordingSink sink;
  std::unique_ptr<CdcRunner> runner;
  EngineRun(std::shared_ptr<FakeSqlSession> source, std::shared_ptr<FakeSqlSession> target, const CdcTaskSpec& s) {
    CdcEnvironment env;
    env.open_session = [source, target](const EndpointSpec& e) -> m2r::Expected<std::unique_ptr<m2r::mssql::SqlSession>> {
      return std::make_unique<SharedSession>(e.identifier == "src" ? source : target);
    };
    env.pace.poll_interval = std::chrono::milliseconds(20);
    runner = make_cdc_runner_factory(env)(s, sink);
  }
};

std::vector<SqlRow> one_insert_log() {
  return {{"00000022:00000010:0001", "LOP_BEGIN_XACT", "0000:00000001", {}, {}, {}, {}},
          {"00000022:00000010:0002", "LOP_INSERT_ROWS", "0000:00000001", "dbo.orders", {}, R"({"id":1,"qty":5})", {}},
          {"00000022:00000011:0001", "LOP_COMMIT_XACT", "0000:00000001", {}, {}, {}, "2026/11/25 10:00:00:000"}};
}

TEST(CdcEngineTest, SimpleRecoveryFailsLikeDms) {
  // Given a source in SIMPLE recovery, the task should fail with DMS's "No FULL database backup" message.
  EngineRun run(source_with_log(one_insert_log(), "SIMPLE"), target_with_orders(), spec("00000022:00000010:0001"));
  ASSERT_TRUE(run.sink.wait_for("failed"));
  EXPECT_NE(run.sink.failure.find("No FULL database backup found"), std::string::npos) << run.sink.failure;
}

TEST(CdcEngineTest, UnpublishedTablesFailTheTask) {
  // Given a selected table neither published nor under MS-CDC, the task should fail naming it.
  EngineRun run(source_with_log(one_insert_log(), "FULL", "0"), target_with_orders(), spec("00000022:00000010:0001"));
  ASSERT_TRUE(run.sink.wait_for("failed"));
  EXPECT_NE(run.sink.failure.find("dbo.orders"), std::string::npos) << run.sink.failure;
}

TEST(CdcEngineTest, StartLsnNoLongerInTheLogFails) {
  // Given a start LSN older than the active log and no log backup, the task should fail with DMS's 1020465 message.
  auto source = source_with_log(one_insert_log());
  source->on_rows("type = 'L'", {"first_lsn", "last_lsn"}, {});
  EngineRun run(source, target_with_orders(), spec("00000010:00000010:0001"));
  ASSERT_TRUE(run.sink.wait_for("failed"));
  EXPECT_EQ(run.sink.failure,
            "[SOURCE_CAPTURE ]E: Failed to access LSN '00000010:00000010:0001' in the backup log sets since "
            "BACKUP/LOG-s are not available. [1020465]");
}

TEST(CdcEngineTest, StartInsideATransactionIsABadEnvelope) {
  // Given a start point on a row record, not a begin record, the task should fail with the Bad Envelope message.
  auto source = std::make_shared<FakeSqlSession>();
  source->on_rows("[Current LSN] = ?", {"Operation"}, {{std::string("LOP_INSERT_ROWS")}});
  source->on_rows("recovery_model_desc", {"r"}, {{std::string("FULL")}});
  source->on_rows("type = 'D'", {"n"}, {{std::string("1")}});
  source->on_rows("FROM sys.tables", {"s", "t", "r", "c"}, {{"dbo", "orders", "1", "0"}});
  source->on_rows("MIN([Current LSN])", {"m"}, {{std::string("00000022:00000010:0001")}});
  EngineRun run(source, target_with_orders(), spec("00000022:00000010:0002"));
  ASSERT_TRUE(run.sink.wait_for("failed"));
  EXPECT_NE(run.sink.failure.find("Bad Envelope"), std::string::npos) << run.sink.failure;
}

TEST(CdcEngineTest, AppliesCommittedTransactionsWithIdentityInsert) {
  // Given one committed insert after the start point, the target should get it inside a
  // transaction with IDENTITY_INSERT on, and the statistics and checkpoint should show it.
  auto target = target_with_orders();
  EngineRun run(source_with_log(one_insert_log()), target, spec("00000022:00000010:0001"));
  ASSERT_TRUE(run.sink.wait_for("running"));
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(run.sink.mutex);
      if (!run.sink.tables.empty() && run.sink.tables[0].applied_inserts == 1) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run.runner->request_stop();
  ASSERT_TRUE(run.sink.wait_for("stopped"));
  std::string joined;
  for (const auto& sql : target->executed_sql()) joined += sql + "\n";
  EXPECT_NE(joined.find("BEGIN TRANSACTION\nSET IDENTITY_INSERT [dbo].[orders] ON; INSERT INTO [dbo].[orders] ([id], [qty]) VALUES (1, 5)"),
            std::string::npos) << joined;
  EXPECT_NE(joined.find("COMMIT TRANSACTION"), std::string::npos) << joined;
  ASSERT_EQ(run.sink.tables.size(), 1u);
  EXPECT_EQ(run.sink.tables[0].inserts, 1);
  EXPECT_EQ(run.sink.tables[0].applied_inserts, 1);
  auto cp = parse_checkpoint(run.sink.checkpoint);
  ASSERT_TRUE(cp) << run.sink.checkpoint;
  EXPECT_EQ(cp->last_commit, "00000022:00000011:0001");
}

TEST(CdcEngineTest, TransactionsThatBeganBeforeTheStartAreNotReplicated) {
  // Given a transaction that began before the start point and commits after it, DMS should
  // not replicate it (facts.md §2: this is the loss the product must prevent).
  std::vector<SqlRow> log = {
      {"00000022:00000010:0001", "LOP_BEGIN_XACT", "0000:00000001", {}, {}, {}, {}},
      {"00000022:00000012:0001", "LOP_BEGIN_XACT", "0000:00000002", {}, {}, {}, {}},
      {"00000022:00000012:0002", "LOP_INSERT_ROWS", "0000:00000001", "dbo.orders", {}, R"({"id":1,"qty":1})", {}},
      {"00000022:00000012:0003", "LOP_INSERT_ROWS", "0000:00000002", "dbo.orders", {}, R"({"id":2,"qty":2})", {}},
      {"00000022:00000013:0001", "LOP_COMMIT_XACT", "0000:00000001", {}, {}, {}, {}},
      {"00000022:00000014:0001", "LOP_COMMIT_XACT", "0000:00000002", {}, {}, {}, {}}};
  auto target = target_with_orders();
  EngineRun run(source_with_log(log), target, spec("00000022:00000012:0001"));
  ASSERT_TRUE(run.sink.wait_for("running"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  run.runner->request_stop();
  ASSERT_TRUE(run.sink.wait_for("stopped"));
  std::string joined;
  for (const auto& sql : target->executed_sql()) joined += sql + "\n";
  EXPECT_EQ(joined.find("VALUES (1, 1)"), std::string::npos) << joined;
  EXPECT_NE(joined.find("VALUES (2, 2)"), std::string::npos) << joined;
}

TEST(CdcEngineTest, InsertRecordPolicyTurnsADuplicateIntoAnUpdate) {
  // Given ApplyErrorInsertPolicy=INSERT_RECORD and a row already on the target, the insert should become an update.
  auto target = std::make_shared<FakeSqlSession>();
  target->on_error("INSERT INTO", m2r::Error(m2r::ErrorKind::conflict,
                                             "SQL Server error 2627 (severity 14, state 1): Violation of PRIMARY KEY"));
  target->on_rows("INFORMATION_SCHEMA.COLUMNS", {"COLUMN_NAME"}, {{std::string("id")}, {std::string("qty")}});
  target->on_rows("is_primary_key", {"name"}, {{std::string("id")}});
  target->on_rows("identity_columns", {"n"}, {{std::string("1")}});
  target->on_count("TRANSACTION", 0);
  target->on_count("UPDATE", 1);
  EngineRun run(source_with_log(one_insert_log()), target,
          spec("00000022:00000010:0001", R"({"ErrorBehavior":{"ApplyErrorInsertPolicy":"INSERT_RECORD"}})"));
  ASSERT_TRUE(run.sink.wait_for("running"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  run.runner->request_stop();
  ASSERT_TRUE(run.sink.wait_for("stopped"));
  std::string joined;
  for (const auto& sql : target->executed_sql()) joined += sql + "\n";
  EXPECT_NE(joined.find("UPDATE [dbo].[orders] SET [id] = 1, [qty] = 5 WHERE [id] = 1"), std::string::npos) << joined;
}

TEST(CdcEngineTest, UpdateOfATableWithoutPrimaryKeyFailsWithoutMsCdc) {
  // Given an update on a PK-less table that is published but not under MS-CDC, the task should fail as DMS does.
  std::vector<SqlRow> log = {
      {"00000022:00000010:0001", "LOP_BEGIN_XACT", "0000:00000001", {}, {}, {}, {}},
      {"00000022:00000010:0002", "LOP_MODIFY_ROW", "0000:00000001", "dbo.orders", R"({"id":1,"qty":1})",
       R"({"id":1,"qty":2})", {}},
      {"00000022:00000011:0001", "LOP_COMMIT_XACT", "0000:00000001", {}, {}, {}, {}}};
  auto target = target_with_orders(false);
  EngineRun run(source_with_log(log), target, spec("00000022:00000010:0001"));
  ASSERT_TRUE(run.sink.wait_for("failed"));
  EXPECT_EQ(run.sink.failure, "[TARGET_APPLY ]E: Failed to build 'where' statement");
}

TEST(TableMappingsTest, IncludeAndExcludeWithWildcards) {
  // Given include dbo.% and exclude dbo.audit%, orders should be selected and audit_log not.
  auto m = TableMappings::parse(
      R"({"rules":[{"rule-type":"selection","object-locator":{"schema-name":"dbo","table-name":"%"},"rule-action":"include"},
                   {"rule-type":"selection","object-locator":{"schema-name":"dbo","table-name":"audit%"},"rule-action":"exclude"}]})");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->selects("dbo", "orders"));
  EXPECT_TRUE(m->selects("DBO", "Orders"));
  EXPECT_FALSE(m->selects("dbo", "audit_log"));
  EXPECT_FALSE(m->selects("sales", "orders"));
  EXPECT_FALSE(TableMappings::parse("{}"));
}

TEST(CdcCheckpointTest, RoundTripsAndRejectsHandBuiltValues) {
  // Given a checkpoint we formatted, parsing should give it back; arbitrary text should not parse.
  Checkpoint cp{7, "00000022:00000010:0001", "00000022:00000011:0001"};
  auto back = parse_checkpoint(format_checkpoint(cp));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->read_from, cp.read_from);
  EXPECT_EQ(back->last_commit, cp.last_commit);
  EXPECT_FALSE(parse_checkpoint("checkpoint:V1#27#mysql-bin-changelog.157832:1975:-1:2002"));
  EXPECT_TRUE(is_hex_lsn("00000025:00000b8f:0004"));
  EXPECT_FALSE(is_hex_lsn("25:b8f:4"));
}

}  // namespace
