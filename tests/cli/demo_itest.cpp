// The demo end to end: the real executables (mssql2rds, mssql2rds-sandbox), the whole rehearsal
// world (moto with IAM auth, the sandbox's SQL Server and RDS instances, its DMS), a live
// workload, and one transaction held open across the end of the backup (facts.md §2).
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct Output {
  int exit_code = -1;
  std::string text;
};

Output run(const std::string& command) {
  Output out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.text.append(buffer, n);
  const int status = ::pclose(pipe);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

std::string last_line(const std::string& text) {
  std::string line, last;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/m2r-demo-itest-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override {
    // A failed test must not leave the world running.
    (void)run(std::string(MSSQL2RDS_BINARY_DIR) + "/sandbox/mssql2rds-sandbox world down --dir " + m_dir + "/world");
    std::error_code ec;
    fs::remove_all(m_dir, ec);
  }
  std::string m_dir;
};

TEST_F(DemoTest, MigratesUnderALiveWorkloadWithNothingLostOrDuplicated) {
  // Given the rehearsal world and an application writing 20 transactions a second, with one
  // transaction open across the end of the backup, `mssql2rds demo` should migrate, cut over
  // and find every table equal (row counts and checksums), the long transaction's row on the
  // target exactly once, every schema object present and enabled, and leave no process of the
  // world behind.
  const std::string world = m_dir + "/world";
  const auto out = run(std::string(MSSQL2RDS_BINARY_DIR) + "/src/mssql2rds --json demo --dir " + world +
                       " --rate 20 --replicate-seconds 4 --customers 50");
  ASSERT_EQ(out.exit_code, 0) << out.text;
  const auto summary = nlohmann::json::parse(last_line(out.text), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << out.text;
  EXPECT_TRUE(summary.value("ok", false)) << summary.dump();
  EXPECT_EQ(summary.value("mismatches", -1), 0);
  EXPECT_EQ(summary.value("tables_matching", 0), 3);
  EXPECT_EQ(summary.value("long_transaction_rows_on_target", -1), 1);
  // Beyond rows: 3 tables, the foreign key, the trigger, the view, the function, the procedure,
  // present on the target with the trigger enabled and the foreign key trusted again.
  EXPECT_TRUE(summary.value("schema_ok", false)) << summary.value("schema", std::string());
  EXPECT_EQ(summary.value("schema_objects", 0), 8);
  EXPECT_GT(summary.value("workload_transactions", 0), 20) << "the workload did not run during the migration";
  // The start point had to reach back for the open transaction, and said so.
  EXPECT_NE(out.text.find("were open at the end of the backup"), std::string::npos) << out.text;

  std::ifstream world_json(world + "/world.json");
  const auto description = nlohmann::json::parse(world_json, nullptr, false);
  ASSERT_TRUE(description.contains("pids")) << description.dump();
  for (const auto& [name, pid] : description["pids"].items()) {
    EXPECT_NE(::kill(pid.get<pid_t>(), 0), 0) << name << " (pid " << pid << ") is still running";
  }
}

TEST_F(DemoTest, AMissingSandboxIsAClearErrorThatChangesNothing) {
  // Given --sandbox naming no executable, demo should exit 2 with a message naming the path and
  // the fix, and create nothing.
  const std::string world = m_dir + "/world";
  const auto out = run(std::string(MSSQL2RDS_BINARY_DIR) + "/src/mssql2rds demo --dir " + world +
                       " --sandbox /nonexistent/mssql2rds-sandbox");
  EXPECT_EQ(out.exit_code, 2) << out.text;
  EXPECT_NE(out.text.find("/nonexistent/mssql2rds-sandbox"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("fix:"), std::string::npos) << out.text;
  EXPECT_FALSE(fs::exists(world));
}


TEST_F(DemoTest, ARunKilledDuringTheRestoreResumesWithoutRedoingFinishedSteps) {
  // Given the world set up by `demo --setup-only` and `run` killed with SIGKILL while the RDS
  // restore is in progress, running `run` again should finish: backup, LSN and upload come
  // from the journal (not redone), the restore task is followed rather than started twice,
  // and the cutover finds source and target equal.
  const std::string world = m_dir + "/world";
  const std::string bin = std::string(MSSQL2RDS_BINARY_DIR) + "/src/mssql2rds";
  const auto setup = run(bin + " --json demo --setup-only --customers 30 --dir " + world);
  ASSERT_EQ(setup.exit_code, 0) << setup.text;
  const std::string config = world + "/mssql2rds.toml";
  const std::string env = ". " + world + "/env && export MSSQL2RDS_SOURCE_PASSWORD=\"$(cat " + world +
                          "/secrets/sa_password)\" MSSQL2RDS_TARGET_PASSWORD=\"$(cat " + world + "/secrets/sa_password)\" && ";
  const auto check = run("bash -c '" + env + bin + " check --fix --yes -c " + config + "'");
  ASSERT_EQ(check.exit_code, 0) << check.text;

  const std::string log = m_dir + "/run1.log";
  const std::string pid_file = m_dir + "/run1.pid";
  ASSERT_EQ(run("bash -c '" + env + "(" + bin + " run -c " + config + " > " + log + " 2>&1 & echo $! > " + pid_file +
                ")'").exit_code, 0);
  pid_t pid = 0;
  for (int i = 0; i < 300 && pid == 0; ++i) {
    std::ifstream in(pid_file);
    in >> pid;
    if (pid == 0) ::usleep(100'000);
  }
  ASSERT_GT(pid, 0);
  bool killed = false;
  for (int i = 0; i < 600 && !killed; ++i) {
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("restore 0%") != std::string::npos) {
      ASSERT_EQ(::kill(pid, SIGKILL), 0);
      killed = true;
    }
    if (!killed) ::usleep(50'000);
  }
  ASSERT_TRUE(killed) << "the run never reached the restore";
  for (int i = 0; i < 100 && ::kill(pid, 0) == 0; ++i) ::usleep(50'000);

  const auto resumed = run("bash -c '" + env + bin + " run -c " + config + "'");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.text;
  for (const char* step : {"backup", "capture_lsn", "upload"}) {
    EXPECT_NE(resumed.text.find(std::string("==> ") + step + ": already done"), std::string::npos)
        << step << " ran again after the kill:\n" << resumed.text;
  }
  EXPECT_EQ(resumed.text.find("BACKUP DATABASE"), std::string::npos) << resumed.text;
  EXPECT_NE(resumed.text.find("==> restore: restore on RDS (resuming)"), std::string::npos) << resumed.text;
  EXPECT_EQ(resumed.text.find("rds_restore_database"), std::string::npos) << "the restore was started twice:\n" << resumed.text;
  EXPECT_NE(resumed.text.find("restore 100%"), std::string::npos) << resumed.text;

  const auto cutover = run("bash -c '" + env + bin + " cutover --yes -c " + config + "'");
  EXPECT_EQ(cutover.exit_code, 0) << cutover.text;
  EXPECT_NE(cutover.text.find("cutover complete"), std::string::npos) << cutover.text;
}

}  // namespace
