// The CLI's SIGINT / SIGTERM handling, in a child process (a second interrupt calls _exit).
#include "cli/interrupt_handler.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "migrate/sqlite_journal.hpp"

namespace m2r::cli {
namespace {

TEST(InterruptHandlerTest, TheFirstSignalRequestsAStop) {
  // Given the handler installed, a SIGINT should become a stop request (through the pipe and
  // the watcher thread), and the process should go on.
  InterruptHandler handler;
  ASSERT_TRUE(handler.installed());
  ASSERT_EQ(::raise(SIGINT), 0);
  EXPECT_TRUE(handler.stop().wait_for(std::chrono::seconds(30)));  // returns as soon as it is requested
}

TEST(InterruptHandlerTest, SigtermStopsTheSameWay) {
  InterruptHandler handler;
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_TRUE(handler.stop().wait_for(std::chrono::seconds(30)));
}

TEST(InterruptHandlerTest, ASecondSignalExitsAtOnceWith130AndTheJournalKeepsWhatWasCommitted) {
  // Given a child with a journal open in the middle of a step, two SIGINTs should end it at
  // once with 130, and the journal should open afterwards with every committed write in it.
  const std::string path =
      (std::filesystem::temp_directory_path() / ("m2r-interrupt-" + std::to_string(::getpid()) + ".journal")).string();
  std::filesystem::remove(path);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto journal = SqliteJournal::open(path);
    if (!journal) ::_exit(90);
    if (!(*journal)->begin_step("upload", {})) ::_exit(91);
    if (!(*journal)->record_part({"u1", 1, 0, 5, "etag1", "crc1", "md51"})) ::_exit(92);
    InterruptHandler handler;
    ::raise(SIGINT);
    ::raise(SIGINT);  // the handler _exits here
    ::_exit(93);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  auto journal = SqliteJournal::open(path);
  ASSERT_TRUE(journal) << journal.error().message;
  const auto step = (*journal)->step("upload");
  ASSERT_TRUE(step && *step);
  EXPECT_EQ((*step)->status, StepStatus::running);  // resumable as a killed attempt
  const auto parts = (*journal)->parts("u1");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 1U);
  EXPECT_EQ(parts->front().etag, "etag1");
  journal->reset();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  std::filesystem::remove(path + ".lock");
}

}  // namespace
}  // namespace m2r::cli
