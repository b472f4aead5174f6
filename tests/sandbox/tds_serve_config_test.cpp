// Unit tests for `mssql2rds-sandbox serve` configuration: --instance specs and TOML.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tds/serve_config.hpp"

namespace sandbox::tds {
namespace {

std::string env_with_password(const char* name) {
  const std::string n = name;
  if (n == k_sa_password_env) return "S3cret!";
  if (n == "OTHER_PW") return "Other!";
  if (n == "AWS_ACCESS_KEY_ID") return "AKIDEXAMPLE";
  if (n == "AWS_SECRET_ACCESS_KEY") return "secret";
  return "";
}
std::string empty_env(const char*) { return ""; }

TEST(TdsServeConfigTest, ParsesAFullInstanceSpec) {
  // Given a spec with every common key, we should get the instance config and port, password from the env.
  auto s = parse_instance_spec("name=src,port=14331,kind=sqlserver,version=2017,data=/tmp/src", env_with_password);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->config.name, "src");
  EXPECT_EQ(s->port, 14331);
  EXPECT_EQ(s->config.kind, InstanceKind::sqlserver);
  EXPECT_EQ(s->config.version, 2017);
  EXPECT_EQ(s->config.data_dir, "/tmp/src");
  EXPECT_EQ(s->config.sa_password, "S3cret!");
}

TEST(TdsServeConfigTest, ReadTimeoutDefaultsTo30SecondsAndIsConfigurable) {
  // Given no read_timeout_ms, the timeout should be 30 s; given 250 it should be 250 ms; 0 is refused.
  auto d = parse_instance_spec("name=src,port=0,data=/tmp/src", env_with_password);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->read_timeout, std::chrono::milliseconds(30000));
  auto s = parse_instance_spec("name=src,port=0,data=/tmp/src,read_timeout_ms=250", env_with_password);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->read_timeout, std::chrono::milliseconds(250));
  auto bad = parse_instance_spec("name=src,port=0,data=/tmp/src,read_timeout_ms=0", env_with_password);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("read_timeout_ms"), std::string::npos);
}

TEST(TdsServeConfigTest, TlsKeysNeedEachOtherAndForceSslNeedsACertificate) {
  // Given tls_cert and tls_key, we should get both and force_ssl; one without the other, force_ssl without a
  // certificate or a force_ssl other than 0/1 should be refused.
  auto s = parse_instance_spec("name=rds,kind=rds,data=/tmp/r,tls_cert=/t/rds.pem,tls_key=/t/rds.key,force_ssl=1",
                               env_with_password);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->tls_cert, "/t/rds.pem");
  EXPECT_EQ(s->tls_key, "/t/rds.key");
  EXPECT_TRUE(s->force_ssl);
  EXPECT_FALSE(parse_instance_spec("name=a,data=/tmp/a", env_with_password)->force_ssl);
  EXPECT_FALSE(parse_instance_spec("name=a,data=/tmp/a,tls_cert=/t/a.pem", env_with_password));
  EXPECT_FALSE(parse_instance_spec("name=a,data=/tmp/a,force_ssl=1", env_with_password));
  EXPECT_FALSE(parse_instance_spec("name=a,data=/tmp/a,tls_cert=/c,tls_key=/k,force_ssl=yes", env_with_password));
}

TEST(TdsServeConfigTest, RdsInstanceTakesAwsKeysFromTheEnvironment) {
  // Given kind=rds and a password_env, keys should come from AWS_* and the password from that variable.
  auto s = parse_instance_spec("name=tgt,port=0,kind=rds,data=/tmp/t,password_env=OTHER_PW,task_pace=0", env_with_password);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->config.kind, InstanceKind::rds);
  EXPECT_EQ(s->config.sa_password, "Other!");
  EXPECT_EQ(s->config.rds_access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(s->config.rds_secret_access_key, "secret");
  EXPECT_EQ(s->config.rds_region, "us-east-1");
  EXPECT_EQ(s->config.rds_task_pace, 0.0);
}

TEST(TdsServeConfigTest, RefusesSecretsOnTheCommandLine) {
  // Given sa_password in a spec, parsing should fail and point to the environment.
  auto s = parse_instance_spec("name=src,data=/tmp/x,sa_password=oops", env_with_password);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().hint.find("environment"), std::string::npos);
  EXPECT_EQ(s.error().message.find("oops"), std::string::npos);
}

TEST(TdsServeConfigTest, RejectsUnknownKindVersionAndKeys) {
  // Given bad values, each should be reported by name.
  EXPECT_FALSE(parse_instance_spec("name=a,data=/d,kind=oracle", env_with_password));
  EXPECT_FALSE(parse_instance_spec("name=a,data=/d,version=2012", env_with_password));
  EXPECT_FALSE(parse_instance_spec("name=a,data=/d,colour=blue", env_with_password));
  EXPECT_FALSE(parse_instance_spec("name=a,data=/d,port=70000", env_with_password));
  EXPECT_FALSE(parse_instance_spec("name=a,data=/d,port", env_with_password));
}

TEST(TdsServeConfigTest, RequiresAPassword) {
  // Given no password anywhere, parsing should fail with a hint naming the variable.
  auto s = parse_instance_spec("name=a,data=/d", empty_env);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().hint.find(k_sa_password_env), std::string::npos);
}

TEST(TdsServeConfigTest, ParsesTomlInstances) {
  // Given a TOML file with two instances, both should be read with their ports and host.
  const auto path = std::filesystem::temp_directory_path() / "tds_serve_config_test.toml";
  std::ofstream(path) << "host = \"127.0.0.1\"\n"
                         "[[instance]]\nname = \"src\"\nport = 14331\nversion = 2019\ndata = \"/tmp/s\"\n"
                         "sa_password = \"FromFile!\"\n"
                         "[[instance]]\nname = \"tgt\"\nkind = \"rds\"\nport = 14332\ndata = \"/tmp/t\"\n"
                         "task_pace = 0.5\n";
  auto cfg = parse_serve_toml(path.string(), env_with_password);
  std::filesystem::remove(path);
  ASSERT_TRUE(cfg) << cfg.error().message;
  ASSERT_EQ(cfg->instances.size(), 2u);
  EXPECT_EQ(cfg->instances[0].config.sa_password, "FromFile!");
  EXPECT_EQ(cfg->instances[1].port, 14332);
  EXPECT_EQ(cfg->instances[1].config.kind, InstanceKind::rds);
  EXPECT_EQ(cfg->instances[1].config.rds_task_pace, 0.5);
  EXPECT_EQ(cfg->instances[1].config.sa_password, "S3cret!");
}

}  // namespace
}  // namespace sandbox::tds
