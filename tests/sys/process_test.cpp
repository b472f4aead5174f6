// Child processes (sys/process): argv, environment, streams, groups, timeouts, signals.
#include "sys/process.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace m2r::sys {
namespace {

using namespace std::chrono_literals;

SpawnOptions sh(const std::string& script) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", script};
  o.out = Stream::pipe();
  o.err = Stream::pipe();
  return o;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A line "Name:\t<hex>" of the child's /proc/<pid>/status, as the child itself sees it.
std::uint64_t status_mask(const std::string& status_text, const std::string& name) {
  std::istringstream lines(status_text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + ":", 0) == 0) return std::stoull(line.substr(name.size() + 1), nullptr, 16);
  }
  ADD_FAILURE() << name << " not in " << status_text;
  return ~0ull;
}

std::uint64_t bit(int signal) { return 1ull << (signal - 1); }

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/m2r-process-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  std::string m_dir;
};

TEST_F(ProcessTest, RunsAProgramAndCapturesItsOutputAndExitCode) {
  // Given /bin/sh -c writing to both streams and exiting 3, run should return each stream and the code.
  auto r = run(sh("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->status.code, 3);
  EXPECT_EQ(r->status.signal, 0);
  EXPECT_FALSE(r->status.success());
  EXPECT_FALSE(r->timed_out);
}

TEST_F(ProcessTest, PassesArgumentsLiterallyWithoutAShell) {
  // Given words a shell would expand, the program should receive them as they are.
  SpawnOptions o;
  o.argv = {"/usr/bin/printf", "%s|", "$(touch " + m_dir + "/pwned)", "a;b", "*"};
  o.out = Stream::pipe();
  auto r = run(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "$(touch " + m_dir + "/pwned)|a;b|*|");
  EXPECT_FALSE(std::filesystem::exists(m_dir + "/pwned"));
}

TEST_F(ProcessTest, StderrCanFollowStdoutIntoOnePipe) {
  // Given stderr as same_as_stdout, both streams should arrive interleaved in the stdout pipe.
  SpawnOptions o = sh("echo one; echo two >&2; echo three");
  o.err = Stream::same_as_stdout();
  auto r = run(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "one\ntwo\nthree\n");
  EXPECT_EQ(r->err, "");
}

TEST_F(ProcessTest, TheChildGetsExactlyTheEnvironmentItIsGiven) {
  // Given an explicit environment, the child should see those variables and nothing else.
  SpawnOptions o;
  o.argv = {"/usr/bin/env"};
  o.env = Environment::empty().set("A", "1").set("B", "two words").set("A", "replaced");
  o.out = Stream::pipe();
  auto r = run(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "A=replaced\nB=two words\n");
}

TEST_F(ProcessTest, AVariableRemovedFromTheInheritedEnvironmentDoesNotReachTheChild) {
  // Given this process's environment holding a password variable, a child spawned with the
  // *_PASSWORD variables removed should not see it, and should see the rest (PATH).
  ASSERT_EQ(::setenv("M2R_PROCESS_TEST_PASSWORD", "secret", 1), 0);
  ASSERT_EQ(::setenv("M2R_PROCESS_TEST_PLAIN", "kept", 1), 0);
  SpawnOptions o;
  o.argv = {"/usr/bin/env"};
  o.env = Environment::inherited().unset_if([](std::string_view name) { return name.ends_with("_PASSWORD"); });
  o.out = Stream::pipe();
  auto r = run(o);
  ::unsetenv("M2R_PROCESS_TEST_PASSWORD");
  ::unsetenv("M2R_PROCESS_TEST_PLAIN");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out.find("secret"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("M2R_PROCESS_TEST_PLAIN=kept\n"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("PATH="), std::string::npos) << r->out;
}

TEST_F(ProcessTest, WritesInputToStdinAndLeavesItAtDevNullOtherwise) {
  // Given a megabyte on stdin, cat should give it back whole; without a pipe, stdin is /dev/null (EOF at once).
  std::string input;
  for (int i = 0; input.size() < 1024 * 1024; ++i) input += std::to_string(i) + "\n";
  SpawnOptions o = sh("cat");
  o.in = Stream::pipe();
  auto r = run(o, input);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out.size(), input.size());
  EXPECT_TRUE(r->out == input);

  auto empty = run(sh("cat; echo end"));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->out, "end\n");
}

TEST_F(ProcessTest, AChildThatStopsReadingItsInputDoesNotEndThisProcess) {
  // Given a child that exits without reading a large input, the write should fail quietly
  // (no SIGPIPE here) and the child's exit code come back.
  SpawnOptions o = sh("exit 7");
  o.in = Stream::pipe();
  auto r = run(o, std::string(4 * 1024 * 1024, 'x'));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status.code, 7);
}

