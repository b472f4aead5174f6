#pragma once
// SIGINT and SIGTERM for the commands that run long work (run, cutover, validate, status
// --watch). The first signal asks the work to stop at a safe point (the command then exits
// with ErrorKind::interrupted's code and says how to continue); a second one exits at once
// with the same code. The journal stays consistent either way: SQLite in WAL mode with
// synchronous=FULL commits each transaction durably, and an _exit between transactions
// leaves only committed ones (docs/architecture.md, "The journal").
//
// The handler itself only counts the signal in a lock-free atomic and writes one byte to a
// self-pipe (both async-signal-safe; no allocation, no lock); a watcher thread reads the pipe
// and requests the stop. Other commands keep the default handlers: Ctrl-C ends them at once.
#include <thread>

#include "core/interrupt.hpp"

namespace m2r::cli {

class InterruptHandler {
 public:
  InterruptHandler();  // installs the handlers (one instance at a time)
  ~InterruptHandler();  // restores the previous handlers
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

  const StopSignal& stop() const { return m_stop; }
  bool installed() const { return m_installed; }

 private:
  StopSignal m_stop;
  std::thread m_watcher;
  bool m_installed = false;
};

}  // namespace m2r::cli
