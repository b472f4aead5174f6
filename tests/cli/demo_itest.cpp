// The demo end to end: the real executables (mssql2rds, mssql2rds-sandbox), the whole rehearsal
// world (moto with IAM auth, the sandbox's SQL Server and RDS instances, its DMS), a live
// workload, and one transaction held open across the end of the backup (docs/facts.md §2).
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/support/cli_world.hpp"
#include "mssql/odbc_session.hpp"

namespace m2r::testing {
namespace {

using DemoTest = CliWorldTest;

TEST_F(DemoTest, MigratesUnderALiveWorkloadWithNothingLostOrDuplicated) {
  // Given the rehearsal world, the sample database at its default size (LOB values from NULL and
  // empty up to 3 MiB, xml, a rowversion, a computed column, money, datetimeoffset, a heap with a
  // unique index, a composite key, a second schema) and an application writing 20
  // transactions a second that rewrites LOB values of up to 3 MiB during CDC, with one
  // transaction open across the end of the backup, `mssql2rds demo` should migrate, cut over
  // and find every table equal by the row-hash validation, the long transaction's row on the
  // target exactly once, every schema object present and enabled, every row of every table
  // equal on both sides, and `world down` should then leave no process behind.
  const auto out = run_shell(mssql2rds() + " --json demo --keep-world --dir " + world_dir() +
                             " --rate 20 --replicate-seconds 6 --customers 50");
  ASSERT_EQ(out.exit_code, 0) << out.text;
  const auto summary = nlohmann::json::parse(last_line(out.text), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << out.text;
  EXPECT_TRUE(summary.value("ok", false)) << summary.dump();
  EXPECT_EQ(summary.value("mismatches", -1), 0);
  // The sample's 6 tables and the cutover marker's (check --fix made it; validated like the rest).
  EXPECT_EQ(summary.value("tables_matching", 0), 7);
  EXPECT_EQ(summary.value("long_transaction_rows_on_target", -1), 1);
  EXPECT_TRUE(summary.value("app_login_rows_equal", false)) << "the application's login on RDS after `logins`";
  // Beyond rows: 6 tables and the marker's, 3 foreign keys, the trigger, the view, the function,
  // the procedure, present on the target with the trigger enabled and the foreign keys trusted again.
  EXPECT_TRUE(summary.value("schema_ok", false)) << summary.value("schema", std::string());
  EXPECT_EQ(summary.value("schema_objects", 0), 14);
  EXPECT_GT(summary.value("workload_transactions", 0), 20) << "the workload did not run during the migration";
  EXPECT_GT(summary.value("workload_lob_updates", 0), 0) << "no LOB value was rewritten during the migration";
  // The report a DBA attaches to the change ticket, written as a user's cutover writes it.
  EXPECT_TRUE(std::filesystem::exists(summary.value("report_html", std::string()))) << summary.dump();
  EXPECT_TRUE(std::filesystem::exists(summary.value("report_json", std::string()))) << summary.dump();
  // The validation said which column it did not compare, and why (its report names it).
  const std::string report = read_text(summary.value("report_json", std::string()));
  EXPECT_NE(report.find("RowVer (rowversion: the target generates its own values)"), std::string::npos) << report.substr(0, 4000);
  // The start point had to reach back for the open transaction, and said so.
  EXPECT_NE(out.text.find("were open at the end of the backup"), std::string::npos) << out.text;
  // The product ran as the least-privilege source login docs/facts.md §3 lists and as RDS's
  // master user, neither sysadmin; the DMS source endpoint reads the log as that login too.
  const std::string toml = read_text(world_dir() + "/mssql2rds.toml");
  EXPECT_NE(toml.find("login = \"m2r_migrator\""), std::string::npos) << toml;
  EXPECT_NE(toml.find("login = \"admin\""), std::string::npos) << toml;
  // ... and the target endpoint writes as the master user (RDS has no sa).
  const auto dms_state = nlohmann::json::parse(read_text(world_dir() + "/dms-state.json"), nullptr, false);
  std::string source_user, target_user;
  for (const auto& e : dms_state.value("endpoints", nlohmann::json::array())) {
    (e.value("EndpointType", "") == "SOURCE" ? source_user : target_user) = e.value("Username", "");
  }
  EXPECT_EQ(source_user, "m2r_migrator") << dms_state.dump().substr(0, 2000);
  EXPECT_EQ(target_user, "admin") << dms_state.dump().substr(0, 2000);

  // Row by row, not only counts and checksums: every row of every table, in key order.
  const auto description = nlohmann::json::parse(read_text(world_dir() + "/world.json"), nullptr, false);
  auto connect = [&](const char* which) {
    mssql::ConnectionSettings settings;
    settings.server = "127.0.0.1";
    settings.port = static_cast<std::uint16_t>(description[which].value("port", 0));
    settings.database = "sales";
    settings.login = "sa";
    settings.ca_file = world_dir() + "/tls/ca.pem";
    return mssql::OdbcSession::connect(settings, mssql::Secret(sa_password()));
  };
  auto source = connect("source");
  auto target = connect("target");
  ASSERT_TRUE(source) << source.error().message;
  ASSERT_TRUE(target) << target.error().message;
  const std::pair<const char*, const char*> tables[] = {
      {"dbo.Customers", "SELECT * FROM dbo.Customers ORDER BY 1"},
      {"dbo.Orders", "SELECT * FROM dbo.Orders ORDER BY 1"},
      {"dbo.OrderLines", "SELECT * FROM dbo.OrderLines ORDER BY OrderId, LineNumber"},
      {"dbo.OrderEvents", "SELECT * FROM dbo.OrderEvents ORDER BY 1"},
      {"inventory.Products", "SELECT * FROM inventory.Products ORDER BY ProductId"},
      {"inventory.PriceHistory", "SELECT * FROM inventory.PriceHistory ORDER BY ProductId, ChangedAt"},
  };
  // Rowversion columns are left out, as the product's validation leaves them out: DMS does not
  // carry their values and the target generates its own (docs/facts.md §12).
  std::set<std::string> rowversion_columns;
  {
    auto rv = (*source)->query("SELECT c.name FROM sys.columns AS c JOIN sys.types AS ty ON ty.user_type_id = c.system_type_id"
                               " WHERE ty.name = 'timestamp'");
    ASSERT_TRUE(rv) << rv.error().message;
    for (const auto& row : rv->rows()) rowversion_columns.insert(row[0].to_text());
  }
  EXPECT_EQ(rowversion_columns, std::set<std::string>{"RowVer"});
  for (const auto& [table, sql] : tables) {
    auto a = (*source)->query(sql);
    auto b = (*target)->query(sql);
    ASSERT_TRUE(a && b) << table;
    ASSERT_EQ(a->rows().size(), b->rows().size()) << table;
    if (std::string(table) != "inventory.PriceHistory") {
      ASSERT_FALSE(a->rows().empty()) << table;
    }
    for (std::size_t r = 0; r < a->rows().size(); ++r) {
      const auto& x = a->rows()[r];
      const auto& y = b->rows()[r];
      ASSERT_EQ(x.size(), y.size()) << table;
      for (std::size_t c = 0; c < x.size(); ++c) {
        if (rowversion_columns.count(a->first().columns.at(c).name)) continue;
        ASSERT_EQ(x[c].to_text(), y[c].to_text()) << table << " row " << r << " column " << a->first().columns.at(c).name;
      }
    }
  }

  // LOB values far over DMS's default LobMaxSize (32 KB, which would truncate them) were written
  // during CDC; the largest of each column on the target is the source's (equal byte for byte
  // above; later rewrites may have shrunk the 3 MiB ones).
  // The workload's first LOB rewrite writes the sample's largest, 3 MiB at the default size.
  EXPECT_GE(summary.value("workload_largest_lob_bytes", 0), 3 << 20) << summary.dump();
  for (const char* column : {"Description", "Photo"}) {
    const std::string sql = std::string("SELECT MAX(DATALENGTH(") + column + ")) FROM inventory.Products";
    EXPECT_EQ(count_rows(**target, sql), count_rows(**source, sql)) << column;
    EXPECT_GT(count_rows(**target, sql), 32 * 1024) << column;
  }

  ASSERT_EQ(run_shell(sandbox() + " world down --dir " + world_dir()).exit_code, 0);
  ASSERT_TRUE(description.contains("pids")) << description.dump();
  for (const auto& [name, pid] : description["pids"].items()) {
    EXPECT_FALSE(process_running(pid.get<int>())) << name << " (pid " << pid << ") is still running";
  }
}

TEST_F(DemoTest, InterruptingTheDemoStopsTheWorld) {
  // Given the demo interrupted with SIGINT in the middle of the migration, it should stop the
  // rehearsal world, end, and leave no process of the world behind.
  const std::string log = m_dir + "/demo.log";
  const std::string pid_file = m_dir + "/demo.pid";
  ASSERT_EQ(run_shell("bash -c '(exec " + mssql2rds() + " demo --dir " + world_dir() + ") > " + log +
                      " 2>&1 < /dev/null & echo $! > " + pid_file + "'").exit_code,
            0);
  pid_t pid = 0;
  for (int i = 0; i < 300 && pid <= 0; ++i) {
    pid = static_cast<pid_t>(std::atoi(read_text(pid_file).c_str()));
    if (pid <= 0) ::usleep(20'000);
  }
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 6000 && read_text(log).find("==> backup") == std::string::npos; ++i) ::usleep(10'000);
  ASSERT_NE(read_text(log).find("==> backup"), std::string::npos) << read_text(log);
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  for (int i = 0; i < 3000 && process_running(pid); ++i) ::usleep(10'000);
  EXPECT_FALSE(process_running(pid)) << "the demo did not end after SIGINT";
  EXPECT_NE(read_text(log).find("interrupted (signal 2): stopping the rehearsal world"), std::string::npos)
      << read_text(log);
  EXPECT_NE(read_text(world_dir() + "/world.log").find("no process left"), std::string::npos);
  const auto description = nlohmann::json::parse(read_text(world_dir() + "/world.json"), nullptr, false);
  ASSERT_TRUE(description.contains("pids"));
  for (const auto& [name, p] : description["pids"].items()) {
    EXPECT_FALSE(process_running(p.get<int>())) << name << " (pid " << p << ") is still running";
  }
}

TEST_F(DemoTest, AMissingSandboxIsAClearErrorThatChangesNothing) {
  // Given --sandbox naming no executable, demo should exit 2 with a message naming the path and
  // the fix, and create nothing.
  const auto out = run_shell(mssql2rds() + " demo --dir " + world_dir() + " --sandbox /nonexistent/mssql2rds-sandbox");
  EXPECT_EQ(out.exit_code, 2) << out.text;
  EXPECT_NE(out.text.find("/nonexistent/mssql2rds-sandbox"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("fix:"), std::string::npos) << out.text;
  EXPECT_FALSE(std::filesystem::exists(world_dir()));
}

}  // namespace
}  // namespace m2r::testing
