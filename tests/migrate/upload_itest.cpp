// The upload engine against the strict S3 server on loopback: real HTTP, real SigV4, real
// checksums; faults injected by the server; a kill -9 mid-upload and a resume.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "aws/aws_context.hpp"
#include "aws/checksums.hpp"
#include "aws/s3_client.hpp"
#include "migrate/object_store_s3.hpp"
#include "migrate/sqlite_journal.hpp"
#include "migrate/upload_engine.hpp"
#include "support/strict_s3_server.hpp"
#include "support/wait_until.hpp"

namespace m2r {
namespace {

namespace fs = std::filesystem;
using testing::FaultAction;
using testing::FaultRule;
using testing::StrictS3Server;

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t v = gen();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

aws::AwsContext context_for(const StrictS3Server& server, const std::string& secret) {
  aws::Credentials creds;
  creds.access_key_id = server.options().access_key_id;
  creds.secret_access_key = secret;
  creds.source = "test";
  aws::RetryOptions retry;
  retry.base_delay = std::chrono::milliseconds(5);
  return aws::AwsContext::for_endpoint(creds, "us-east-1", server.endpoint(), nullptr, nullptr, retry);
}

class UploadIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server.start());
    dir = fs::temp_directory_path() / fmt::format("m2r-upload-itest-{}-{}", ::getpid(), counter++);
    fs::create_directories(dir);
  }
  void TearDown() override {
    server.stop();
    fs::remove_all(dir);
  }

  void stream_a_growing_file(std::uint64_t budget, PartBuffering expected);

  UploadRequest request(int connections = 4) {
    UploadRequest r;
    r.bucket = "backups";
    r.key = "prod/full.bak";
    r.connections = connections;
    r.part_size = 5 * k_mib;
    r.backoff_base = std::chrono::milliseconds(5);
    r.backoff_cap = std::chrono::milliseconds(50);
    return r;
  }

  std::unique_ptr<SqliteJournal> open_journal() {
    auto journal = SqliteJournal::open((dir / "journal.db").string());
    EXPECT_TRUE(journal) << journal.error().message;
    auto step = (*journal)->step("upload");
    if (!step || !*step || (*step)->status != StepStatus::running) {
      EXPECT_TRUE((*journal)->begin_step("upload", {}));
    }
    return std::move(*journal);
  }

  Expected<UploadResult> upload(const std::string& path, const UploadRequest& r) {
    S3ObjectStore store(context_for(server, server.options().secret_access_key));
    auto reader = PosixFileReader::open(path);
    if (!reader) return tl::unexpected(reader.error());
    auto journal = open_journal();
    NullUploadObserver observer;
    return upload_file(r, store, **reader, *journal, observer);
  }

  static inline int counter = 0;
  StrictS3Server server;
  fs::path dir;
};

TEST_F(UploadIntegrationTest, UploadsByteIdenticalWithEveryChecksumVerified) {
  // Given a 23 MiB file, should store identical bytes through signed, checksummed parts that
  // the strict server accepted without a single rejection.
  const std::string content = random_bytes(23 * k_mib + 7, 1);
  write_file(dir / "full.bak", content);
  auto result = upload((dir / "full.bak").string(), request());
  ASSERT_TRUE(result) << result.error().message << " / " << result.error().hint;
  EXPECT_EQ(server.object("backups", "prod/full.bak"), content);
  const auto stats = server.stats();
  EXPECT_EQ(stats.parts_accepted, 5);
  EXPECT_EQ(stats.rejected, 0) << (stats.rejections.empty() ? "" : stats.rejections[0]);
  EXPECT_TRUE(result->checksum_crc32c.ends_with("-5")) << result->checksum_crc32c;
}

