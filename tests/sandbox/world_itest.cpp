// `mssql2rds-sandbox world up|env|down`: the one command that starts the rehearsal world,
// judged from outside with the AWS CLI v2 and by the processes it leaves (none).
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "sys/moto_locator.hpp"
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

// The AWS CLI v2 with the world's profile (no key in the environment). CLI 2.9 ignores
// AWS_ENDPOINT_URL_<SERVICE>, so the endpoint is passed explicitly.
ProcessResult cli(const fs::path& dir, const std::string& endpoint, std::vector<std::string> args,
                  std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv = {"/usr/bin/aws"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--endpoint-url", endpoint, "--output", "json"});
  env.emplace("AWS_SHARED_CREDENTIALS_FILE", (dir / "aws" / "credentials").string());
  env.emplace("AWS_CONFIG_FILE", (dir / "aws" / "config").string());
  env.emplace("AWS_PROFILE", "rehearsal");
  env.emplace("AWS_ACCESS_KEY_ID", "");
  env.emplace("AWS_SECRET_ACCESS_KEY", "");
  env.emplace("AWS_PAGER", "");
  env.emplace("AWS_MAX_ATTEMPTS", "1");
  return run_process(argv, env);
}

TEST(WorldTest, UpSeedsTheWorldAndDownLeavesNoProcess) {
  // Given a fresh directory, `world up` should start moto (signatures enforced), the SQL
  // Server instances and the DMS API, seed them as a migration needs, and `world down`
  // should leave no process behind.
  ASSERT_EQ(access(k_sandbox.c_str(), X_OK), 0) << k_sandbox << " is not built";
  ASSERT_EQ(access("/usr/bin/aws", X_OK), 0) << "AWS CLI v2 is missing at /usr/bin/aws; run scripts/install-deps.sh";
  const fs::path dir = fs::temp_directory_path() / ("m2r-world-" + std::to_string(getpid()));
  fs::remove_all(dir);
  ProcessResult up = run_process({k_sandbox, "world", "up", "--dir", dir.string()}, {});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  json world = json::parse(slurp(dir / "world.json"));
  EXPECT_NE(slurp(dir / "env").find("AWS_ENDPOINT_URL_DATABASE_MIGRATION_SERVICE="), std::string::npos);
  EXPECT_EQ(slurp(dir / "env").find(slurp(dir / "secrets" / "sa_password")), std::string::npos) << "a secret in env";
  const std::string moto = world["moto"]["endpoint"], dms = world["dms"]["endpoint"];
  // moto was found by sys/moto_locator and given Debian's crc32c module (it passed the
  // world's CRC32C check to get this far).
  EXPECT_FALSE(world["moto"]["command"].empty()) << world["moto"].dump();
  EXPECT_NE(world["moto"]["crc32c_module"].get<std::string>().find("crc32c."), std::string::npos) << world["moto"].dump();

  ProcessResult og = cli(dir, moto, {"rds", "describe-option-groups", "--option-group-name", world["option_group"]});
  ASSERT_EQ(og.exit_code, 0) << og.err;
  json option = json::parse(og.out)["OptionGroupsList"][0]["Options"][0];
  EXPECT_EQ(option["OptionName"], "SQLSERVER_BACKUP_RESTORE");
  EXPECT_EQ(option["OptionSettings"][0]["Name"], "IAM_ROLE_ARN");
  EXPECT_EQ(option["OptionSettings"][0]["Value"], world["role_arn"]);
  ProcessResult db = cli(dir, moto, {"rds", "describe-db-instances", "--db-instance-identifier", world["rds_instance"]});
  ASSERT_EQ(db.exit_code, 0) << db.err;
  const json instance = json::parse(db.out)["DBInstances"][0];
  EXPECT_EQ(instance["Engine"], "sqlserver-se");
  // The instance's parameter group says rds.force_ssl = 1, as its served instance enforces; the world's CA and the
  // RDS certificate name the moto endpoint (and 127.0.0.1, where host_override points).
  EXPECT_EQ(instance["DBParameterGroups"][0]["DBParameterGroupName"], world["rds_parameter_group"]);
  ProcessResult params = cli(dir, moto, {"rds", "describe-db-parameters", "--db-parameter-group-name",
                                         world["rds_parameter_group"]});
  ASSERT_EQ(params.exit_code, 0) << params.err;
  EXPECT_NE(params.out.find("\"rds.force_ssl\""), std::string::npos) << params.out;
  EXPECT_EQ(world["tls"]["rds_endpoint"], instance["Endpoint"]["Address"]);
  EXPECT_EQ(world["tls"]["rds_names"], json::array({instance["Endpoint"]["Address"], "127.0.0.1"}));
  EXPECT_TRUE(fs::exists(world["tls"]["ca_file"].get<std::string>()));
  EXPECT_EQ(fs::status(dir / "tls" / "rds.key").permissions() & fs::perms::others_read, fs::perms::none);
  EXPECT_EQ(world["target"]["force_ssl"], true);
  ProcessResult s3 = cli(dir, moto, {"s3api", "head-bucket", "--bucket", world["bucket"]});
  EXPECT_EQ(s3.exit_code, 0) << s3.err;
  ProcessResult eps = cli(dir, dms, {"dms", "describe-endpoints"});
  ASSERT_EQ(eps.exit_code, 0) << eps.err;
  json endpoints = json::parse(eps.out)["Endpoints"];
  ASSERT_EQ(endpoints.size(), 2u);
  std::set<int> ports = {endpoints[0]["Port"].get<int>(), endpoints[1]["Port"].get<int>()};
  EXPECT_EQ(ports, (std::set<int>{world["source"]["port"].get<int>(), world["target"]["port"].get<int>()}));
  ProcessResult ris = cli(dir, dms, {"dms", "describe-replication-instances"});
  EXPECT_EQ(ris.exit_code, 0) << ris.err;

  // A wrong secret: SignatureDoesNotMatch from moto, InvalidSignatureException from DMS.
  std::string key_line = slurp(dir / "aws" / "credentials");
  std::string key_id = key_line.substr(key_line.find("aws_access_key_id = ") + 20, 20);
  std::map<std::string, std::string> wrong = {{"AWS_PROFILE", m2r::test::k_unset}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                                              {"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_ACCESS_KEY_ID", key_id},
                                              {"AWS_SECRET_ACCESS_KEY", "not-the-secret"}, {"AWS_REGION", "us-east-1"}};
  ProcessResult bad = cli(dir, moto, {"s3api", "list-buckets"}, wrong);
  EXPECT_NE(bad.err.find("SignatureDoesNotMatch"), std::string::npos) << bad.err;
  bad = cli(dir, dms, {"dms", "describe-endpoints"}, wrong);
  EXPECT_NE(bad.err.find("InvalidSignatureException"), std::string::npos) << bad.err;

  ProcessResult env = run_process({k_sandbox, "world", "env", "--dir", dir.string()}, {});
  EXPECT_EQ(env.exit_code, 0);
  EXPECT_EQ(env.out, slurp(dir / "env"));

  ProcessResult down = run_process({k_sandbox, "world", "down", "--dir", dir.string()}, {});
  EXPECT_EQ(down.exit_code, 0) << down.err;
  for (const auto& [name, pid] : world["pids"].items())
    EXPECT_NE(kill(-pid.get<pid_t>(), 0), 0) << name << "'s process group is still alive";
  fs::remove_all(dir);
}

TEST(WorldTest, MissingMotoIsAClearFailure) {
  // Given MOTO_SERVER naming a file that does not exist, `world up` should fail naming it and
  // the fix, rather than run another moto.
  ASSERT_EQ(access(k_sandbox.c_str(), X_OK), 0) << k_sandbox << " is not built";
  const fs::path dir = fs::temp_directory_path() / ("m2r-world-nomoto-" + std::to_string(getpid()));
  ProcessResult up = run_process({k_sandbox, "world", "up", "--dir", dir.string()},
                                 {{"MOTO_SERVER", "/nonexistent/moto_server"}});
  EXPECT_EQ(up.exit_code, 3) << up.err;  // a missing prerequisite
  EXPECT_NE(up.err.find("MOTO_SERVER names /nonexistent/moto_server, which is not an executable file"),
            std::string::npos)
      << up.err;
  EXPECT_NE(up.err.find("install-deps.sh"), std::string::npos) << up.err;
  fs::remove_all(dir);
}

TEST(WorldTest, RefusesAMotoThatReportsCrc32AsCrc32c) {
  // Given a moto that cannot import its optional crc32c module (a wrapper that drops the
  // PYTHONPATH the world gives it), `world up` should refuse to start, naming the wrong
  // checksum and python3-crc32c, and leave no process behind.
  ASSERT_EQ(access(k_sandbox.c_str(), X_OK), 0) << k_sandbox << " is not built";
  auto moto = m2r::locate_moto();
  ASSERT_TRUE(moto) << moto.error().message << "\n" << moto.error().hint;
  const fs::path dir = fs::temp_directory_path() / ("m2r-world-nocrc-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path wrapper = dir / "moto-without-crc32c";
  std::string command;
  for (const auto& word : moto->argv) command += " '" + word + "'";
  std::ofstream(wrapper) << "#!/bin/sh\nunset PYTHONPATH\nexec" << command << " \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  ProcessResult up = run_process({k_sandbox, "world", "up", "--dir", dir.string()}, {{"MOTO_SERVER", wrapper.string()}});
  EXPECT_EQ(up.exit_code, 3) << up.out << up.err;
  EXPECT_NE(up.err.find("moto reports the CRC32C of \"123456789\" as y/Q5Jg==, not 4waSgw=="), std::string::npos)
      << up.err;
  EXPECT_NE(up.err.find("python3-crc32c"), std::string::npos) << up.err;
  EXPECT_FALSE(fs::exists(dir / "pids.json")) << "world up left its processes recorded";
  fs::remove_all(dir);
}

}  // namespace
