#pragma once
// For the end-to-end tests of the CLI: run the real executables in a shell, and a fixture
// owning a temporary directory for a rehearsal world that it always stops.
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "mssql/sql_session.hpp"

namespace m2r::testing {

struct ShellOutput {
  int exit_code = -1;
  std::string text;  // stdout and stderr
};

ShellOutput run_shell(const std::string& command);
std::string last_line(const std::string& text);
std::string read_text(const std::string& path);
// The first column of the first row of `sql` as an integer (a COUNT_BIG), -1 when it fails.
std::int64_t count_rows(mssql::SqlSession& db, const std::string& sql);
// `/usr/bin/aws <args> --output json` with `world`'s environment: its answer, {} for an empty one
// (list-multipart-uploads with none open), {"unparsed": text} for anything else.
nlohmann::json aws_json(const std::string& world, const std::string& args);
// The line of `check`'s output for the item titled `title`, with its fix line when it has one.
std::string check_line(const std::string& text, const std::string& title);
// Running (a zombie waiting for its parent to reap it has stopped running).
bool process_running(int pid);

class CliWorldTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;  // stops the world in world_dir(), removes the directory

  static std::string mssql2rds();  // the built executable
  static std::string sandbox();
  std::string world_dir() const { return m_dir + "/world"; }
  std::string config() const { return world_dir() + "/mssql2rds.toml"; }
  // `demo --setup-only`: the world, the config and the sample database. `env` is prefixed
  // (e.g. "M2R_DMS_APPLY_DELAY_MS=2000 ").
  ::testing::AssertionResult set_up_world(const std::string& env = "");
  // A bash command running `mssql2rds <args>` with the world's environment and passwords.
  std::string with_world(const std::string& args) const;
  // The same, started in the background with its output in `log`; its pid (mssql2rds itself)
  // is written to `pid_file`.
  std::string with_world_in_background(const std::string& args, const std::string& log,
                                       const std::string& pid_file) const;
  std::string sa_password() const;
  int source_port() const;
  // A session to the sample database on the source, as sa.
  Expected<std::unique_ptr<mssql::SqlSession>> source_session() const;
  // A session to `database` on the RDS instance, as its master user.
  Expected<std::unique_ptr<mssql::SqlSession>> target_session(const std::string& database) const;
  // The config's upload sends one 5 MiB part at a time, of an uncompressed backup: with
  // add_incompressible_attachments, an upload long enough to interrupt in its middle.
  void upload_one_part_at_a_time() const;
  // A new table dbo.Attachments with `rows` rows of 256 KiB of random text (it does not compress).
  ::testing::AssertionResult add_incompressible_attachments(mssql::SqlSession& source, int rows,
                                                            std::uint64_t seed) const;

  std::string m_dir;
};

}  // namespace m2r::testing
