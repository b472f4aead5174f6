#pragma once
// The product's one error type. Every I/O boundary returns tl::expected<T, Error>;
// the CLI maps Error::kind to a documented exit code (README "Exit codes").
#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace m2r {

enum class ErrorKind {
  invalid_input,  // the user's input (arguments, config, LSN text) is wrong; nothing was changed
  prerequisite,   // the environment is not ready (recovery model, option group, ...); fix and re-run
  retryable,      // a transient fault (throttling, 5xx, connection reset); safe to retry
  timeout,        // an operation did not finish in time
  auth,           // credentials missing, wrong or expired
  not_found,      // a named resource does not exist
  conflict,       // the journal is locked by another process, a resource already exists, ...
  integrity,      // checksums or row counts disagree
  journal_damaged,  // the journal holds something this version did not write (a hand edit, a damaged file)
  config_changed,  // a resume found configuration values that done steps depended on changed; redo or revert
  interrupted,    // stopped at a safe point because the user asked (SIGINT / SIGTERM); re-run to continue
  tls,            // the server's certificate failed verification, or one side refused encryption
  refused,        // SQL Server or AWS refused the request with an error this version has no fix of its own for
                  // (the message quotes it); the user's or the server's to fix, not a bug
  fatal,          // anything else: a bug or an unexpected answer
};

struct Error {
  ErrorKind kind = ErrorKind::fatal;
  std::string message;  // names the problem
  std::string hint;     // names the fix (may be empty)

  Error() = default;
  Error(ErrorKind k, std::string msg, std::string fix = {})
      : kind(k), message(std::move(msg)), hint(std::move(fix)) {}
};

template <typename T>
using Expected = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message, std::string hint = {}) {
  return tl::unexpected<Error>(Error(kind, std::move(message), std::move(hint)));
}

const char* to_string(ErrorKind kind);

namespace detail {
template <typename T>
T unwrap(tl::expected<T, Error>&& e) { return std::move(*e); }
inline void unwrap(tl::expected<void, Error>&&) {}
}  // namespace detail

// Exit codes, documented in README.md. 0 success, 1 reserved for "check found failures".
int exit_code_for(ErrorKind kind);

}  // namespace m2r

// Propagate an error from an Expected expression; evaluates to its value otherwise.
// (A GNU statement expression, as ccache's TRY; __extension__ keeps -Wpedantic quiet, and
// __COUNTER__ gives nested uses distinct names.)
#define M2R_CONCAT_INNER(a, b) a##b
#define M2R_CONCAT(a, b) M2R_CONCAT_INNER(a, b)
#define M2R_TRY(expr) M2R_TRY_NAMED(expr, M2R_CONCAT(m2r_try_result_, __COUNTER__))
#define M2R_TRY_NAMED(expr, name)                                      \
  __extension__({                                                      \
    auto name = (expr);                                                \
    if (!name) return tl::unexpected(std::move(name.error()));         \
    ::m2r::detail::unwrap(std::move(name));                            \
  })
