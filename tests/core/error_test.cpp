#include "core/error.hpp"

#include <set>

#include <gtest/gtest.h>

using namespace m2r;

TEST(ErrorTest, EveryKindHasADistinctNonZeroExitCode) {
  // Given every error kind, users and scripts should be able to tell them apart by exit code.
  std::set<int> codes;
  for (auto k : {ErrorKind::invalid_input, ErrorKind::prerequisite, ErrorKind::retryable, ErrorKind::timeout,
                 ErrorKind::auth, ErrorKind::not_found, ErrorKind::conflict, ErrorKind::integrity, ErrorKind::fatal,
                 ErrorKind::journal_damaged, ErrorKind::config_changed, ErrorKind::interrupted, ErrorKind::tls, ErrorKind::refused}) {
    const int c = exit_code_for(k);
    EXPECT_GT(c, 1);
    EXPECT_TRUE(codes.insert(c).second) << to_string(k);
  }
}

TEST(ErrorTest, TlsFailuresExitWith13) {
  // Given a TLS failure (certificate or encryption refused), the exit code should be README's 13.
  EXPECT_EQ(exit_code_for(ErrorKind::tls), 13);
  EXPECT_STREQ(to_string(ErrorKind::tls), "TLS");
}

TEST(ErrorTest, InterruptedExitsAsAShellReportsCtrlC) {
  // Given a command stopped by SIGINT, scripts should see the 128 + 2 a shell reports for Ctrl-C.
  EXPECT_EQ(exit_code_for(ErrorKind::interrupted), 130);
  EXPECT_STREQ(to_string(ErrorKind::interrupted), "interrupted");
}

namespace {
Expected<int> half(int v) {
  if (v % 2) return fail(ErrorKind::invalid_input, "odd", "pass an even number");
  return v / 2;
}
Expected<int> quarter(int v) {
  const int h = M2R_TRY(half(v));
  return M2R_TRY(half(h));
}
}  // namespace

TEST(ErrorTest, TryPropagatesTheFirstError) {
  EXPECT_EQ(quarter(8).value(), 2);
  const auto r = quarter(6);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().hint, "pass an even number");
}

TEST(ErrorTest, ARefusalTheToolHasNoFixForExitsWith14NotTheBugsTen) {
  // Given SQL Server or AWS refusing with an error the tool has no advice of its own for, the
  // exit code should be README's 14: the user's or the server's to fix, not a bug (10).
  EXPECT_EQ(exit_code_for(ErrorKind::refused), 14);
  EXPECT_NE(exit_code_for(ErrorKind::refused), exit_code_for(ErrorKind::fatal));
  EXPECT_STREQ(to_string(ErrorKind::refused), "refused");
}
