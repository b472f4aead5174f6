// Faults at the worst moments, injected by a loopback proxy between `mssql2rds run` and the
// world's S3 (moto) or DMS: the run killed after S3 completed the multipart upload but before
// the answer arrived, killed after DMS created the task but before the answer arrived, an
// answer lost on the way back, and a clock-skew answer. After each, the user does what the
// message says (run again, fix the clock) and ends with one object equal to the file and one task.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"
#include "support/fault_proxy.hpp"

namespace m2r::testing {
namespace {

std::string env_value(const std::string& env_text, const std::string& name) {
  const std::string key = "export " + name + "=";
  const auto at = env_text.find(key);
  if (at == std::string::npos) return {};
  const auto end = env_text.find('\n', at);
  return env_text.substr(at + key.size(), end - at - key.size());
}


class FaultProxyTest : public CliWorldTest {
 protected:
  // A world whose sample has a backup of a few 5 MiB parts, published by `check --fix`, with
  // `service`'s endpoint (AWS_ENDPOINT_URL_<service>) behind a proxy.
  ::testing::AssertionResult set_up_behind_proxy(const std::string& service) {
    if (auto up = set_up_world(); !up) return up;
    upload_one_part_at_a_time();
    {
      auto source = source_session();
      if (!source) return ::testing::AssertionFailure() << source.error().message;
      if (auto added = add_incompressible_attachments(**source, 40, 11); !added) return added;
    }
    const auto check = run_shell(with_world("check --fix --yes -c " + config()));
    if (check.exit_code != 0) return ::testing::AssertionFailure() << check.text;
    const std::string env = read_text(world_dir() + "/env");
    const std::string variable = "AWS_ENDPOINT_URL_" + service;
    std::string host;
    int port = 0;
    if (!split_http_url(env_value(env, variable), host, port))
      return ::testing::AssertionFailure() << variable << " is not an http URL in " << env;
    m_proxy = std::make_unique<FaultProxy>(host, port);
    if (auto started = m_proxy->start(); !started) return ::testing::AssertionFailure() << started.error().message;
    // Later exports win: every client that sources the world's env now goes through the proxy.
    std::ofstream(world_dir() + "/env", std::ios::app) << "export " << variable << "=" << m_proxy->url() << "\n";
    return ::testing::AssertionSuccess();
  }

