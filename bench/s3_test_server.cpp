// The strict S3 test server (tests/support/strict_s3_server.hpp) as a process, for the
// benchmark and for trying the product by hand:
//   s3_test_server [--port N] [--discard] [--bind 127.0.0.1]
// Prints "port N" on its first line, serves until SIGINT/SIGTERM. Credentials: the access key
// and secret come from S3_TEST_SERVER_ACCESS_KEY_ID / S3_TEST_SERVER_SECRET_ACCESS_KEY (not
// argv), with the test defaults of StrictS3Options when unset.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

#include "support/strict_s3_server.hpp"

int main(int argc, char** argv) {
  m2r::testing::StrictS3Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--port" && i + 1 < argc) options.port = std::atoi(argv[++i]);
    else if (arg == "--bind" && i + 1 < argc) options.bind_address = argv[++i];
    else if (arg == "--discard") options.store_bodies = false;
    else {
      std::fprintf(stderr, "usage: s3_test_server [--port N] [--bind ADDR] [--discard]\n");
      return 2;
    }
  }
  if (const char* key = std::getenv("S3_TEST_SERVER_ACCESS_KEY_ID")) options.access_key_id = key;
  if (const char* secret = std::getenv("S3_TEST_SERVER_SECRET_ACCESS_KEY")) options.secret_access_key = secret;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: only sigwait sees them

  m2r::testing::StrictS3Server server(options);
  auto started = server.start();
  if (!started) {
    std::fprintf(stderr, "s3_test_server: %s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("port %d\n", server.port());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  const auto stats = server.stats();
  std::fprintf(stderr, "s3_test_server: %d requests, %d parts, %llu body bytes, %d rejected\n", stats.requests,
               stats.parts_accepted, static_cast<unsigned long long>(stats.body_bytes), stats.rejected);
  for (const auto& r : stats.rejections) std::fprintf(stderr, "  rejected: %s\n", r.c_str());
  server.stop();
  return 0;
}
