#include "sys/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include <fmt/format.h>

extern char** environ;

namespace m2r::sys {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string_view name_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

// A file descriptor closed when it goes out of scope unless released.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return m_fd; }
  int release() { return std::exchange(m_fd, -1); }
  void reset() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

 private:
  int m_fd = -1;
};

struct Pipe {
  Fd read, write;
};

Expected<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorKind::fatal, fmt::format("pipe: {}", std::strerror(errno)));
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

Expected<Fd> open_null(int flags) {
  const int fd = ::open("/dev/null", flags | O_CLOEXEC);
  if (fd < 0) return fail(ErrorKind::fatal, fmt::format("cannot open /dev/null: {}", std::strerror(errno)));
  return Fd(fd);
}

// One standard stream of the child: the descriptor (this process's, close-on-exec) that the
// child gets as `target`, and this process's end of a pipe.
struct Plan {
  Fd child;   // dup2'd onto the target in the child; invalid: leave the target alone
  Fd parent;  // this process's end of a pipe
};

Expected<Plan> plan_stream(const Stream& stream, int target) {
  Plan plan;
  switch (stream.kind()) {
    case Stream::Kind::inherit:
    case Stream::Kind::same_as_stdout:  // dup2(1, 2), after stdout's own plan
      return plan;
    case Stream::Kind::null:
      plan.child = M2R_TRY(open_null(target == STDIN_FILENO ? O_RDONLY : O_WRONLY));
      return plan;
    case Stream::Kind::pipe: {
      Pipe p = M2R_TRY(make_pipe());
      if (target == STDIN_FILENO) {
        plan.child = std::move(p.read);
        plan.parent = std::move(p.write);
        // Written in communicate()'s poll loop: never block on a child that does not read.
        ::fcntl(plan.parent.get(), F_SETFL, ::fcntl(plan.parent.get(), F_GETFL) | O_NONBLOCK);
      } else {
        plan.child = std::move(p.write);
        plan.parent = std::move(p.read);
      }
      return plan;
    }
    case Stream::Kind::file: {
      const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (stream.mode() == FileMode::append ? O_APPEND : O_TRUNC);
      const int fd = ::open(stream.path().c_str(), flags, stream.permissions());
      if (fd < 0) {
        return fail(ErrorKind::prerequisite, fmt::format("cannot open {}: {}", stream.path(), std::strerror(errno)),
                    "check that its directory exists and is writable");
      }
      plan.child = Fd(fd);
      return plan;
    }
  }
  return plan;
}

ExitStatus decode(int status) {
  ExitStatus s;
  if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    s.code = WEXITSTATUS(status);
  }
  return s;
}

Error start_error(const std::string& program, int error) {
  const ErrorKind kind =
      (error == ENOENT || error == EACCES || error == ENOEXEC || error == ENOTDIR || error == ELOOP || error == EISDIR)
          ? ErrorKind::prerequisite
          : ErrorKind::fatal;
  return Error(kind, fmt::format("could not start {}: {}", program, std::strerror(error)),
               kind == ErrorKind::prerequisite ? "check that the program exists and is executable" : "");
}

// Writes to a pipe whose reader may be gone without SIGPIPE ending this process: the signal
// is blocked in this thread for the write and a SIGPIPE it raised is taken back.
ssize_t write_no_sigpipe(int fd, const char* data, std::size_t size) {
  sigset_t pipe_set, previous;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &previous);
  const ssize_t n = ::write(fd, data, size);
  const int error = errno;
  if (n < 0 && error == EPIPE) {
    const timespec no_wait{};
    while (sigtimedwait(&pipe_set, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = error;
  return n;
}

int milliseconds_until(SteadyClock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

}  // namespace

// ---- Environment ----

Environment Environment::inherited() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!env.get(name_of(entry))) env.m_entries.emplace_back(entry);
  }
  return env;
}