TEST_F(UploadIntegrationTest, ReusesConnectionsAcrossParts) {
  // Given 12 parts over 2 connections, should open about one connection per worker (keep-alive),
  // not one per request.
  const std::string content = random_bytes(56 * k_mib, 6);
  write_file(dir / "full.bak", content);
  auto result = upload((dir / "full.bak").string(), request(2));
  ASSERT_TRUE(result) << result.error().message;
  const auto stats = server.stats();
  EXPECT_GE(stats.requests, 16);  // create, 12 parts, list, complete, head
  EXPECT_LE(stats.connections, 3);
}

TEST_F(UploadIntegrationTest, SurvivesInjectedFaultsWithAByteIdenticalObject) {
  // Given a 500, a 503 SlowDown, a reset connection and a truncated response on different
  // parts, should retry each part and still store identical bytes.
  const std::string content = random_bytes(26 * k_mib, 2);
  write_file(dir / "full.bak", content);
  server.inject({.operation = "UploadPart", .part_number = 1, .action = FaultAction::truncate});
  server.inject({.operation = "UploadPart", .part_number = 2, .action = FaultAction::internal_error});
  server.inject({.operation = "UploadPart", .part_number = 3, .action = FaultAction::slow_down, .times = 2});
  server.inject({.operation = "UploadPart", .part_number = 4, .action = FaultAction::reset});
  server.inject({.operation = "UploadPart", .part_number = 5, .action = FaultAction::delay,
                 .delay = std::chrono::milliseconds(300)});
  auto result = upload((dir / "full.bak").string(), request());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(server.object("backups", "prod/full.bak"), content);
  EXPECT_EQ(result->retries, 5);
  EXPECT_EQ(server.stats().faults_injected, 6);
}

TEST_F(UploadIntegrationTest, ResumesAfterKillNineSendingEachPartOnce) {
  // Given an upload killed with SIGKILL mid-way, should resume under the same upload id and
  // send only the parts the server does not hold: every part accepted exactly once.
  const std::string content = random_bytes(41 * k_mib, 3);
  const std::string path = (dir / "full.bak").string();
  write_file(path, content);
  server.inject({.operation = "UploadPart", .action = FaultAction::delay, .times = 1000,
                 .delay = std::chrono::milliseconds(150)});
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto r = upload(path, request(2));
    ::_exit(r ? 0 : 1);
  }
  // Kill the upload once three parts are in (the assertions below say if that never came).
  (void)test::wait_until([&] { return server.stats().parts_accepted >= 3; }, std::chrono::seconds(4),
                         std::chrono::milliseconds(10));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the upload finished before it could be killed";
  // A part whose body arrived before the kill is still accepted after the server's delay.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto before = server.stats();
  ASSERT_GE(before.parts_accepted, 3);
  ASSERT_LT(before.parts_accepted, 9);
  ASSERT_EQ(server.upload_ids().size(), 1U);
  const std::string upload_id = server.upload_ids()[0];

  server.clear_faults();
  auto result = upload(path, request());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_TRUE(result->resumed);
  EXPECT_EQ(result->upload_id, upload_id);
  EXPECT_EQ(result->parts_reused, before.parts_accepted);
  EXPECT_EQ(server.object("backups", "prod/full.bak"), content);
  const auto after = server.stats();
  for (int n = 1; n <= 9; ++n) EXPECT_EQ(after.part_accepted_count.count(n) ? after.part_accepted_count.at(n) : 0, 1) << n;
}

TEST_F(UploadIntegrationTest, StartsOverWhenTheServerForgotTheUpload) {
  // Given a journaled upload id the server no longer knows (expired or aborted), should start a
  // new upload and still store identical bytes.
  const std::string content = random_bytes(11 * k_mib, 4);
  const std::string path = (dir / "full.bak").string();
  write_file(path, content);
  server.inject({.operation = "UploadPart", .part_number = 2, .action = FaultAction::internal_error, .times = 100});
  auto r = request(1);
  r.max_attempts = 2;
  auto failed = upload(path, r);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::retryable);
  const std::string first_id = server.upload_ids().at(0);
  server.forget_upload(first_id);
  server.clear_faults();
  auto result = upload(path, request());
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(result->resumed);
  EXPECT_NE(result->upload_id, first_id);
  EXPECT_EQ(result->parts_sent, 3);
  EXPECT_EQ(server.object("backups", "prod/full.bak"), content);
}

