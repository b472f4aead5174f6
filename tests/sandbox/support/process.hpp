#pragma once
// Runs an external client (tsql, bsqldb, isql, node) for the conformance tests.
#include <chrono>
#include <string>
#include <vector>

namespace sandbox::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv with `input` on stdin and extra environment variables ("K=V"),
// killed after `timeout`. argv[0] is looked up on PATH.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          const std::vector<std::string>& env = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// Where a program is on PATH, or "" when it is not installed.
std::string find_program(const std::string& name);

}  // namespace sandbox::testing
