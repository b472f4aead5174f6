// `mssql2rds-sandbox world status`: each SQL Server instance of the world is its own process,
// so one that dies leaves the other serving, and the world says which one is gone (a non-zero
// exit, the state and the tail of its log).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "dms_test_support.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using m2r::test::ProcessResult;
using m2r::test::run_process;

const std::string k_sandbox = std::string(MSSQL2RDS_BINARY_DIR) + "/sandbox/mssql2rds-sandbox";

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json component(const json& status, const std::string& name) {
  for (const auto& c : status["components"]) if (c["name"] == name) return c;
  return json();
}

TEST(WorldStatusTest, ADeadInstanceIsReportedAndTheOtherKeepsServing) {
  // Given a running world, `world status` should exit 0 with every process running; after the
  // source instance's process is killed, it should exit 1 naming source as exited, while the
  // RDS instance (another process) still runs and answers on its port.
  ASSERT_EQ(access(k_sandbox.c_str(), X_OK), 0) << k_sandbox << " is not built";
  const fs::path dir = fs::temp_directory_path() / ("m2r-world-status-" + std::to_string(getpid()));
  fs::remove_all(dir);
  ProcessResult up = run_process({k_sandbox, "world", "up", "--dir", dir.string()}, {});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  const json world = json::parse(slurp(dir / "world.json"));
  ASSERT_NE(world["pids"]["source"], world["pids"]["rds"]) << "the instances share a process";

  ProcessResult ok = run_process({k_sandbox, "world", "status", "--dir", dir.string(), "--json"}, {});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  json status = json::parse(ok.out);
  EXPECT_TRUE(status["healthy"].get<bool>());
  for (const char* name : {"moto", "source", "rds", "dms"}) EXPECT_EQ(component(status, name)["state"], "running") << name;

  const pid_t source = world["pids"]["source"].get<pid_t>();
  ASSERT_EQ(kill(source, SIGKILL), 0);
  for (int i = 0; i < 50 && kill(source, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));

  ProcessResult degraded = run_process({k_sandbox, "world", "status", "--dir", dir.string(), "--json"}, {});
  EXPECT_EQ(degraded.exit_code, 1) << degraded.out << degraded.err;
  EXPECT_NE(degraded.err.find("degraded"), std::string::npos) << degraded.err;
  status = json::parse(degraded.out);
  EXPECT_FALSE(status["healthy"].get<bool>());
  EXPECT_EQ(component(status, "source")["state"], "exited");
  EXPECT_TRUE(component(status, "source").contains("log_tail"));
  EXPECT_EQ(component(status, "rds")["state"], "running") << "the RDS instance went down with the source";

  ProcessResult text = run_process({k_sandbox, "world", "status", "--dir", dir.string()}, {});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("source"), std::string::npos);
  EXPECT_NE(text.out.find("exited"), std::string::npos) << text.out;

  ProcessResult down = run_process({k_sandbox, "world", "down", "--dir", dir.string()}, {});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  for (const auto& [name, pid] : world["pids"].items())
    EXPECT_NE(kill(-pid.get<pid_t>(), 0), 0) << name << "'s process group is still alive";
  fs::remove_all(dir);
}

}  // namespace
