#include "core/error.hpp"

namespace m2r {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_input: return "invalid input";
    case ErrorKind::prerequisite: return "prerequisite missing";
    case ErrorKind::retryable: return "transient failure";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::auth: return "authentication";
    case ErrorKind::not_found: return "not found";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::integrity: return "integrity";
    case ErrorKind::journal_damaged: return "journal damaged";
    case ErrorKind::config_changed: return "configuration changed";
    case ErrorKind::interrupted: return "interrupted";
    case ErrorKind::tls: return "TLS";
    case ErrorKind::refused: return "refused";
    case ErrorKind::fatal: return "error";
  }
  return "error";
}

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_input: return 2;
    case ErrorKind::prerequisite: return 3;
    case ErrorKind::auth: return 4;
    case ErrorKind::not_found: return 5;
    case ErrorKind::conflict: return 6;
    case ErrorKind::integrity: return 7;
    case ErrorKind::timeout: return 8;
    case ErrorKind::retryable: return 9;
    case ErrorKind::fatal: return 10;
    case ErrorKind::journal_damaged: return 11;
    case ErrorKind::config_changed: return 12;
    case ErrorKind::tls: return 13;
    case ErrorKind::refused: return 14;
    // 128 + SIGINT: what a shell reports for a command Ctrl-C ended, so scripts that test
    // for it keep working; the same after SIGTERM (the stop is the same clean one).
    case ErrorKind::interrupted: return 130;
  }
  return 10;
}

}  // namespace m2r
