// Uploads one file with the upload engine and prints one JSON line of figures.
//   upload_bench --endpoint URL --bucket B --key K --file PATH [--connections N] [--part-size-mib N]
//                [--streaming --expected-size BYTES] [--etag-check] [--content-md5]
//                (the writer is done when PATH.done exists; --content-md5 also sends each part's MD5)
// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; a throw-away SQLite journal
// next to the file.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "aws/aws_context.hpp"
#include "migrate/object_store_s3.hpp"
#include "migrate/sqlite_journal.hpp"
#include "migrate/upload_engine.hpp"

namespace {

class CountingObserver final : public m2r::UploadObserver {
 public:
  void on_event(const m2r::UploadEvent& e) override {
    if (e.kind == m2r::UploadEvent::Kind::retry) {
      std::fprintf(stderr, "retry part %d attempt %d: %s\n", e.part_number, e.attempt, e.reason.c_str());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint, bucket = "bench", key = "object", file;
  m2r::UploadRequest request;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--endpoint") endpoint = next();
    else if (a == "--bucket") bucket = next();
    else if (a == "--key") key = next();
    else if (a == "--file") file = next();
    else if (a == "--connections") request.connections = std::atoi(next().c_str());
    else if (a == "--part-size-mib") request.part_size = std::strtoull(next().c_str(), nullptr, 10) * m2r::k_mib;
    else if (a == "--streaming") request.streaming = true;
    else if (a == "--etag-check") request.object_check = m2r::ObjectCheck::etag;
    else if (a == "--content-md5") request.content_md5 = true;
    else if (a == "--expected-size") request.expected_size = std::strtoull(next().c_str(), nullptr, 10);
    else {
      std::fprintf(stderr, "upload_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  const char* key_id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (endpoint.empty() || file.empty() || !key_id || !secret) {
    std::fprintf(stderr, "upload_bench: --endpoint, --file and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are required\n");
    return 2;
  }
  request.bucket = bucket;
  request.key = key;
  const std::string done_marker = file + ".done";
  request.writer_finished = [&] { return std::filesystem::exists(done_marker); };

  m2r::aws::Credentials creds;
  creds.access_key_id = key_id;
  creds.secret_access_key = secret;
  creds.source = "environment";
  auto context = m2r::aws::AwsContext::for_endpoint(creds, "us-east-1", endpoint);
  m2r::S3ObjectStore store(context);

  if (request.streaming) {  // the writer may not have created the file yet
    while (!std::filesystem::exists(file)) usleep(1000);
  }
  auto reader = m2r::PosixFileReader::open(file);
  if (!reader) {
    std::fprintf(stderr, "upload_bench: %s\n", reader.error().message.c_str());
    return 1;
  }
  const std::string journal_path = fmt::format("{}.journal-{}", file, ::getpid());
  auto journal = m2r::SqliteJournal::open(journal_path);
  if (!journal || !(*journal)->begin_step("upload", {})) {
    std::fprintf(stderr, "upload_bench: cannot open a journal at %s\n", journal_path.c_str());
    return 1;
  }
  CountingObserver observer;
  auto result = m2r::upload_file(request, store, **reader, **journal, observer);
  journal->reset();
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::filesystem::remove(journal_path + suffix);
  if (!result) {
    std::fprintf(stderr, "upload_bench: %s (%s)\n", result.error().message.c_str(), result.error().hint.c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("{\"bytes\": %llu, \"seconds\": %.3f, \"mb_per_s\": %.1f, \"parts\": %d, \"part_size_mib\": %llu, "
              "\"connections\": %d, \"parts_streamed_from_file\": %s, \"retries\": %d, \"parts_resent\": %d, \"peak_rss_mib\": %.1f, \"content_md5\": %s, \"etag\": \"%s\", \"crc32c\": \"%s\"}\n",
              static_cast<unsigned long long>(result->size), result->seconds,
              static_cast<double>(result->size) / 1e6 / result->seconds, result->parts,
              static_cast<unsigned long long>(result->part_size / m2r::k_mib), result->connections,
              result->buffering == m2r::PartBuffering::streamed ? "true" : "false", result->retries,
              result->parts_resent, static_cast<double>(usage.ru_maxrss) / 1024.0,
              request.content_md5 ? "true" : "false", result->etag.c_str(), result->checksum_crc32c.c_str());
  return 0;
}
