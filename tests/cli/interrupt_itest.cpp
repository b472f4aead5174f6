// Ctrl-C (SIGINT) during `mssql2rds run` in the middle of the upload and during `mssql2rds
// cutover` in the middle of the drain, against the rehearsal world: each stops at a safe point,
// exits 130 saying how to continue, leaves the journal consistent, and the same command then
// finishes cleanly. With --json every stdout line is one JSON object. A journal damaged by hand
// is a named error (exit 11) for `run` and `status`, never an unexpected error (10).
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

class InterruptTest : public CliWorldTest {
 protected:
  std::string journal_path() const { return world_dir() + "/demo.journal"; }

  // `mssql2rds <args>` in the background (its own pid: the signal goes to it, not to a shell) with stdout, stderr and its exit code in files.
  pid_t start(const std::string& args, const std::string& name) {
    const std::string secret = world_dir() + "/secrets/sa_password";
    const std::string dir = m_dir + "/" + name;
    const std::string cmd = "bash -c '(. " + world_dir() + "/env && export MSSQL2RDS_SOURCE_PASSWORD=\"$(cat " + secret +
                            ")\" MSSQL2RDS_TARGET_PASSWORD=\"$(cat " + secret + ")\" && (" + mssql2rds() + " " + args +
                            " > " + dir + ".out 2> " + dir + ".err < /dev/null & echo $! > " + dir +
                            ".pid; wait $!; echo $? > " + dir + ".rc)) > /dev/null 2>&1 &'";
    if (run_shell(cmd).exit_code != 0) return 0;
    pid_t pid = 0;
    for (int i = 0; i < 500 && pid <= 0; ++i) {  // deadline 10 s
      pid = static_cast<pid_t>(std::atoi(read_text(dir + ".pid").c_str()));
      if (pid <= 0) ::usleep(20'000);
    }
    return pid;
  }
  // Waits (deadline 120 s) for the exit code the background command wrote.
  int exit_code_of(const std::string& name) {
    for (int i = 0; i < 6000; ++i) {
      const std::string rc = read_text(m_dir + "/" + name + ".rc");
      if (!rc.empty() && rc.back() == '\n') return std::atoi(rc.c_str());
      ::usleep(20'000);
    }
    return -1;
  }
  std::string out(const std::string& name) { return read_text(m_dir + "/" + name + ".out"); }
  std::string err(const std::string& name) { return read_text(m_dir + "/" + name + ".err"); }

  // One integer from the journal (read-only: the journal's own reader may hold it too).
  long long journal_count(const std::string& sql) {
    sqlite3* db = nullptr;
    long long n = -1;
    if (sqlite3_open_v2(journal_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
      }
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
  }
  bool journal_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    bool ok = sqlite3_open(journal_path().c_str(), &db) == SQLITE_OK &&
              sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
  }
};

// Every line of a --json command's stdout parses as one JSON object; returns them.
std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not one JSON object per line: " << line;
    EXPECT_TRUE(j.is_object()) << line;
    lines.push_back(j);
  }
  return lines;
}