TEST_F(ProcessTest, AChildPastItsTimeoutIsKilled) {
  // Given a child that would sleep for a minute and a 200 ms timeout, run should kill it
  // (SIGKILL) and say it timed out, with the output written before.
  auto r = run(sh("echo started; exec sleep 60"), {}, 200ms);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->status.signal, SIGKILL);
  EXPECT_EQ(r->status.shell_code(), 128 + SIGKILL);
  EXPECT_EQ(r->out, "started\n");
}

TEST_F(ProcessTest, KillingAProcessGroupReachesTheChildsChildren) {
  // Given a child in its own group whose background child holds the output pipe open, the
  // timeout should kill the whole group: the grandchild ends too.
  SpawnOptions o = sh("sleep 60 & echo $!; wait");
  o.group = Group::own;
  auto r = run(o, {}, 300ms);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  const pid_t grandchild = std::stoi(r->out);
  ASSERT_GT(grandchild, 0);
  // It was reparented; wait (with a deadline) until it is gone or a zombie of its new parent.
  auto gone = [&] {
    const std::string stat = read_text("/proc/" + std::to_string(grandchild) + "/stat");
    const auto paren = stat.rfind(')');
    return stat.empty() || (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z');
  };
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!gone() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(gone()) << "the grandchild " << grandchild << " outlived its group's kill";
}

TEST_F(ProcessTest, GroupsAndSessionsOfTheirOwn) {
  // Given Group::own the child should lead a new process group; given own_session, a new session.
  SpawnOptions o = sh("exec sleep 60");
  o.group = Group::own;
  auto grouped = Process::spawn(o);
  ASSERT_TRUE(grouped) << grouped.error().message;
  EXPECT_EQ(::getpgid(grouped->pid()), grouped->pid());
  EXPECT_NE(::getsid(grouped->pid()), grouped->pid());

  o.group = Group::own_session;
  auto session = Process::spawn(o);
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_EQ(::getsid(session->pid()), session->pid());
  EXPECT_EQ(::getpgid(session->pid()), session->pid());

  o.group = Group::inherit;
  auto same = Process::spawn(o);
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ(::getpgid(same->pid()), ::getpgrp());
}

TEST_F(ProcessTest, AMissingProgramIsAPrerequisiteErrorNamingIt) {
  // Given a path that does not exist, or a name not on PATH, spawn should fail (prerequisite) naming it.
  SpawnOptions o;
  o.argv = {m_dir + "/no-such-program"};
  auto missing = Process::spawn(o);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(missing.error().message.find(m_dir + "/no-such-program"), std::string::npos) << missing.error().message;
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos) << missing.error().message;

  o.argv = {"m2r-no-such-program-anywhere"};
  o.search_path = SearchPath::yes;
  auto not_on_path = Process::spawn(o);
  ASSERT_FALSE(not_on_path);
  EXPECT_EQ(not_on_path.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(not_on_path.error().message.find("not found on PATH"), std::string::npos);

  // Found on PATH by name.
  o.argv = {"sh", "-c", "exit 0"};
  auto found = run(o);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_TRUE(found->status.success());
  EXPECT_TRUE(find_program("sh").value_or("").ends_with("/sh"));
  EXPECT_FALSE(find_program("m2r-no-such-program-anywhere"));
}

TEST_F(ProcessTest, OutputGoesToAFileTruncatedOrAppended) {
  // Given stdout and stderr to a file, truncating should start it afresh and appending should keep what is there.
  const std::string log = m_dir + "/child.log";
  {
    std::ofstream(log) << "old\n";
  }
  SpawnOptions o = sh("echo first; echo second >&2");
  o.out = Stream::file(log, FileMode::truncate, 0600);
  o.err = Stream::same_as_stdout();
  ASSERT_TRUE(run(o));
  EXPECT_EQ(read_text(log), "first\nsecond\n");
  o.out = Stream::file(log, FileMode::append, 0600);
  ASSERT_TRUE(run(o));
  EXPECT_EQ(read_text(log), "first\nsecond\nfirst\nsecond\n");

  o.out = Stream::file(m_dir + "/no-such-dir/child.log");
  auto refused = Process::spawn(o);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(m_dir + "/no-such-dir/child.log"), std::string::npos);
}

