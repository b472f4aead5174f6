#pragma once
// A password held in memory only: it cannot be formatted or streamed, so it cannot end up in
// a log line or an error by accident; reveal() is called in exactly one place (the ODBC
// connection string handed to the driver).
#include <functional>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace m2r::mssql {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : m_value(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&&) noexcept = default;
  Secret& operator=(Secret&&) noexcept = default;
  ~Secret();  // overwrites the characters before freeing them

  bool empty() const { return m_value.empty(); }
  const std::string& reveal() const { return m_value; }

 private:
  std::string m_value;
};

// Where a password comes from, behind functions so that tests need no environment or TTY.
struct PasswordSources {
  std::function<std::optional<std::string>(const std::string& name)> getenv;
  std::function<bool()> is_terminal;                                   // stdin is a TTY
  std::function<std::optional<std::string>(const std::string& prompt)> prompt;  // reads without echo
};
// The process's environment and terminal.
PasswordSources system_password_sources();

// The password for `login`: from the environment variable named `password_env` when it is
// set, otherwise from a prompt when stdin is a terminal, otherwise an auth error naming the
// variable to set. `who` ("sa on db.example.com:1433") appears in the prompt.
Expected<Secret> resolve_password(const std::string& password_env, const std::string& who,
                                  const PasswordSources& sources);

}  // namespace m2r::mssql
