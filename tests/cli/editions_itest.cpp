// Editions and SQL Server Agent end to end (docs/facts.md §13): a world whose source runs with
// SQL Server Agent stopped makes `check` fail source.agent with "start SQL Server Agent" (the
// sample has a table without a primary key, which needs MS-CDC), its edition and version
// passing; `world up` refuses an unknown edition or Express with Agent running, exit 2, nothing
// created.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "cli/support/cli_world.hpp"

namespace m2r::testing {
namespace {

using EditionsTest = CliWorldTest;


TEST_F(EditionsTest, CheckFailsWhenSqlServerAgentIsStoppedAndATableNeedsMsCdc) {
  ASSERT_TRUE(set_up_world("MSSQL2RDS_SANDBOX_SOURCE_AGENT=stopped "));
  const auto out = run_shell(with_world("check --no-test-connection -c " + config()));
  EXPECT_EQ(out.exit_code, 1) << out.text;
  const auto agent = check_line(out.text, "SQL Server Agent runs");
  EXPECT_EQ(agent.rfind("FAIL", 0), 0u) << out.text;
  EXPECT_NE(agent.find("SQL Server Agent is Stopped"), std::string::npos) << agent;
  EXPECT_NE(agent.find("start SQL Server Agent"), std::string::npos) << agent;
  EXPECT_EQ(check_line(out.text, "the source edition can publish").rfind("PASS", 0), 0u) << out.text;
  EXPECT_EQ(check_line(out.text, "the source version is one").rfind("PASS", 0), 0u) << out.text;
}

TEST_F(EditionsTest, WorldUpRefusesAnUnknownEditionAndExpressWithAgentBeforeStartingAnything) {
  for (const std::string& args : {std::string("--source-edition enterprize"),
                                  std::string("--source-edition express --source-agent running"),
                                  std::string("--source-version 2014")}) {
    const std::string dir = m_dir + "/refused";
    const auto out = run_shell(sandbox() + " world up --dir " + dir + " " + args + " 2>&1");
    EXPECT_EQ(out.exit_code, 2) << args << ": " << out.text;
    EXPECT_NE(out.text.find("hint: "), std::string::npos) << out.text;
    EXPECT_FALSE(std::filesystem::exists(dir)) << args << ": nothing should be created";
  }
  const auto unknown = run_shell(sandbox() + " world up --dir " + m_dir + "/x --source-edition enterprize 2>&1");
  EXPECT_NE(unknown.text.find("unknown source edition 'enterprize'"), std::string::npos) << unknown.text;
  EXPECT_NE(unknown.text.find("--source-edition express, web, standard, enterprise or developer"), std::string::npos);
  const auto express = run_shell(sandbox() + " world up --dir " + m_dir + "/y --source-edition express --source-agent running 2>&1");
  EXPECT_NE(express.text.find("Express has no Agent"), std::string::npos) << express.text;
}

}  // namespace
}  // namespace m2r::testing