TEST_F(InterruptTest, CtrlCStopsRunMidUploadAndCutoverMidDrainAndEachContinues) {
  // The sandbox's DMS applies one change per 300 ms: a backlog for the drain to wait on.
  ASSERT_TRUE(set_up_world("M2R_DMS_APPLY_DELAY_MS=300 M2R_DMS_BATCH_SIZE=1 "));
  upload_one_part_at_a_time();
  auto source = source_session();
  ASSERT_TRUE(source) << source.error().message;
  // About 32 MiB of row data that does not compress: a backup of seven 5 MiB parts, sent one at
  // a time (about 50 ms each on loopback), so a part is on the wire when the signal lands.
  ASSERT_TRUE(add_incompressible_attachments(**source, 128, 11));
  ASSERT_EQ(run_shell(with_world("check --fix --yes -c " + config())).exit_code, 0);

  // 1. `run --json`, SIGINT once the upload has parts journaled and more to send.
  const pid_t run_pid = start("--json run -c " + config(), "run");
  ASSERT_GT(run_pid, 0);
  bool sent = false;
  for (int i = 0; i < 24000 && !sent; ++i) {  // deadline 120 s
    if (journal_count("SELECT COUNT(*) FROM upload_parts") >= 1) sent = ::kill(run_pid, SIGINT) == 0;
    else ::usleep(5'000);
  }
  ASSERT_TRUE(sent) << out("run") << err("run");
  EXPECT_EQ(exit_code_of("run"), 130) << out("run") << err("run");
  const auto run_lines = json_lines(out("run"));
  ASSERT_FALSE(run_lines.empty());
  const auto& run_error = run_lines.back();
  ASSERT_TRUE(run_error.contains("error")) << out("run");
  EXPECT_EQ(run_error["error"].value("kind", ""), "interrupted") << run_error.dump();
  EXPECT_EQ(run_error["error"].value("exit_code", 0), 130);
  EXPECT_NE(run_error["error"].value("hint", "").find("`mssql2rds run -c " + config() + "` continues"), std::string::npos)
      << run_error.dump();
  EXPECT_NE(err("run").find("stopping at a safe point"), std::string::npos) << err("run");
  ASSERT_EQ(out("run").find("uploaded s3://"), std::string::npos) << "the upload finished before the interrupt";
  // The journal: the upload is open (not done), its acknowledged parts recorded.
  const long long parts_before = journal_count("SELECT COUNT(*) FROM upload_parts");
  EXPECT_GE(parts_before, 1);
  EXPECT_LT(parts_before, 7);
  EXPECT_EQ(journal_count("SELECT COUNT(*) FROM steps WHERE name = 'upload' AND status = 'done'"), 0);
  EXPECT_EQ(journal_count("SELECT COUNT(*) FROM steps WHERE name = 'backup' AND status = 'done'"), 1);

  // 2. A hand-damaged journal: `run` and `status` name the step and the key, exit 11.
  const std::string copy = m_dir + "/journal.copy";
  std::filesystem::copy_file(journal_path(), copy);
  ASSERT_TRUE(journal_exec("UPDATE steps SET outputs = json_set(outputs, '$.local_files', 42) WHERE name = 'backup';"));
  const auto damaged_run = run_shell(with_world("run -c " + config()));
  EXPECT_EQ(damaged_run.exit_code, 11) << damaged_run.text;
  EXPECT_NE(damaged_run.text.find("step 'backup': \"local_files\" should be a non-empty array of strings, found a number (42)"),
            std::string::npos)
      << damaged_run.text;
  EXPECT_NE(damaged_run.text.find("fix: the journal was edited or damaged"), std::string::npos) << damaged_run.text;
  // (`run` reads a done replicate step first, to see whether its task still exists: damage there
  // is named by `status` below.)
  ASSERT_TRUE(journal_exec("INSERT INTO steps(name, status, outputs) VALUES ('replicate', 'done', '{\"task_arn\": 7}');"));
  const auto damaged_status = run_shell(with_world("--json status -c " + config()));
  EXPECT_EQ(damaged_status.exit_code, 11) << damaged_status.text;
  const auto status_lines = json_lines(damaged_status.text);
  ASSERT_EQ(status_lines.size(), 1U) << damaged_status.text;
  EXPECT_EQ(status_lines[0]["error"].value("kind", ""), "journal damaged") << damaged_status.text;
  EXPECT_NE(status_lines[0]["error"].value("message", "").find("\"task_arn\" should be a string"), std::string::npos);
  // The documented fix: the copy back.
  std::filesystem::remove(journal_path() + "-wal");
  std::filesystem::remove(journal_path() + "-shm");
  std::filesystem::copy_file(copy, journal_path(), std::filesystem::copy_options::overwrite_existing);

  // 3. The same `run` continues the same upload and finishes.
  const auto resumed = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(resumed.exit_code, 0) << "interrupted run:\n" << out("run") << "\nresumed run:\n" << resumed.text;
  EXPECT_NE(resumed.text.find("resumed upload"), std::string::npos) << resumed.text;
  EXPECT_TRUE(std::regex_search(resumed.text, std::regex("\\(resumed, [1-9][0-9]* parts reused\\)"))) << resumed.text;
  EXPECT_EQ(resumed.text.find("BACKUP DATABASE"), std::string::npos) << resumed.text;

  // 4. A backlog (40 changes, about 12 s to apply), `cutover`, SIGINT while it drains.
  for (int i = 0; i < 40; ++i) {
    auto done = (*source)->execute("INSERT INTO dbo.Customers (Name) VALUES (?)",
                                   {mssql::SqlParam::nvarchar("late customer " + std::to_string(i))});
    ASSERT_TRUE(done) << done.error().message;
  }
  const pid_t cutover_pid = start("cutover --yes -c " + config(), "cutover");
  ASSERT_GT(cutover_pid, 0);
  sent = false;
  for (int i = 0; i < 6000 && !sent; ++i) {
    if (out("cutover").find("draining:") != std::string::npos) sent = ::kill(cutover_pid, SIGINT) == 0;
    else ::usleep(20'000);
  }
  ASSERT_TRUE(sent) << out("cutover") << err("cutover");
  EXPECT_EQ(exit_code_of("cutover"), 130) << out("cutover") << err("cutover");
  EXPECT_NE(err("cutover").find("interrupted: the cutover stopped while draining CDC"), std::string::npos)
      << err("cutover");
  EXPECT_NE(err("cutover").find("fix: `mssql2rds cutover -c " + config() + "` continues"), std::string::npos)
      << err("cutover");
  // The task was left replicating.
  const auto status = run_shell(with_world("--json status -c " + config()));
  const auto lines = json_lines(status.text);
  ASSERT_EQ(lines.size(), 1U) << status.text;
  EXPECT_EQ(lines[0]["task"].value("status", ""), "running") << status.text;
  EXPECT_EQ(lines[0].value("result", ""), "status");

  // 5. `cutover --json` again: drains, and every line is JSON, the result last.
  const auto cutover = run_shell(with_world("--json cutover --yes -c " + config()));
  EXPECT_EQ(cutover.exit_code, 0) << cutover.text;
  const auto cutover_lines = json_lines(cutover.text);
  ASSERT_FALSE(cutover_lines.empty());
  EXPECT_EQ(cutover_lines.back().value("result", ""), "cutover") << cutover.text;
  EXPECT_TRUE(cutover_lines.back()["validation"].value("ok", false)) << cutover.text;
  const auto validate = run_shell(with_world("--json validate -c " + config()));
  EXPECT_EQ(validate.exit_code, 0) << validate.text;
  const auto validate_lines = json_lines(validate.text);
  ASSERT_FALSE(validate_lines.empty());
  EXPECT_EQ(validate_lines.back().value("result", ""), "validate") << validate.text;
}

TEST(JsonLinesTest, CommandsWithoutAWorldPrintOneObjectPerLine) {
  // Given --json, results and errors should each be one JSON object on one line.
  const std::string exe = std::string(MSSQL2RDS_BINARY_DIR) + "/src/mssql2rds";
  const auto lsn = run_shell(exe + " --json lsn 37000000295900004 2>/dev/null");
  EXPECT_EQ(lsn.exit_code, 0) << lsn.text;
  auto lines = json_lines(lsn.text);
  ASSERT_EQ(lines.size(), 1U) << lsn.text;
  EXPECT_EQ(lines[0].value("result", ""), "lsn");
  EXPECT_EQ(lines[0].value("hex", ""), "00000025:00000b8f:0004");

  const auto bad = run_shell(exe + " --json lsn 25:b8f:4 2>/dev/null");
  EXPECT_EQ(bad.exit_code, 2) << bad.text;
  lines = json_lines(bad.text);
  ASSERT_EQ(lines.size(), 1U) << bad.text;
  EXPECT_EQ(lines[0]["error"].value("exit_code", 0), 2);

  char dir_template[] = "/tmp/m2r-json-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const auto init = run_shell(exe + " --json init " + dir + "/m.toml 2>/dev/null");
  EXPECT_EQ(init.exit_code, 0) << init.text;
  lines = json_lines(init.text);
  ASSERT_EQ(lines.size(), 1U) << init.text;
  EXPECT_EQ(lines[0].value("written", ""), dir + "/m.toml");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace m2r::testing
