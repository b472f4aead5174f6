#include "mssql/secret.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

namespace m2r::mssql {

Secret::~Secret() {
  // volatile: the compiler may not drop stores to memory about to be freed.
  volatile char* p = m_value.data();
  for (std::size_t i = 0; i < m_value.size(); ++i) p[i] = '\0';
}

namespace {

std::optional<std::string> prompt_without_echo(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios old_attrs{};
  const bool have_tty = tcgetattr(STDIN_FILENO, &old_attrs) == 0;
  if (have_tty) {
    termios quiet = old_attrs;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  if (have_tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_attrs);
  std::cerr << "\n";
  if (!ok) return std::nullopt;
  return line;
}

}  // namespace

PasswordSources system_password_sources() {
  PasswordSources s;
  s.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  s.is_terminal = [] { return isatty(STDIN_FILENO) == 1; };
  s.prompt = prompt_without_echo;
  return s;
}

Expected<Secret> resolve_password(const std::string& password_env, const std::string& who,
                                  const PasswordSources& sources) {
  if (!password_env.empty() && sources.getenv) {
    if (auto value = sources.getenv(password_env); value && !value->empty()) return Secret(std::move(*value));
  }
  if (sources.is_terminal && sources.is_terminal() && sources.prompt) {
    auto typed = sources.prompt(fmt::format("Password for {}: ", who));
    if (typed) return Secret(std::move(*typed));
    return fail(ErrorKind::auth, fmt::format("no password was typed for {}", who),
                password_env.empty() ? "type the password at the prompt"
                                     : fmt::format("type the password, or export {}", password_env));
  }
  if (password_env.empty()) {
    return fail(ErrorKind::auth, fmt::format("no password for {}: password_env is not set in the config", who),
                "set password_env to the name of an environment variable holding the password, or run on a terminal "
                "to be prompted");
  }
  return fail(ErrorKind::auth,
              fmt::format("no password for {}: the environment variable {} is not set", who, password_env),
              fmt::format("export {}=... before running, or run on a terminal to be prompted", password_env));
}

}  // namespace m2r::mssql
