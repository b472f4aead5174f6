#include "core/config.hpp"

#include <gtest/gtest.h>

using namespace m2r;

namespace {

const char* k_valid = R"(
[migration]
name = "sales-to-rds"

[source]
server = "db01"
database = "Sales"
login = "mig"
password_env = "SRC_PW"
backup_dir_server = 'D:\Backups'
backup_dir_local = "/mnt/b"

[s3]
bucket = "my-bucket"
region = "us-east-1"

[target]
rds_instance = "sales-rds"
login = "admin"
password_env = "TGT_PW"

[dms]
replication_instance = "ri"
source_endpoint = "src"
target_endpoint = "tgt"
)";

std::string with_line_replaced(const std::string& text, const std::string& from, const std::string& to) {
  std::string out = text;
  out.replace(out.find(from), from.size(), to);
  return out;
}

}  // namespace

TEST(ConfigTest, ValidConfigGetsDefaults) {
  // Given a minimal config, optional values should take their documented defaults.
  auto c = parse_config(k_valid, "m.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->source.port, 1433);
  EXPECT_EQ(c->target.database, "Sales");
  EXPECT_EQ(c->dms.task_id, "sales-to-rds-cdc");
  EXPECT_EQ(c->dms.table_mappings, "include-all");
  EXPECT_EQ(c->journal, "sales-to-rds.journal");
  EXPECT_EQ(c->source.backup_dir_server, "D:\\Backups");
  // The strong upload verification: CRC32C per part and the composite checked, no Content-MD5.
  EXPECT_EQ(c->upload.verify_object, "checksum");
  EXPECT_FALSE(c->upload.content_md5);
}

TEST(ConfigTest, TemplateParsesAsWritten) {
  // Given the template `init` writes, it should load without edits (its values are examples).
  auto c = parse_config(config_template(), "template.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->name, "sales-to-rds");
  // It writes out the upload verification defaults, so they match what an absent key gives.
  const UploadConfig defaults;
  EXPECT_EQ(c->upload.verify_object, defaults.verify_object);
  EXPECT_EQ(c->upload.content_md5, defaults.content_md5);
  EXPECT_NE(config_template().find("content_md5 = false"), std::string::npos);
  EXPECT_NE(config_template().find("verify_object = \"checksum\""), std::string::npos);
}

TEST(ConfigTest, MisspeltKeyIsRefusedWithLineAndSuggestion) {
  // Given 'pasword_env' on line 9, we should name the file, the line, the key and suggest the right one.
  auto c = parse_config(with_line_replaced(k_valid, "password_env = \"SRC_PW\"", "pasword_env = \"SRC_PW\""), "m.toml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::invalid_input);
  EXPECT_NE(c.error().message.find("m.toml:9:"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("[source] pasword_env"), std::string::npos);
  EXPECT_NE(c.error().message.find("did you mean 'password_env'"), std::string::npos);
  EXPECT_NE(c.error().hint.find("password_env = "), std::string::npos);
}

TEST(ConfigTest, UnknownSectionIsRefused) {
  auto c = parse_config(std::string(k_valid) + "\n[s4]\nbucket = \"x\"\n", "m.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("[s4]"), std::string::npos);
  EXPECT_NE(c.error().message.find("did you mean [s3]"), std::string::npos);
}

TEST(ConfigTest, PasswordInFileIsRefusedAndNotEchoed) {
  // Given a literal password, we should refuse it and never repeat the secret.
  auto c = parse_config(with_line_replaced(k_valid, "password_env = \"SRC_PW\"", "password = \"Hunter2!secret\""), "m.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("secrets are never read"), std::string::npos);
  EXPECT_EQ(c.error().message.find("Hunter2"), std::string::npos);
  EXPECT_EQ(c.error().hint.find("Hunter2"), std::string::npos);
}

TEST(ConfigTest, MissingRequiredKeyIsNamed) {
  auto c = parse_config(with_line_replaced(k_valid, "bucket = \"my-bucket\"\n", ""), "m.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("[s3] bucket: required key is missing"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().hint.find("bucket = "), std::string::npos);
}

TEST(ConfigTest, WrongTypesAndRangesAreRefusedWithExamples) {
  struct Case { const char* from; const char* to; const char* expect; };
  const Case cases[] = {
      {"server = \"db01\"", "server = \"db01\"\nport = \"1433\"", "[source] port: must be an integer"},
      {"server = \"db01\"", "server = \"db01\"\nport = 70000", "out of range"},
      {"server = \"db01\"", "server = \"db01\"\nbackup_stripes = 11", "out of range"},
      {"bucket = \"my-bucket\"", "bucket = \"My_Bucket\"", "not a valid S3 bucket name"},
      {"region = \"us-east-1\"", "region = \"useast1\"", "not an AWS region name"},
      {"name = \"sales-to-rds\"", "name = \"1sales\"", "[migration] name"},
      {"password_env = \"SRC_PW\"", "password_env = \"SRC PW\"", "not an environment variable name"},
      {"server = \"db01\"", "server = \"\"", "must not be empty"},
  };
  for (const auto& tc : cases) {
    auto c = parse_config(with_line_replaced(k_valid, tc.from, tc.to), "m.toml");
    ASSERT_FALSE(c) << tc.to;
    EXPECT_NE(c.error().message.find(tc.expect), std::string::npos) << c.error().message;
    EXPECT_FALSE(c.error().hint.empty()) << tc.to;
  }
}

TEST(ConfigTest, SyntaxErrorHasPosition) {
  auto c = parse_config("[migration]\nname = \"x\nother = 1\n", "bad.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("bad.toml:2:"), std::string::npos) << c.error().message;
}

TEST(ConfigTest, ValidateSectionSetsTheWalkAndRefusesOutOfRangeValues) {
  // Given [validate] keys, they should be read; a chunk below 100 rows should be refused by name.
  auto c = parse_config(std::string(k_valid) + "\n[validate]\nchunk_rows = 2000\nmax_rows_per_second = 50000\n"
                        "lock_timeout_ms = 0\nmax_differences = 7\n", "m.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->validate.chunk_rows, 2000);
  EXPECT_EQ(c->validate.max_rows_per_second, 50000);
  EXPECT_EQ(c->validate.lock_timeout_ms, 0);
  EXPECT_EQ(c->validate.max_differences, 7);
  EXPECT_EQ(c->validate.chunk_timeout_s, 300);
  auto d = parse_config(std::string(k_valid) + "\n[validate]\nchunk_rows = 10\n", "m.toml");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("[validate] chunk_rows"), std::string::npos) << d.error().message;
}

TEST(ConfigTest, LobMaxSizeKbDefaultsToMeasuredAndIsBoundedByWhatDmsTakes) {
  // Given no [dms] lob_max_size_kb the LOB mode is chosen from the data (0); 1024 is read;
  // 102401 (over DMS's 102400 KB maximum LobMaxSize) is refused naming the key.
  auto c = parse_config(k_valid, "m.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->dms.lob_max_size_kb, 0);
  auto set = parse_config(std::string(k_valid) + "lob_max_size_kb = 1024\n", "m.toml");
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->dms.lob_max_size_kb, 1024);
  auto over = parse_config(std::string(k_valid) + "lob_max_size_kb = 102401\n", "m.toml");
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("[dms] lob_max_size_kb"), std::string::npos) << over.error().message;
}