Environment& Environment::set(std::string_view name, std::string_view value) {
  std::string entry = fmt::format("{}={}", name, value);
  for (auto& e : m_entries) {
    if (name_of(e) == name) {
      e = std::move(entry);
      return *this;
    }
  }
  m_entries.push_back(std::move(entry));
  return *this;
}

Environment& Environment::unset(std::string_view name) {
  return unset_if([name](std::string_view n) { return n == name; });
}

Environment& Environment::unset_if(const std::function<bool(std::string_view name)>& drop) {
  std::erase_if(m_entries, [&](const std::string& e) { return drop(name_of(e)); });
  return *this;
}

std::optional<std::string> Environment::get(std::string_view name) const {
  for (const auto& e : m_entries) {
    if (name_of(e) == name) return e.substr(name.size() + 1);
  }
  return std::nullopt;
}

// ---- find_program ----

std::optional<std::string> find_program(std::string_view name) {
  auto runnable = [](const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
  };
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    return runnable(path) ? std::optional(path) : std::nullopt;
  }
  const char* path_var = std::getenv("PATH");
  std::string_view dirs = path_var != nullptr ? path_var : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    if (dir.empty()) continue;  // "" would mean the current directory: never looked in
    std::string candidate = fmt::format("{}/{}", dir, name);
    if (runnable(candidate)) return candidate;
  }
  return std::nullopt;
}

// ---- Process ----

Expected<Process> Process::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return fail(ErrorKind::fatal, "spawn: no program given");
  if (options.in.kind() != Stream::Kind::inherit && options.in.kind() != Stream::Kind::null &&
      options.in.kind() != Stream::Kind::pipe) {
    return fail(ErrorKind::fatal, "spawn: stdin can be inherited, /dev/null or a pipe");
  }
  if (options.out.kind() == Stream::Kind::same_as_stdout) return fail(ErrorKind::fatal, "spawn: stdout cannot follow itself");

  std::string program = options.argv[0];
  if (options.search_path == SearchPath::yes && program.find('/') == std::string::npos) {
    auto found = find_program(program);
    if (!found) {
      return fail(ErrorKind::prerequisite, fmt::format("could not start {}: not found on PATH", program),
                  "install it or put its directory on PATH");
    }
    program = std::move(*found);
  }

  // Everything the child needs exists before it does.
  std::vector<std::string> argv_text = options.argv;
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text = options.env ? options.env->entries() : Environment::inherited().entries();
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  Plan in = M2R_TRY(plan_stream(options.in, STDIN_FILENO));
  Plan out = M2R_TRY(plan_stream(options.out, STDOUT_FILENO));
  Plan err = M2R_TRY(plan_stream(options.err, STDERR_FILENO));
  const bool err_follows_out = options.err.kind() == Stream::Kind::same_as_stdout;
  // (target, source) in order; source -1 means "dup2(1, 2)".
  struct Dup {
    int source;
    int target;
  };
  std::vector<Dup> dups;
  if (in.child.get() >= 0) dups.push_back({in.child.get(), STDIN_FILENO});
  if (out.child.get() >= 0) dups.push_back({out.child.get(), STDOUT_FILENO});
  if (err_follows_out) dups.push_back({STDOUT_FILENO, STDERR_FILENO});
  else if (err.child.get() >= 0) dups.push_back({err.child.get(), STDERR_FILENO});

  sigset_t empty_mask, default_signals;
  sigemptyset(&empty_mask);
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  sigaddset(&default_signals, SIGXFSZ);

  pid_t pid = -1;
  if (options.parent_death_signal == 0) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (const auto& d : dups) posix_spawn_file_actions_adddup2(&actions, d.source, d.target);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (options.group == Group::own) {
      flags |= POSIX_SPAWN_SETPGROUP;
      posix_spawnattr_setpgroup(&attr, 0);
    } else if (options.group == Group::own_session) {
      flags |= POSIX_SPAWN_SETSID;
    }
    posix_spawnattr_setflags(&attr, flags);
    posix_spawnattr_setsigmask(&attr, &empty_mask);
    posix_spawnattr_setsigdefault(&attr, &default_signals);
    const int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return tl::unexpected(start_error(program, rc));
  } else {
    // posix_spawn has no parent-death signal: fork, and after it only async-signal-safe calls.
    Pipe exec_status = M2R_TRY(make_pipe());  // close-on-exec: EOF means execve succeeded
    const pid_t parent = ::getpid();
    const int death_signal = options.parent_death_signal;
    const Group group = options.group;
    struct sigaction default_action{};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    const int status_fd = exec_status.write.get();
    pid = ::fork();
    if (pid < 0) return fail(ErrorKind::fatal, fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
      if (group == Group::own) ::setpgid(0, 0);
      if (group == Group::own_session) ::setsid();
      ::prctl(PR_SET_PDEATHSIG, death_signal);
      if (::getppid() != parent) ::_exit(127);  // the parent ended before prctl
      ::sigaction(SIGPIPE, &default_action, nullptr);
      ::sigaction(SIGXFSZ, &default_action, nullptr);
      ::sigprocmask(SIG_SETMASK, &empty_mask, nullptr);
      for (const auto& d : dups) {
        if (d.source == d.target) ::fcntl(d.source, F_SETFD, 0);
        else if (::dup2(d.source, d.target) < 0) ::_exit(127);
      }
      ::execve(program.c_str(), argv.data(), envp.data());
      const int error = errno;
      [[maybe_unused]] const auto ignored = ::write(status_fd, &error, sizeof error);
      ::_exit(127);
    }
    if (group == Group::own) ::setpgid(pid, pid);  // also here, so that signal() never races the child
    exec_status.write.reset();
    int error = 0;
    ssize_t got;
    while ((got = ::read(exec_status.read.get(), &error, sizeof error)) < 0 && errno == EINTR) {
    }
    if (got == static_cast<ssize_t>(sizeof error)) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      return tl::unexpected(start_error(program, error));
    }
  }

  Process p;
  p.m_pid = pid;
  p.m_own_group = options.group != Group::inherit;
  // (glibc 2.36's <sys/pidfd.h> lacks extern "C", hence the raw system call.)
  p.m_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // -1 before Linux 5.3: wait_until polls instead
  p.m_stdin = in.parent.release();
  p.m_stdout = out.parent.release();
  p.m_stderr = err.parent.release();
  return p;
}

