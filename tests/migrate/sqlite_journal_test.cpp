#include "migrate/sqlite_journal.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

using namespace m2r;
namespace fs = std::filesystem;

namespace {

class SqliteJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = fs::temp_directory_path() / ("m2r-journal-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    m_path = (m_dir / "m.journal").string();
  }
  void TearDown() override { fs::remove_all(m_dir); }
  fs::path m_dir;
  std::string m_path;
};

std::unique_ptr<SqliteJournal> must_open(const std::string& path) {
  auto j = SqliteJournal::open(path);
  EXPECT_TRUE(j) << (j ? "" : j.error().message);
  return j ? std::move(*j) : nullptr;
}

}  // namespace

TEST_F(SqliteJournalTest, StepLifecycleSurvivesReopen) {
  // Given a step that ran and finished, reopening should show it done with its outputs.
  {
    auto j = must_open(m_path);
    ASSERT_TRUE(j->begin_step("backup", {{"database", "Sales"}}));
    ASSERT_TRUE(j->record_outputs("backup", {{"files", {"/b/Sales_1.bak"}}}));
    ASSERT_TRUE(j->finish_step("backup", {{"last_lsn", "37000000295900004"}}));
    ASSERT_TRUE(j->append_event("backup", "progress", {{"percent", 100}}));
  }
  auto j = must_open(m_path);
  auto s = j->step("backup").value();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->status, StepStatus::done);
  EXPECT_EQ(s->attempts, 1);
  EXPECT_EQ(s->inputs["database"], "Sales");
  EXPECT_EQ(s->outputs["files"][0], "/b/Sales_1.bak");
  EXPECT_EQ(s->outputs["last_lsn"], "37000000295900004");
  EXPECT_TRUE(s->started_at && s->finished_at);
  auto ev = j->events(0, 10).value();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data["percent"], 100);
}

TEST_F(SqliteJournalTest, RefusesIllegalTransitionsAndChangesNothing) {
  auto j = must_open(m_path);
  EXPECT_FALSE(j->finish_step("upload", {}));  // never started
  ASSERT_TRUE(j->begin_step("upload", {}));
  ASSERT_TRUE(j->finish_step("upload", {{"etag", "x"}}));
  EXPECT_FALSE(j->begin_step("upload", {}));  // done steps are not re-run silently
  EXPECT_EQ(j->step("upload").value()->outputs["etag"], "x");
}

TEST_F(SqliteJournalTest, SecondProcessIsRefusedWithAClearError) {
  // Given a journal held open, another opener should get a conflict naming the holder's pid.
  auto first = must_open(m_path);
  const pid_t child = fork();
  if (child == 0) {
    auto second = SqliteJournal::open(m_path);
    const bool refused = !second && second.error().kind == ErrorKind::conflict &&
                         second.error().message.find("pid " + std::to_string(getppid())) != std::string::npos;
    _exit(refused ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // A reader (status) is not refused.
  EXPECT_TRUE(open_journal_for_reading(m_path));
}

TEST_F(SqliteJournalTest, AReaderAppendsEventsBesideTheLockHolderButChangesNoStep) {
  // Given `run` holding the journal, `status` (a reader) should record the CDC lag it read as an
  // event both see, and still be refused any change to a step.
  auto writer = must_open(m_path);
  ASSERT_TRUE(writer->begin_step("replicate", {}));
  auto reader = open_journal_for_reading(m_path);
  ASSERT_TRUE(reader) << reader.error().message;
  auto id = (*reader)->append_event("replicate", "cdc_lag_sample", {{"target_s", 3.0}});
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(writer->append_event("replicate", "info", {{"message", "after"}}));
  EXPECT_FALSE((*reader)->begin_step("backup", {}));
  EXPECT_FALSE((*reader)->finish_step("replicate", {}));
  const auto seen = writer->events(0, 10).value();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].id, *id);
  EXPECT_EQ(seen[0].kind, "cdc_lag_sample");
  EXPECT_EQ(seen[0].data.value("target_s", 0.0), 3.0);
  EXPECT_EQ(seen[1].kind, "info");
  EXPECT_EQ(writer->step("replicate").value()->status, StepStatus::running);
  EXPECT_FALSE(writer->step("backup").value());
}

TEST_F(SqliteJournalTest, PartsAreRecordedFromManyThreads) {
  auto j = must_open(m_path);
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const int n = t * 25 + i + 1;
        ASSERT_TRUE(j->record_part({"up-1", n, static_cast<std::uint64_t>(n - 1) * 8, 8, "etag" + std::to_string(n), "crc", "md5"}));
      }
    });
  }
  for (auto& w : workers) w.join();
  auto parts = j->parts("up-1").value();
  ASSERT_EQ(parts.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(parts[static_cast<std::size_t>(i)].part_number, i + 1);
  ASSERT_TRUE(j->forget_parts("up-1"));
  EXPECT_TRUE(j->parts("up-1").value().empty());
}

TEST_F(SqliteJournalTest, RefusesAJournalFromANewerVersion) {
  { must_open(m_path); }
  sqlite3* db = nullptr;
  sqlite3_open(m_path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto j = SqliteJournal::open(m_path);
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().message.find("newer"), std::string::npos);
}

TEST_F(SqliteJournalTest, SurvivesKillNineMidWriteAndReopensConsistent) {
  // Given a writer killed with SIGKILL at random moments, reopening should find an intact
  // database in which every done step carries its outputs and events have no holes.
  std::mt19937 rng(7);
  int total_done = 0;
  for (int round = 0; round < 8; ++round) {
    const pid_t child = fork();
    if (child == 0) {
      auto j = SqliteJournal::open(m_path);
      if (!j) _exit(3);
      for (int i = 0;; ++i) {
        const std::string name = "r" + std::to_string(round) + "-s" + std::to_string(i);
        (void)(*j)->begin_step(name, {{"i", i}});
        (void)(*j)->record_outputs(name, {{"half", i}});
        (void)(*j)->append_event(name, "progress", {{"i", i}});
        (void)(*j)->record_part({"u" + std::to_string(round), i + 1, 0, 1, "e", "c", "m"});
        (void)(*j)->finish_step(name, {{"value", i * 7}, {"check", "complete"}});
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + static_cast<int>(rng() % 150)));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer should have been killed, not exited";

    auto j = must_open(m_path);  // the kernel released the dead writer's lock
    ASSERT_TRUE(j);
    {
      sqlite3* db = nullptr;
      sqlite3_open_v2(m_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
      ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
      EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
      sqlite3_finalize(st);
      sqlite3_close(db);
    }
    int done = 0;
    const auto steps = j->steps().value();
    for (const auto& s : steps) {
      if (s.status == StepStatus::done) {
        ++done;
        EXPECT_EQ(s.outputs.value("check", ""), "complete") << s.name;
        EXPECT_EQ(s.outputs["value"], s.inputs["i"].get<int>() * 7) << s.name;
        EXPECT_EQ(s.outputs["half"], s.inputs["i"]) << s.name;
      } else {
        EXPECT_EQ(s.status, StepStatus::running) << s.name;  // the one the kill interrupted
      }
    }
    auto events = j->events(0, 1000000).value();
    for (std::size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].id, events[i - 1].id);
    total_done = done;
  }
  EXPECT_GT(total_done, 8) << "the writer should have finished some steps before each kill";
}
