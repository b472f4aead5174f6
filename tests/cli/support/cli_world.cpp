#include "cli/support/cli_world.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mssql/odbc_session.hpp"
#include "sys/process.hpp"

namespace m2r::testing {

ShellOutput run_shell(const std::string& command) {
  ShellOutput out;
  sys::SpawnOptions shell;
  shell.argv = {"/bin/sh", "-c", command};
  shell.out = sys::Stream::pipe();
  shell.err = sys::Stream::same_as_stdout();
  auto ran = sys::run(shell);
  if (!ran) {
    out.text = ran.error().message;
    return out;
  }
  out.text = std::move(ran->out);
  out.exit_code = ran->status.shell_code();
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

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::int64_t count_rows(mssql::SqlSession& db, const std::string& sql) {
  auto r = db.query(sql);
  if (!r || r->rows().empty()) return -1;
  return r->rows().front().at(0).as_int64().value_or(-1);
}

bool process_running(int pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  const auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z' && stat[paren + 2] != 'X';
}

void CliWorldTest::SetUp() {
  char tmpl[] = "/tmp/m2r-cli-itest-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  m_dir = tmpl;
}

void CliWorldTest::TearDown() {
  // A failed test must not leave the world running.
  if (std::filesystem::exists(world_dir() + "/world.json")) (void)run_shell(sandbox() + " world down --dir " + world_dir());
  std::error_code ec;
  std::filesystem::remove_all(m_dir, ec);
}

std::string CliWorldTest::mssql2rds() { return std::string(MSSQL2RDS_BINARY_DIR) + "/src/mssql2rds"; }
std::string CliWorldTest::sandbox() { return std::string(MSSQL2RDS_BINARY_DIR) + "/sandbox/mssql2rds-sandbox"; }

::testing::AssertionResult CliWorldTest::set_up_world(const std::string& env) {
  const auto out = run_shell(env + mssql2rds() + " --json demo --setup-only --size-mib 1 --customers 30 --dir " + world_dir());
  if (out.exit_code != 0) return ::testing::AssertionFailure() << "demo --setup-only failed:\n" << out.text;
  return ::testing::AssertionSuccess();
}

nlohmann::json aws_json(const std::string& world, const std::string& args) {
  const auto out = run_shell("bash -c '. " + world + "/env && /usr/bin/aws " + args + " --output json'");
  if (out.exit_code == 0 && out.text.find_first_not_of(" \n") == std::string::npos) return nlohmann::json::object();
  auto j = nlohmann::json::parse(out.text, nullptr, false);
  return j.is_discarded() ? nlohmann::json{{"unparsed", out.text}} : j;
}

std::string check_line(const std::string& text, const std::string& title) {
  const auto at = text.find(title);
  if (at == std::string::npos) return {};
  const auto line_start = text.rfind('\n', at) + 1;
  auto end = text.find('\n', at);
  if (end != std::string::npos && text.compare(end + 1, 11, "      fix: ") == 0) end = text.find('\n', end + 1);
  return text.substr(line_start, end == std::string::npos ? std::string::npos : end - line_start);
}

std::string CliWorldTest::with_world(const std::string& args) const {
  const std::string secret = world_dir() + "/secrets/sa_password";
  return "bash -c '. " + world_dir() + "/env && export MSSQL2RDS_SOURCE_PASSWORD=\"$(cat " + secret +
         ")\" MSSQL2RDS_TARGET_PASSWORD=\"$(cat " + secret + ")\" && " + mssql2rds() + " " + args + "'";
}

std::string CliWorldTest::with_world_in_background(const std::string& args, const std::string& log,
                                                   const std::string& pid_file) const {
  const std::string secret = world_dir() + "/secrets/sa_password";
  // The whole background subshell writes to the log (not to run_shell's pipe, which would make
  // run_shell wait for it), and ends by exec'ing mssql2rds, so $! is mssql2rds's own pid.
  return "bash -c '(. " + world_dir() + "/env && export MSSQL2RDS_SOURCE_PASSWORD=\"$(cat " + secret +
         ")\" MSSQL2RDS_TARGET_PASSWORD=\"$(cat " + secret + ")\" && exec " + mssql2rds() + " " + args + ") > " + log +
         " 2>&1 < /dev/null & echo $! > " + pid_file + "'";
}

std::string CliWorldTest::sa_password() const {
  std::string p = read_text(world_dir() + "/secrets/sa_password");
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  return p;
}

int CliWorldTest::source_port() const {
  const auto w = nlohmann::json::parse(read_text(world_dir() + "/world.json"), nullptr, false);
  return w.is_discarded() ? 0 : w["source"].value("port", 0);
}

Expected<std::unique_ptr<mssql::SqlSession>> CliWorldTest::source_session() const {
  mssql::ConnectionSettings settings;
  settings.server = "127.0.0.1";
  settings.port = static_cast<std::uint16_t>(source_port());
  settings.database = "sales";
  settings.login = "sa";
  settings.ca_file = world_dir() + "/tls/ca.pem";  // encrypted and verified, as the product connects
  auto session = M2R_TRY(mssql::OdbcSession::connect(settings, mssql::Secret(sa_password())));
  return std::unique_ptr<mssql::SqlSession>(std::move(session));
}

Expected<std::unique_ptr<mssql::SqlSession>> CliWorldTest::target_session(const std::string& database) const {
  const auto w = nlohmann::json::parse(read_text(world_dir() + "/world.json"), nullptr, false);
  mssql::ConnectionSettings settings;
  settings.server = "127.0.0.1";
  settings.port = static_cast<std::uint16_t>(w.is_discarded() ? 0 : w["target"].value("port", 0));
  settings.database = database;
  settings.login = "sa";
  settings.ca_file = world_dir() + "/tls/ca.pem";  // the RDS instance has rds.force_ssl = 1
  auto session = M2R_TRY(mssql::OdbcSession::connect(settings, mssql::Secret(sa_password())));
  return std::unique_ptr<mssql::SqlSession>(std::move(session));
}

void CliWorldTest::upload_one_part_at_a_time() const {
  std::string text = read_text(config());
  text.replace(text.find("connections = 4\n"), 16, "connections = 1\npart_size_mib = 5\n");
  text.insert(text.find("backup_dir_server"), "compression = false\n");
  std::ofstream(config()) << text;
}

::testing::AssertionResult CliWorldTest::add_incompressible_attachments(mssql::SqlSession& source, int rows,
                                                                        std::uint64_t seed) const {
  if (auto created = source.execute("CREATE TABLE dbo.Attachments (Id int NOT NULL PRIMARY KEY, Body varchar(max) NOT NULL)");
      !created) {
    return ::testing::AssertionFailure() << created.error().message;
  }
  std::mt19937_64 random(seed);
  for (int row = 0; row < rows; ++row) {
    std::string body(256 * 1024, ' ');
    for (auto& c : body) c = static_cast<char>('!' + random() % 90);
    auto done = source.execute("INSERT INTO dbo.Attachments (Id, Body) VALUES (?, ?)",
                               {mssql::SqlParam::int32(row), mssql::SqlParam::varchar(body)});
    if (!done) return ::testing::AssertionFailure() << done.error().message;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace m2r::testing
