#include "sandbox/support/process.hpp"

#include "sys/process.hpp"

namespace sandbox::testing {

std::string find_program(const std::string& name) { return m2r::sys::find_program(name).value_or(""); }

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          const std::vector<std::string>& env, std::chrono::seconds timeout) {
  m2r::sys::SpawnOptions options;
  options.argv = argv;
  options.search_path = m2r::sys::SearchPath::yes;
  options.env = m2r::sys::Environment::inherited();
  for (const auto& entry : env) {
    const auto eq = entry.find('=');
    options.env->set(entry.substr(0, eq), eq == std::string::npos ? "" : entry.substr(eq + 1));
  }
  options.in = m2r::sys::Stream::pipe();
  options.out = m2r::sys::Stream::pipe();
  options.err = m2r::sys::Stream::same_as_stdout();
  ProcessResult result;
  auto ran = m2r::sys::run(options, input, timeout);
  if (!ran) {
    result.exit_code = 127;  // as a shell reports a program it cannot run
    result.output = ran.error().message + "\n";
    return result;
  }
  result.output = std::move(ran->out);
  if (ran->timed_out) result.output += "\n[killed after timeout]\n";
  result.exit_code = ran->status.shell_code();
  return result;
}

}  // namespace sandbox::testing