TEST_F(UploadIntegrationTest, AbortsAbandonedUploads) {
  // Given two abandoned uploads under the prefix, should abort both through S3.
  S3ObjectStore store(context_for(server, server.options().secret_access_key));
  ASSERT_TRUE(store.create_multipart("backups", "prod/a.bak"));
  ASSERT_TRUE(store.create_multipart("backups", "prod/b.bak"));
  auto aborted = abort_abandoned_uploads(store, {.bucket = "backups", .prefix = "prod/"});
  ASSERT_TRUE(aborted) << aborted.error().message;
  EXPECT_EQ(aborted->size(), 2U);
  EXPECT_TRUE(server.upload_ids().empty());
}

// A file written in 1 MiB steps while the upload runs, whose first bytes are rewritten at the
// end (as a backup rewrites its header), uploaded within `budget`.
void UploadIntegrationTest::stream_a_growing_file(std::uint64_t budget, PartBuffering expected) {
  const std::string content = random_bytes(24 * k_mib + 3, 5);
  const std::string path = (dir / "growing.bak").string();
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  std::atomic<bool> finished{false};
  std::thread writer([&] {
    for (std::size_t at = 0; at < content.size(); at += k_mib) {
      const std::size_t n = std::min<std::size_t>(k_mib, content.size() - at);
      EXPECT_EQ(::pwrite(fd, content.data() + at, n, static_cast<off_t>(at)), static_cast<ssize_t>(n));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(::pwrite(fd, "REWRITTEN", 9, 0), 9);
    ::close(fd);
    finished = true;
  });
  auto r = request();
  r.buffer_budget = budget;
  r.streaming = true;
  r.expected_size = content.size();
  r.poll_interval = std::chrono::milliseconds(5);
  r.writer_finished = [&] { return finished.load(); };
  auto result = upload(path, r);
  writer.join();
  ASSERT_TRUE(result) << result.error().message;
  std::string final_content = content;
  final_content.replace(0, 9, "REWRITTEN");
  EXPECT_EQ(server.object("backups", "prod/full.bak"), final_content);
  EXPECT_EQ(result->parts_resent, 1);
  EXPECT_EQ(result->buffering, expected);
}

TEST_F(UploadIntegrationTest, StreamsAFileStillBeingWritten) {
  // Given a growing file whose header is rewritten at the end, should store the final file.
  stream_a_growing_file(k_default_buffer_budget, PartBuffering::whole_part);
}

TEST_F(UploadIntegrationTest, StreamsAFileStillBeingWrittenWithPartsReadAsSent) {
  // The same with a budget too small for whole parts: parts are read from the file as sent.
  stream_a_growing_file(2 * k_mib, PartBuffering::streamed);
}

TEST_F(UploadIntegrationTest, PartsReadAsSentSurviveFaultsByteIdentical) {
  // Given parts streamed from the file (a 2 MiB budget for 5 MiB parts) and a truncated
  // response, a 500 and a reset connection, each retry should read its part again from the
  // start, every checksum should verify, and the object should be byte-identical.
  const std::string content = random_bytes(21 * k_mib + 9, 8);
  write_file(dir / "full.bak", content);
  server.inject({.operation = "UploadPart", .part_number = 1, .action = FaultAction::truncate});
  server.inject({.operation = "UploadPart", .part_number = 2, .action = FaultAction::internal_error});
  server.inject({.operation = "UploadPart", .part_number = 4, .action = FaultAction::reset});
  auto r = request();
  r.buffer_budget = 2 * k_mib;
  auto result = upload((dir / "full.bak").string(), r);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->buffering, PartBuffering::streamed);
  EXPECT_EQ(result->connections, 2);  // 2 MiB holds two 1 MiB read buffers
  EXPECT_EQ(server.object("backups", "prod/full.bak"), content);
  EXPECT_EQ(result->retries, 3);
  EXPECT_EQ(server.stats().rejected, 0);
}