Process::Process(Process&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)),
      m_own_group(other.m_own_group),
      m_status(std::exchange(other.m_status, std::nullopt)),
      m_pidfd(std::exchange(other.m_pidfd, -1)),
      m_stdin(std::exchange(other.m_stdin, -1)),
      m_stdout(std::exchange(other.m_stdout, -1)),
      m_stderr(std::exchange(other.m_stderr, -1)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    m_pid = std::exchange(other.m_pid, -1);
    m_own_group = other.m_own_group;
    m_status = std::exchange(other.m_status, std::nullopt);
    m_pidfd = std::exchange(other.m_pidfd, -1);
    m_stdin = std::exchange(other.m_stdin, -1);
    m_stdout = std::exchange(other.m_stdout, -1);
    m_stderr = std::exchange(other.m_stderr, -1);
  }
  return *this;
}

Process::~Process() { kill_and_reap(); }

void Process::kill_and_reap() {
  if (m_pid > 0 && !m_status) {
    signal(SIGKILL);
    (void)reap_blocking();
  }
  close_fds();
}

void Process::close_fds() {
  for (int* fd : {&m_stdin, &m_stdout, &m_stderr, &m_pidfd}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void Process::close_stdin() {
  if (m_stdin >= 0) ::close(m_stdin);
  m_stdin = -1;
}

bool Process::signal(int signal) {
  if (m_pid <= 0 || m_status) return false;
  return ::kill(m_own_group ? -m_pid : m_pid, signal) == 0;
}

std::optional<ExitStatus> Process::try_wait() {
  if (m_status || m_pid <= 0) return m_status;
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(m_pid, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (got == 0) return std::nullopt;
  // ECHILD: reaped elsewhere (SIGCHLD ignored); its status is lost.
  m_status = got == m_pid ? decode(status) : ExitStatus{.code = -1, .signal = 0};
  return m_status;
}

Expected<ExitStatus> Process::reap_blocking() {
  if (m_status) return *m_status;
  if (m_pid <= 0) return fail(ErrorKind::fatal, "wait: no child process");
  int status = 0;
  while (::waitpid(m_pid, &status, 0) < 0) {
    if (errno != EINTR) return fail(ErrorKind::fatal, fmt::format("waitpid {}: {}", m_pid, std::strerror(errno)));
  }
  m_status = decode(status);
  return *m_status;
}

Expected<ExitStatus> Process::wait() { return reap_blocking(); }

Expected<std::optional<ExitStatus>> Process::wait_until(SteadyClock::time_point deadline) {
  if (m_pid <= 0 && !m_status) return fail(ErrorKind::fatal, "wait: no child process");
  for (;;) {
    if (auto done = try_wait()) return done;
    if (SteadyClock::now() >= deadline) return std::optional<ExitStatus>();
    if (m_pidfd >= 0) {
      pollfd p{m_pidfd, POLLIN, 0};
      if (::poll(&p, 1, milliseconds_until(deadline)) < 0 && errno != EINTR) {
        return fail(ErrorKind::fatal, fmt::format("poll: {}", std::strerror(errno)));
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10, milliseconds_until(deadline))));
    }
  }
}

Expected<ExitStatus> Process::terminate(std::chrono::milliseconds grace) {
  if (m_status) return *m_status;
  signal(SIGTERM);
  if (auto ended = M2R_TRY(wait_until(SteadyClock::now() + grace))) return *ended;
  signal(SIGKILL);
  return reap_blocking();
}

Expected<Captured> Process::communicate(std::string_view input, std::optional<std::chrono::milliseconds> timeout) {
  Captured result;
  const auto deadline = timeout ? SteadyClock::now() + *timeout : SteadyClock::time_point::max();
  if (m_stdin >= 0 && input.empty()) close_stdin();
  std::size_t written = 0;
  while (m_stdin >= 0 || m_stdout >= 0 || m_stderr >= 0) {
    if (SteadyClock::now() >= deadline) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (m_stdin >= 0) fds[n++] = {m_stdin, POLLOUT, 0};
    if (m_stdout >= 0) fds[n++] = {m_stdout, POLLIN, 0};
    if (m_stderr >= 0) fds[n++] = {m_stderr, POLLIN, 0};
    const int ready = ::poll(fds, n, timeout ? milliseconds_until(deadline) : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::fatal, fmt::format("poll: {}", std::strerror(errno)));
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == m_stdin) {
        const ssize_t w = write_no_sigpipe(m_stdin, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written >= input.size()) close_stdin();
        continue;
      }
      char buffer[8192];
      const ssize_t r = ::read(fds[i].fd, buffer, sizeof buffer);
      if (r > 0) {
        (fds[i].fd == m_stdout ? result.out : result.err).append(buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        int& fd = fds[i].fd == m_stdout ? m_stdout : m_stderr;
        ::close(fd);
        fd = -1;
      }
    }
  }
  if (!result.timed_out) {
    auto ended = M2R_TRY(wait_until(deadline));
    if (ended) {
      result.status = *ended;
      return result;
    }
    result.timed_out = true;
  }
  signal(SIGKILL);
  close_stdin();
  for (int* fd : {&m_stdout, &m_stderr}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  result.status = M2R_TRY(reap_blocking());
  return result;
}

pid_t Process::release() {
  const pid_t pid = std::exchange(m_pid, -1);
  close_fds();
  return pid;
}

Expected<Captured> run(const SpawnOptions& options, std::string_view input, std::optional<std::chrono::milliseconds> timeout) {
  Process p = M2R_TRY(Process::spawn(options));
  return p.communicate(input, timeout);
}

}  // namespace m2r::sys
