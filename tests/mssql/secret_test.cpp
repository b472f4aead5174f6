#include "mssql/secret.hpp"

#include <gtest/gtest.h>

#include <map>

namespace m2r::mssql {
namespace {

struct FakeSources {
  std::map<std::string, std::string> env;
  bool terminal = false;
  std::optional<std::string> typed;
  std::vector<std::string> prompts;

  PasswordSources sources() {
    PasswordSources s;
    s.getenv = [this](const std::string& n) -> std::optional<std::string> {
      auto it = env.find(n);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    s.is_terminal = [this] { return terminal; };
    s.prompt = [this](const std::string& p) {
      prompts.push_back(p);
      return typed;
    };
    return s;
  }
};

TEST(ResolvePasswordTest, EnvironmentVariableWins) {
  // Given the variable set, should use it without prompting even on a terminal.
  FakeSources f;
  f.env["SRC_PW"] = "from-env";
  f.terminal = true;
  f.typed = "typed";
  const auto pw = resolve_password("SRC_PW", "sa on h:1433", f.sources());
  ASSERT_TRUE(pw);
  EXPECT_EQ(pw->reveal(), "from-env");
  EXPECT_TRUE(f.prompts.empty());
}

TEST(ResolvePasswordTest, PromptsOnATerminalWhenTheVariableIsUnset) {
  // Given no variable and a terminal, should prompt, naming who the password is for.
  FakeSources f;
  f.terminal = true;
  f.typed = "typed";
  const auto pw = resolve_password("SRC_PW", "sa on h:1433", f.sources());
  ASSERT_TRUE(pw);
  EXPECT_EQ(pw->reveal(), "typed");
  ASSERT_EQ(f.prompts.size(), 1u);
  EXPECT_EQ(f.prompts[0], "Password for sa on h:1433: ");
}

TEST(ResolvePasswordTest, NoVariableAndNoTerminalIsAnAuthErrorNamingTheVariable) {
  // Given neither, should fail with auth and tell which variable to export.
  FakeSources f;
  f.env["SRC_PW"] = "";  // set but empty counts as unset
  const auto pw = resolve_password("SRC_PW", "sa on h:1433", f.sources());
  ASSERT_FALSE(pw);
  EXPECT_EQ(pw.error().kind, ErrorKind::auth);
  EXPECT_NE(pw.error().message.find("SRC_PW"), std::string::npos);
  EXPECT_NE(pw.error().hint.find("export SRC_PW"), std::string::npos);
}

TEST(ResolvePasswordTest, EndOfInputAtThePromptIsAnAuthError) {
  // Given a terminal that closes (Ctrl-D), should fail with auth rather than use an empty password.
  FakeSources f;
  f.terminal = true;
  const auto pw = resolve_password("", "sa on h:1433", f.sources());
  ASSERT_FALSE(pw);
  EXPECT_EQ(pw.error().kind, ErrorKind::auth);
}

}  // namespace
}  // namespace m2r::mssql
