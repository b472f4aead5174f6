#include "cli/interrupt_handler.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "core/error.hpp"

namespace m2r::cli {

namespace {

int g_pipe[2] = {-1, -1};
std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free counter");
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

constexpr char k_wake_to_exit = 0;  // written by the destructor: the watcher returns

extern "C" void on_stop_signal(int signal_number) {
  const int saved_errno = errno;
  if (g_signals.fetch_add(1) >= 1) {
    static const char message[] = "\nmssql2rds: second interrupt: exiting now (the journal keeps what was committed)\n";
    (void)!write(STDERR_FILENO, message, sizeof message - 1);
    _exit(exit_code_for(ErrorKind::interrupted));
  }
  const char byte = static_cast<char>(signal_number);
  (void)!write(g_pipe[1], &byte, 1);
  errno = saved_errno;
}

}  // namespace

InterruptHandler::InterruptHandler() {
  if (pipe2(g_pipe, O_CLOEXEC) != 0) {
    std::cerr << "mssql2rds: warning: cannot watch for Ctrl-C (" << std::strerror(errno)
              << "); an interrupt ends the command at once\n";
    return;
  }
  g_signals = 0;
  m_watcher = std::thread([this] {
    for (;;) {
      char byte = 0;
      const ssize_t n = read(g_pipe[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == k_wake_to_exit) return;
      std::cerr << "\nmssql2rds: " << (byte == SIGTERM ? "SIGTERM" : "interrupt")
                << ": stopping at a safe point (press Ctrl-C again to exit at once)\n"
                << std::flush;
      m_stop.request();
    }
  });
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a system call the signal lands in (a socket read in the driver, a sleep)
  // resumes instead of failing with EINTR; the stop is delivered through the pipe.
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
  m_installed = true;
}

InterruptHandler::~InterruptHandler() {
  if (m_installed) {
    sigaction(SIGINT, &g_previous_int, nullptr);
    sigaction(SIGTERM, &g_previous_term, nullptr);
  }
  if (m_watcher.joinable()) {
    const char byte = k_wake_to_exit;
    (void)!write(g_pipe[1], &byte, 1);
    m_watcher.join();
  }
  for (int& fd : g_pipe) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

}  // namespace m2r::cli