TEST_F(ProcessTest, TheChildStartsWithNoBlockedSignalsAndSigpipeAtItsDefault) {
  // Given this thread blocking SIGTERM and SIGINT (as the demo's guard does) and SIGPIPE ignored
  // (as the ODBC session does), the child should start with an empty mask and SIGPIPE not
  // ignored, both when posix_spawn starts it and when fork does (parent-death signal).
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &blocked, &previous), 0);
  struct sigaction ignore {}, previous_pipe {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &previous_pipe), 0);
  for (int death_signal : {0, SIGKILL}) {
    SpawnOptions o;
    o.argv = {"/bin/cat", "/proc/self/status"};
    o.out = Stream::pipe();
    o.parent_death_signal = death_signal;
    auto r = run(o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(status_mask(r->out, "SigBlk"), 0u) << "parent_death_signal " << death_signal;
    EXPECT_EQ(status_mask(r->out, "SigIgn") & bit(SIGPIPE), 0u) << "parent_death_signal " << death_signal;
  }
  ::sigaction(SIGPIPE, &previous_pipe, nullptr);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

TEST_F(ProcessTest, TerminateSendsSigtermThenSigkillAfterTheGrace) {
  // Given a child that ends on SIGTERM and one that ignores it, terminate should end the first
  // with SIGTERM and the second with SIGKILL once the grace has passed.
  auto polite = Process::spawn(sh("exec sleep 60"));
  ASSERT_TRUE(polite) << polite.error().message;
  auto ended = polite->terminate(10s);
  ASSERT_TRUE(ended) << ended.error().message;
  EXPECT_EQ(ended->signal, SIGTERM);

  SpawnOptions deaf = sh("trap '' TERM; echo ready; exec sleep 60");
  auto stubborn = Process::spawn(deaf);
  ASSERT_TRUE(stubborn) << stubborn.error().message;
  char c = 0;
  ASSERT_EQ(::read(stubborn->stdout_fd(), &c, 1), 1);  // the trap is set once "ready" is written
  auto killed = stubborn->terminate(200ms);
  ASSERT_TRUE(killed) << killed.error().message;
  EXPECT_EQ(killed->signal, SIGKILL);
  EXPECT_FALSE(stubborn->signal(SIGTERM)) << "a reaped child cannot be signalled";
}

TEST_F(ProcessTest, WaitUntilReturnsNothingWhileTheChildRuns) {
  // Given a running child, wait_until a past deadline should say "still running", try_wait too;
  // after a SIGTERM, wait should give the signal.
  auto p = Process::spawn(sh("exec sleep 60"));
  ASSERT_TRUE(p) << p.error().message;
  auto running = p->wait_until(std::chrono::steady_clock::now());
  ASSERT_TRUE(running) << running.error().message;
  EXPECT_FALSE(*running);
  EXPECT_FALSE(p->try_wait());
  ASSERT_TRUE(p->signal(SIGTERM));
  auto ended = p->wait();
  ASSERT_TRUE(ended) << ended.error().message;
  EXPECT_EQ(ended->signal, SIGTERM);
  EXPECT_EQ(p->try_wait()->signal, SIGTERM);
}

TEST_F(ProcessTest, AProcessGoingOutOfScopeKillsItsChildUnlessReleased) {
  // Given a running child, destroying its Process should kill and reap it; a released one
  // should be left running.
  pid_t owned = 0;
  {
    auto p = Process::spawn(sh("exec sleep 60"));
    ASSERT_TRUE(p) << p.error().message;
    owned = p->pid();
  }
  EXPECT_NE(::kill(owned, 0), 0);
  EXPECT_EQ(errno, ESRCH);

  pid_t released = 0;
  {
    auto p = Process::spawn(sh("exec sleep 60"));
    ASSERT_TRUE(p) << p.error().message;
    released = p->release();
  }
  EXPECT_EQ(::kill(released, 0), 0);
  ::kill(released, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(released, &status, 0), released);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST_F(ProcessTest, AParentDeathSignalEndsTheChildWhenTheSpawningThreadEnds) {
  // Given a child started from a thread with parent_death_signal SIGTERM, the child should get
  // SIGTERM when that thread ends (PR_SET_PDEATHSIG follows the thread that forked).
  std::optional<Process> child;
  std::thread starter([&] {
    SpawnOptions o = sh("exec sleep 60");
    o.parent_death_signal = SIGTERM;
    auto p = Process::spawn(o);
    if (p) child = std::move(*p);
  });
  starter.join();
  ASSERT_TRUE(child);
  auto ended = child->wait_until(std::chrono::steady_clock::now() + 10s);
  ASSERT_TRUE(ended) << ended.error().message;
  ASSERT_TRUE(*ended) << "the child outlived the thread that started it";
  EXPECT_EQ((*ended)->signal, SIGTERM);

  // A missing program is reported the same way as with posix_spawn.
  SpawnOptions missing;
  missing.argv = {m_dir + "/no-such-program"};
  missing.parent_death_signal = SIGTERM;
  auto refused = Process::spawn(missing);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::prerequisite);
  EXPECT_NE(refused.error().message.find("No such file"), std::string::npos);
}

}  // namespace
}  // namespace m2r::sys