  // `run` in the background; `kill_it` SIGKILLs it (from the proxy's thread).
  void start_run(const std::string& name) {
    m_pid_file = m_dir + "/" + name + ".pid";
    m_log = m_dir + "/" + name + ".log";
    ASSERT_EQ(run_shell(with_world_in_background("run -c " + config(), m_log, m_pid_file)).exit_code, 0);
  }
  void kill_it() const {
    const pid_t pid = static_cast<pid_t>(std::atoi(read_text(m_pid_file).c_str()));
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  // Waits for the background run to end (killed or not); its output.
  std::string wait_for_run() const {
    pid_t pid = 0;
    for (int i = 0; i < 300 && pid <= 0; ++i) {
      pid = static_cast<pid_t>(std::atoi(read_text(m_pid_file).c_str()));
      if (pid <= 0) ::usleep(10'000);
    }
    for (int i = 0; i < 30'000 && pid > 0 && process_running(pid); ++i) ::usleep(10'000);
    return read_text(m_log);
  }

  nlohmann::json backup_objects() const {
    const auto world = nlohmann::json::parse(read_text(world_dir() + "/world.json"), nullptr, false);
    const std::string bucket = world.value("bucket", "");
    const auto objects =
        aws_json(world_dir(), "s3api list-objects-v2 --endpoint-url \"$MSSQL2RDS_WORLD_MOTO_URL\" --bucket " + bucket);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& o : objects.value("Contents", nlohmann::json::array()))
      if (o.value("Key", "").rfind("demo/", 0) == 0) out.push_back(o);
    return out;
  }
  nlohmann::json open_uploads() const {
    const auto world = nlohmann::json::parse(read_text(world_dir() + "/world.json"), nullptr, false);
    return aws_json(world_dir(), "s3api list-multipart-uploads --endpoint-url \"$MSSQL2RDS_WORLD_MOTO_URL\" --bucket " +
                                     world.value("bucket", ""));
  }
  nlohmann::json tasks() const {
    return aws_json(world_dir(), "dms describe-replication-tasks --endpoint-url \"$MSSQL2RDS_WORLD_DMS_URL\"");
  }

  std::unique_ptr<FaultProxy> m_proxy;
  std::string m_pid_file, m_log;
};

TEST_F(FaultProxyTest, AKillWhileS3CompletesTheUploadIsAdoptedOnResumeWithoutUploadingAgain) {
  ASSERT_TRUE(set_up_behind_proxy("S3"));
  m_proxy->add_rule({.operation = "CompleteMultipartUpload",
                     .action = ProxyAction::forward_then_call,
                     .then = [this] { kill_it(); }});
  start_run("killed");
  const std::string killed = wait_for_run();
  ASSERT_EQ(m_proxy->faults_injected(), 1) << killed;
  ASSERT_EQ(m_proxy->count("CompleteMultipartUpload"), 1) << killed;
  // S3 holds the object; the journal does not know it.
  ASSERT_EQ(backup_objects().size(), 1u) << killed;
  const int parts_sent = m_proxy->count("UploadPart");
  ASSERT_GE(parts_sent, 2);

  const auto resumed = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.text;
  EXPECT_NE(resumed.text.find("replicating:"), std::string::npos) << resumed.text;
  // Adopted after checking it against the file: nothing created, sent or completed again.
  EXPECT_EQ(m_proxy->count("CreateMultipartUpload"), 1) << resumed.text;
  EXPECT_EQ(m_proxy->count("UploadPart"), parts_sent) << resumed.text;
  EXPECT_EQ(m_proxy->count("CompleteMultipartUpload"), 1) << resumed.text;
  EXPECT_GE(m_proxy->count("HeadObject"), 1) << resumed.text;
  const auto objects = backup_objects();
  ASSERT_EQ(objects.size(), 1u) << objects.dump();
  const auto journal_size = run_shell("bash -c 'stat -c %s " + world_dir() + "/backups/*.bak'");
  EXPECT_EQ(std::to_string(objects[0].value("Size", 0LL)) + "\n", journal_size.text);
  const auto uploads = open_uploads();
  EXPECT_FALSE(uploads.contains("unparsed")) << uploads.dump();
  EXPECT_FALSE(uploads.contains("Uploads") && !uploads["Uploads"].empty()) << uploads.dump();
}

TEST_F(FaultProxyTest, AKillWhileDmsCreatesTheTaskIsAdoptedOnResumeAndNoSecondTaskIsCreated) {
  ASSERT_TRUE(set_up_behind_proxy("DATABASE_MIGRATION_SERVICE"));
  m_proxy->add_rule({.operation = "CreateReplicationTask",
                     .action = ProxyAction::forward_then_call,
                     .then = [this] { kill_it(); }});
  start_run("killed");
  const std::string killed = wait_for_run();
  ASSERT_EQ(m_proxy->faults_injected(), 1) << killed;
  ASSERT_EQ(tasks()["ReplicationTasks"].size(), 1u) << killed;  // DMS has it; the journal does not

  const auto resumed = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.text;
  EXPECT_NE(resumed.text.find("adopting the existing DMS task"), std::string::npos) << resumed.text;
  EXPECT_NE(resumed.text.find("replicating:"), std::string::npos) << resumed.text;
  EXPECT_EQ(m_proxy->count("CreateReplicationTask"), 1) << resumed.text;
  const auto all = tasks()["ReplicationTasks"];
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0].value("MigrationType", ""), "cdc");
  EXPECT_NE(all[0].value("Status", ""), "failed") << all.dump();
}

TEST_F(FaultProxyTest, ALostCreateReplicationTaskAnswerEndsWithOneTask) {
  ASSERT_TRUE(set_up_behind_proxy("DATABASE_MIGRATION_SERVICE"));
  m_proxy->add_rule({.operation = "CreateReplicationTask", .action = ProxyAction::drop_answer});
  auto first = run_shell(with_world("run -c " + config()));
  if (first.exit_code != 0) {
    // The request may not be repeated blindly (it is not idempotent): the run stops and says
    // to run again; the next run finds the task DMS did create.
    EXPECT_EQ(first.exit_code, 9) << first.text;
    EXPECT_NE(first.text.find("may have been carried out"), std::string::npos) << first.text;
    EXPECT_NE(first.text.find("run the command again"), std::string::npos) << first.text;
    first = run_shell(with_world("run -c " + config()));
  }
  ASSERT_EQ(first.exit_code, 0) << first.text;
  EXPECT_NE(first.text.find("replicating:"), std::string::npos) << first.text;
  const auto all = tasks()["ReplicationTasks"];
  EXPECT_EQ(all.size(), 1u) << all.dump();
}

TEST_F(FaultProxyTest, AClockTwentyMinutesOffIsNamedAsTheClockAndNothingChangesUntilItIsFixed) {
  ASSERT_TRUE(set_up_behind_proxy("S3"));
  // What S3 answers a request signed 20 minutes behind its clock: to a HEAD, a bare 403 whose
  // only clue is the Date header; to other requests RequestTimeTooSkewed with ServerTime.
  auto skewed = [](const std::string& operation) {
    return ProxyRule{.operation = operation,
                     .action = ProxyAction::answer,
                     .times = 1000,
                     .status = 403,
                     .body = [] {
                       const auto server = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                                                std::chrono::minutes(20));
                       char stamp[32];
                       std::tm tm{};
                       std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&server, &tm));
                       return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed"
                                          "</Code><Message>The difference between the request time and the current time "
                                          "is too large.</Message><ServerTime>") +
                              stamp + "</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds></Error>";
                     },
                     .server_clock_ahead = std::chrono::minutes(20)};
  };
  for (const char* op : {"HeadBucket", "GetBucketLocation", "CreateMultipartUpload", "ListMultipartUploads", "HeadObject"})
    m_proxy->add_rule(skewed(op));
  const auto refused = run_shell(with_world("run -c " + config()));
  EXPECT_EQ(refused.exit_code, 3) << refused.text;  // the preflight refuses before the first change
  EXPECT_NE(refused.text.find("clock differs"), std::string::npos) << refused.text;
  EXPECT_TRUE(std::regex_search(refused.text, std::regex("by 1(199|200|201) s \\(behind"))) << refused.text;
  EXPECT_EQ(refused.text.find("secret access key"), std::string::npos) << refused.text;
  EXPECT_EQ(refused.text.find("permission"), std::string::npos) << refused.text;
  EXPECT_EQ(m_proxy->count("CreateMultipartUpload"), 0);
  EXPECT_NE(run_shell("bash -c 'ls " + world_dir() + "/backups/*.bak'").exit_code, 0) << "a backup was taken";

  m_proxy->clear_rules();  // the clock synchronised
  const auto after_fix = run_shell(with_world("run -c " + config()));
  ASSERT_EQ(after_fix.exit_code, 0) << after_fix.text;
  EXPECT_NE(after_fix.text.find("replicating:"), std::string::npos) << after_fix.text;
  EXPECT_EQ(backup_objects().size(), 1u);
}

}  // namespace
}  // namespace m2r::testing
