#pragma once
// Child processes, started in one place: credential_process (src/aws), the rehearsal world
// run by the demo (src/demo), the world's daemons (sandbox/world) and the programs the tests
// run. A child gets exactly the argv and environment it is given (no shell, nothing inherited
// that a caller removed), stdin from /dev/null unless asked otherwise, an empty signal mask
// and SIGPIPE/SIGXFSZ at their defaults (whatever this process blocks or ignores, e.g. the
// demo's SIGINT/SIGTERM guard), and, when asked, a process group or session of its own so
// that it and its children are signalled as one.
//
// Started with posix_spawn (glibc's is vfork-like: no copy of a large address space, and the
// exec's failure comes back as an errno). Only a parent-death signal needs fork(); then the
// child makes only async-signal-safe calls before execve (every string is built before).
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace m2r::sys {

// The environment a child gets: "NAME=value" entries, a name at most once.
class Environment {
 public:
  static Environment inherited();  // this process's environment as it is now
  static Environment empty() { return Environment(); }

  Environment& set(std::string_view name, std::string_view value);  // replaces an entry of that name
  Environment& unset(std::string_view name);
  Environment& unset_if(const std::function<bool(std::string_view name)>& drop);  // e.g. every *_PASSWORD
  std::optional<std::string> get(std::string_view name) const;
  const std::vector<std::string>& entries() const { return m_entries; }

 private:
  std::vector<std::string> m_entries;
};

enum class FileMode { truncate, append };

// Where one of the child's standard streams goes.
class Stream {
 public:
  enum class Kind { inherit, null, pipe, file, same_as_stdout };

  static Stream inherit() { return Stream(Kind::inherit); }  // this process's own
  static Stream null() { return Stream(Kind::null); }        // /dev/null
  static Stream pipe() { return Stream(Kind::pipe); }        // Process::stdin_fd / stdout_fd / stderr_fd
  // stdout or stderr into a file, opened by this process (so an error names the file).
  static Stream file(std::string path, FileMode mode = FileMode::truncate, mode_t permissions = 0644) {
    Stream s(Kind::file);
    s.m_path = std::move(path);
    s.m_mode = mode;
    s.m_permissions = permissions;
    return s;
  }
  static Stream same_as_stdout() { return Stream(Kind::same_as_stdout); }  // stderr only: interleaved with stdout

  Kind kind() const { return m_kind; }
  const std::string& path() const { return m_path; }
  FileMode mode() const { return m_mode; }
  mode_t permissions() const { return m_permissions; }

 private:
  explicit Stream(Kind kind) : m_kind(kind) {}
  Kind m_kind;
  std::string m_path;
  FileMode m_mode = FileMode::truncate;
  mode_t m_permissions = 0644;
};

enum class SearchPath { no, yes };  // yes: a program name without '/' is looked up on this process's PATH

enum class Group {
  inherit,      // this process's group: a terminal's Ctrl-C reaches the child too
  own,          // a process group of its own (pgid = pid), signalled as one by Process::signal
  own_session,  // setsid: group and session of its own, no controlling terminal (a daemon)
};

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program
  SearchPath search_path = SearchPath::no;
  std::optional<Environment> env;  // nullopt: this process's environment
  Stream in = Stream::null();      // inherit, null or pipe
  Stream out = Stream::inherit();
  Stream err = Stream::inherit();
  Group group = Group::inherit;
  // Linux: the signal the child gets when the thread that started it ends (PR_SET_PDEATHSIG),
  // so that a crashed test leaves no server behind; 0 for none.
  int parent_death_signal = 0;
};

struct ExitStatus {
  int code = 0;    // the exit code, when it exited
  int signal = 0;  // the signal that ended it, or 0
  bool success() const { return signal == 0 && code == 0; }
  int shell_code() const { return signal != 0 ? 128 + signal : code; }  // as a shell's $?
};

struct Captured {
  ExitStatus status;
  std::string out;  // stdout (and stderr, with Stream::same_as_stdout)
  std::string err;
  bool timed_out = false;  // killed with SIGKILL at the deadline
};

class Process {
 public:
  // Fails with prerequisite when the program cannot be found or executed (the message says
  // which and why), with fatal when the system refuses (pipes, fork).
  static Expected<Process> spawn(const SpawnOptions& options);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // A child still running is killed (SIGKILL, its group when it has its own) and reaped:
  // nothing outlives its owner unless released.
  ~Process();

  pid_t pid() const { return m_pid; }
  // This end of the child's pipes (Stream::pipe), owned by the Process; -1 otherwise.
  int stdin_fd() const { return m_stdin; }
  int stdout_fd() const { return m_stdout; }
  int stderr_fd() const { return m_stderr; }
  void close_stdin();

  // Sends `signal` to the child, or to its whole group when it has one of its own; false
  // when it has been reaped already.
  bool signal(int signal);
  // Without blocking: the status once it has ended (it is reaped then), nullopt while it runs.
  std::optional<ExitStatus> try_wait();
  Expected<ExitStatus> wait();
  // Blocks until it ends or `deadline` passes (then nullopt, still running).
  Expected<std::optional<ExitStatus>> wait_until(std::chrono::steady_clock::time_point deadline);
  // SIGTERM, up to `grace` for it to end, then SIGKILL; the status it ended with.
  Expected<ExitStatus> terminate(std::chrono::milliseconds grace);

  // Writes `input` to stdin (when a pipe; then closes it), reads the stdout and stderr pipes
  // to their end and waits for the child. With a timeout, the child (its group) is killed at
  // the deadline with SIGKILL and the result says timed_out.
  Expected<Captured> communicate(std::string_view input = {},
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Stops owning the child: it is left running, and reaping it is the caller's business.
  pid_t release();

 private:
  Process() = default;
  void close_fds();
  void kill_and_reap();
  Expected<ExitStatus> reap_blocking();

  pid_t m_pid = -1;
  bool m_own_group = false;
  std::optional<ExitStatus> m_status;  // once reaped
  int m_pidfd = -1;                    // readable when the child has ended
  int m_stdin = -1, m_stdout = -1, m_stderr = -1;
};

// spawn() then communicate().
Expected<Captured> run(const SpawnOptions& options, std::string_view input = {},
                       std::optional<std::chrono::milliseconds> timeout = std::nullopt);

// Where `name` is on this process's PATH (a name with '/' is returned as it is when it is an
// executable file), or nullopt.
std::optional<std::string> find_program(std::string_view name);

}  // namespace m2r::sys