class StrictS3ServerTest : public UploadIntegrationTest {};

TEST_F(StrictS3ServerTest, RejectsAWrongSignature) {
  // Given a request signed with another secret, should answer SignatureDoesNotMatch.
  aws::S3Client client(context_for(server, "not-the-secret"));
  auto put = client.put_object("backups", "x", "hello");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().kind, ErrorKind::auth);
  EXPECT_NE(put.error().message.find("SignatureDoesNotMatch"), std::string::npos) << put.error().message;
}

TEST_F(StrictS3ServerTest, RejectsWrongContentMd5AndCrc32c) {
  // Given a body whose Content-MD5 or CRC32C is another body's, should answer BadDigest each time.
  aws::S3Client client(context_for(server, server.options().secret_access_key));
  auto bad_md5 = client.put_object("backups", "x", "hello", {.content_md5 = aws::md5_base64("hellO")});
  ASSERT_FALSE(bad_md5);
  EXPECT_NE(bad_md5.error().message.find("BadDigest"), std::string::npos) << bad_md5.error().message;
  auto bad_crc = client.put_object("backups", "x", "hello",
                                   {.checksum_crc32c = aws::crc32c_base64(aws::crc32c("hellO"))});
  ASSERT_FALSE(bad_crc);
  EXPECT_NE(bad_crc.error().message.find("BadDigest"), std::string::npos) << bad_crc.error().message;
  auto good = client.put_object("backups", "x", "hello",
                                {.content_md5 = aws::md5_base64("hello"),
                                 .checksum_crc32c = aws::crc32c_base64(aws::crc32c("hello"))});
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(server.object("backups", "x"), "hello");
}

TEST_F(StrictS3ServerTest, RejectsAPayloadThatIsNotTheSignedOne) {
  // Given x-amz-content-sha256 of one body and another body sent, should answer
  // XAmzContentSHA256Mismatch (the signature itself is valid).
  aws::SignableRequest signable;
  signable.method = "PUT";
  signable.host = fmt::format("127.0.0.1:{}", server.port());
  signable.target = "/backups/y";
  signable.payload_hash = aws::sha256_hex("the signed body");
  aws::Credentials creds{server.options().access_key_id, server.options().secret_access_key, {}, {}, "test"};
  aws::sign(signable, creds, {"us-east-1", "s3", std::chrono::system_clock::now()});
  aws::HttpRequest http;
  http.method = "PUT";
  http.url = server.endpoint() + "/backups/y";
  http.headers = signable.headers;
  http.body = "another body";
  aws::CurlTransport transport;
  auto response = transport.send(http);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->body.find("XAmzContentSHA256Mismatch"), std::string::npos) << response->body;
  EXPECT_FALSE(server.object("backups", "y"));
}

TEST_F(StrictS3ServerTest, RejectsACompletionWithAWrongPartChecksum) {
  // Given CompleteMultipartUpload naming a part with another CRC32C, should refuse (InvalidPart).
  aws::S3Client client(context_for(server, server.options().secret_access_key));
  auto id = client.create_multipart_upload("backups", "z", "CRC32C");
  ASSERT_TRUE(id);
  const std::string body = "part one";
  auto part = client.upload_part({"backups", "z", *id, 1, body, aws::md5_base64(body),
                                  aws::crc32c_base64(aws::crc32c(body))});
  ASSERT_TRUE(part) << part.error().message;
  auto wrong = *part;
  wrong.checksum_crc32c = aws::crc32c_base64(aws::crc32c("part 1"));
  auto done = client.complete_multipart_upload("backups", "z", *id, {wrong});
  ASSERT_FALSE(done);
  EXPECT_NE(done.error().message.find("InvalidPart"), std::string::npos) << done.error().message;
  auto ok = client.complete_multipart_upload("backups", "z", *id, {*part});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(server.object("backups", "z"), body);
}

}  // namespace
}  // namespace m2r
