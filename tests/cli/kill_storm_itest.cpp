// One migration under a live workload, its `run` killed with SIGKILL over and over at random
// moments (at least 20 times: inside the backup, between parts of the upload, around
// CompleteMultipartUpload, the restore's polls, CreateReplicationTask ...), then run to its end
// and cut over: one S3 object equal to the file, one restore task, one DMS task, no multipart
// upload left behind, and every table equal (the cutover's validation, row by row).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {


// Inserts, updates and deletes in dbo.StormWrites until told to stop; counts what it did.
class Workload {
 public:
  explicit Workload(std::unique_ptr<mssql::SqlSession> session) : m_session(std::move(session)) {}
  ~Workload() { stop(); }
  ::testing::AssertionResult start() {
    if (auto r = m_session->execute("CREATE TABLE dbo.StormWrites (Id int IDENTITY(1,1) NOT NULL PRIMARY KEY, "
                                    "V int NOT NULL, Note nvarchar(100) NULL)");
        !r) {
      return ::testing::AssertionFailure() << r.error().message;
    }
    m_thread = std::thread([this] {
      for (int i = 1; !m_stop; ++i) {
        bool ok = m_session->execute("INSERT INTO dbo.StormWrites (V, Note) VALUES (?, ?)",
                                     {mssql::SqlParam::int32(i), mssql::SqlParam::nvarchar("n" + std::to_string(i))})
                      .has_value();
        if (i % 3 == 0) {
          ok = ok && m_session->execute("UPDATE dbo.StormWrites SET V = V + 1000, Note = ? WHERE Id = ?",
                                        {mssql::SqlParam::nvarchar("u" + std::to_string(i)), mssql::SqlParam::int32(i / 2)})
                         .has_value();
        }
        if (i % 7 == 0) {
          ok = ok && m_session->execute("DELETE FROM dbo.StormWrites WHERE Id = ?", {mssql::SqlParam::int32(i / 3)})
                         .has_value();
        }
        if (ok) ++m_done; else ++m_failed;
        std::this_thread::sleep_for(std::chrono::milliseconds(15));
      }
    });
    return ::testing::AssertionSuccess();
  }
  void stop() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
  }
  int done() const { return m_done; }
  int failed() const { return m_failed; }

 private:
  std::unique_ptr<mssql::SqlSession> m_session;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_done{0};
  std::atomic<int> m_failed{0};
};

TEST_F(CliWorldTest, AStormOfSigkillsOverOneMigrationEndsWithOneOfEverythingAndEqualTables) {
  ASSERT_TRUE(set_up_world());
  upload_one_part_at_a_time();
  {
    auto source = source_session();
    ASSERT_TRUE(source) << source.error().message;
    ASSERT_TRUE(add_incompressible_attachments(**source, 40, 7));  // 10 MiB: a few parts
  }
  auto writer_session = source_session();
  ASSERT_TRUE(writer_session) << writer_session.error().message;
  Workload workload(std::move(*writer_session));
  ASSERT_TRUE(workload.start());
  // The tables exist before `check --fix` publishes them (a table added later is not captured).
  const auto check = run_shell(with_world("check --fix --yes -c " + config()));
  ASSERT_EQ(check.exit_code, 0) << check.text;

  std::mt19937 random(20261202);
  int kills = 0;
  bool finished = false;
  std::string history;
  for (int attempt = 0; attempt < 80 && !finished; ++attempt) {
    const std::string log = m_dir + "/storm-" + std::to_string(attempt) + ".log";
    const std::string pid_file = m_dir + "/storm-" + std::to_string(attempt) + ".pid";
    ASSERT_EQ(run_shell(with_world_in_background("run -c " + config(), log, pid_file)).exit_code, 0);
    pid_t pid = 0;
    for (int i = 0; i < 300 && pid <= 0; ++i) {
      pid = static_cast<pid_t>(std::atoi(read_text(pid_file).c_str()));
      if (pid <= 0) ::usleep(10'000);
    }
    ASSERT_GT(pid, 0);
    // Short lives first, longer ones later, so every step is hit and still gets done.
    const int life_ms = kills < 20 ? std::uniform_int_distribution<int>(60, 220 + 12 * attempt)(random) : 0;
    bool killed = false;
    if (kills < 20) {
      for (int waited = 0; waited < life_ms && process_running(pid); waited += 10) ::usleep(10'000);
      killed = process_running(pid) && ::kill(pid, SIGKILL) == 0;
    }
    for (int i = 0; i < 60'000 && process_running(pid); ++i) ::usleep(10'000);  // until it ends (or died)
    const std::string out = read_text(log);
    history += "--- attempt " + std::to_string(attempt) + (killed ? " (killed)" : "") + ":\n" + out;
    if (killed) {
      ++kills;
      continue;
    }
    finished = out.find("replicating:") != std::string::npos;
    ASSERT_TRUE(finished || out.find("is in use by another") != std::string::npos)
        << "a run that was not killed failed:\n" << history;
  }
  ASSERT_TRUE(finished) << history;
  EXPECT_GE(kills, 20) << history;

  // The migration goes on under the workload; then the application stops and we cut over.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  workload.stop();
  EXPECT_GT(workload.done(), 50);
  const auto cutover = run_shell(with_world("cutover --yes -c " + config()));
  ASSERT_EQ(cutover.exit_code, 0) << cutover.text << "\n" << history;
  EXPECT_NE(cutover.text.find("cutover complete"), std::string::npos) << cutover.text;

  // One of everything.
  const auto tasks = aws_json(world_dir(), "dms describe-replication-tasks --endpoint-url \"$MSSQL2RDS_WORLD_DMS_URL\"");
  EXPECT_EQ(tasks["ReplicationTasks"].size(), 1u) << tasks.dump();
  const auto world = nlohmann::json::parse(read_text(world_dir() + "/world.json"), nullptr, false);
  const std::string bucket = world.value("bucket", "");
  ASSERT_FALSE(bucket.empty()) << world.dump();
  const auto objects = aws_json(world_dir(), "s3api list-objects-v2 --endpoint-url \"$AWS_ENDPOINT_URL_S3\" --bucket " + bucket);
  ASSERT_TRUE(objects.contains("Contents")) << objects.dump();
  int backups = 0;  // the bucket also holds the world's own CRC32C check object
  for (const auto& o : objects["Contents"]) backups += o.value("Key", "").rfind("demo/", 0) == 0;
  EXPECT_EQ(backups, 1) << objects.dump();
  const auto uploads = aws_json(world_dir(), "s3api list-multipart-uploads --endpoint-url \"$AWS_ENDPOINT_URL_S3\" --bucket " + bucket);
  EXPECT_FALSE(uploads.contains("unparsed")) << uploads.dump();
  EXPECT_FALSE(uploads.contains("Uploads") && !uploads["Uploads"].empty()) << uploads.dump();
  auto target = target_session("master");
  ASSERT_TRUE(target) << target.error().message;
  const auto restores = (*target)->query("exec msdb.dbo.rds_task_status");
  ASSERT_TRUE(restores) << restores.error().message;
  int restore_tasks = 0;
  for (const auto& row : restores->rows()) restore_tasks += row.at(1).to_text().rfind("RESTORE_DB", 0) == 0;
  EXPECT_EQ(restore_tasks, 1);

  // Validation after cutover compares every row; the cutover's own validation passed above.
  const auto validate = run_shell(with_world("validate -c " + config()));
  EXPECT_EQ(validate.exit_code, 0) << validate.text;
}

}  // namespace
}  // namespace m2r::testing
