#include "migrate/upload_engine.hpp"

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "aws/checksums.hpp"
#include "fakes/fake_object_store.hpp"
#include "fakes/memory_file_reader.hpp"
#include "fakes/memory_journal.hpp"
#include "support/wait_until.hpp"

namespace m2r {
namespace {

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t v = gen();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (std::size_t i = size - size % 8; i < size; ++i) out[i] = static_cast<char>(gen());
  return out;
}

class RecordingObserver final : public UploadObserver {
 public:
  void on_event(const UploadEvent& event) override {
    std::lock_guard lock(m_mutex);
    events.push_back(event);
  }
  std::vector<UploadEvent> of(UploadEvent::Kind kind) {
    std::lock_guard lock(m_mutex);
    std::vector<UploadEvent> out;
    for (const auto& e : events) if (e.kind == kind) out.push_back(e);
    return out;
  }
  std::vector<UploadEvent> events;

 private:
  std::mutex m_mutex;
};

class UploadEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(journal.begin_step("upload", {})); }

  UploadRequest request(int connections = 3) {
    UploadRequest r;
    r.bucket = "backups";
    r.key = "db/full.bak";
    r.connections = connections;
    r.part_size = 5 * k_mib;
    r.backoff_base = std::chrono::milliseconds(1);
    r.backoff_cap = std::chrono::milliseconds(5);
    return r;
  }

  Expected<UploadResult> upload(const UploadRequest& r, MemoryFileReader& file) {
    return upload_file(r, store, file, journal, observer);
  }

  FakeObjectStore store;
  MemoryJournal journal;
  RecordingObserver observer;
};

TEST_F(UploadEngineTest, UploadsAFileByteIdenticalInParallelParts) {
  // Given a 23 MiB file, 5 MiB parts and 3 connections, should store the same bytes in 5 parts,
  // journal every part with its checksums, and record the completed object.
  const std::string content = random_bytes(23 * k_mib + 17, 1);
  MemoryFileReader file(content);
  auto result = upload(request(), file);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
  EXPECT_EQ(result->parts, 5);
  EXPECT_EQ(result->parts_sent, 5);
  EXPECT_EQ(result->size, content.size());
  auto parts = journal.parts(result->upload_id);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 5U);
  for (const auto& p : *parts) {
    EXPECT_FALSE(p.checksum_crc32c.empty());
    EXPECT_TRUE(p.content_md5.empty()) << "no MD5 is computed by default";
    EXPECT_EQ(p.offset, static_cast<std::uint64_t>(p.part_number - 1) * 5 * k_mib);
  }
  auto step = journal.step("upload");
  ASSERT_TRUE(step && *step);
  EXPECT_TRUE((*step)->outputs["upload"]["completed"].get<bool>());
  EXPECT_EQ((*step)->outputs["upload"]["etag"], result->etag);
  EXPECT_TRUE(result->etag.ends_with("-5")) << result->etag;
  EXPECT_EQ(store.parts_with_content_md5(), 0) << "CRC32C alone by default (bench/README.md)";
}

TEST_F(UploadEngineTest, SendsContentMd5WhenAskedTo) {
  // Given content_md5 = true, every part should carry its Content-MD5 (the fake store checks
  // it as S3 does) and the journal should hold it.
  const std::string content = random_bytes(11 * k_mib + 3, 21);
  MemoryFileReader file(content);
  auto r = request();
  r.content_md5 = true;
  auto result = upload(r, file);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
  EXPECT_EQ(store.parts_with_content_md5(), 3);
  auto parts = journal.parts(result->upload_id);
  ASSERT_TRUE(parts);
  for (const auto& p : *parts) EXPECT_EQ(p.content_md5, aws::md5_base64(std::string_view(content).substr(p.offset, p.size)));
}

TEST_F(UploadEngineTest, WithoutContentMd5AnObjectWithNoReportedChecksumIsNotTrusted) {
  // Given a store that reports no CRC32C for the object (one that ignores additional checksums)
  // and no Content-MD5 sent, nothing has verified the bytes: should refuse with integrity and
  // name the setting that fixes it; with Content-MD5 sent, the ETag check should accept it.
  MemoryFileReader file(random_bytes(11 * k_mib, 22));
  store.tamper_head = [](ObjectInfo& info) { info.checksum_crc32c.clear(); };
  auto result = upload(request(), file);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::integrity);
  EXPECT_NE(result.error().message.find("reports no CRC32C, and no Content-MD5 was sent"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().hint.find("verify_object = \"etag\""), std::string::npos) << result.error().hint;

  MemoryJournal fresh;
  ASSERT_TRUE(fresh.begin_step("upload", {}));
  auto r = request();
  r.content_md5 = true;
  auto with_md5 = upload_file(r, store, file, fresh, observer);
  ASSERT_TRUE(with_md5) << with_md5.error().message;
}

TEST_F(UploadEngineTest, AcceptsTheCompositeWithoutItsPartCountAsMotoReportsIt) {
  // Given HeadObject reporting the composite CRC32C without "-<parts>" (moto 5.2.1 does,
  // docs/facts.md §9), should accept it, and refuse a wrong value in the same form.
  const std::string content = random_bytes(11 * k_mib + 5, 23);
  MemoryFileReader file(content);
  store.tamper_head = [](ObjectInfo& info) { info.checksum_crc32c = info.checksum_crc32c.substr(0, info.checksum_crc32c.find('-')); };
  auto result = upload(request(), file);
  ASSERT_TRUE(result) << result.error().message;

  MemoryJournal fresh;
  ASSERT_TRUE(fresh.begin_step("upload", {}));
  store.tamper_head = [](ObjectInfo& info) { info.checksum_crc32c = "AAAAAA=="; };
  auto wrong = upload_file(request(), store, file, fresh, observer);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::integrity);
}

TEST_F(UploadEngineTest, SmallAndEmptyFilesAreOnePart) {
  // Given a 10-byte file and an empty one, should upload each as a single part.
  MemoryFileReader small("0123456789");
  auto r1 = upload(request(), small);
  ASSERT_TRUE(r1) << r1.error().message;
  EXPECT_EQ(store.object("backups", "db/full.bak"), "0123456789");

  MemoryJournal fresh;
  ASSERT_TRUE(fresh.begin_step("upload", {}));
  MemoryFileReader empty("");
  auto r2 = upload_file(request(), store, empty, fresh, observer);
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(store.object("backups", "db/full.bak"), "");
  EXPECT_EQ(r2->parts, 1);
}

TEST_F(UploadEngineTest, RetriesTransientFaultsPerPart) {
  // Given part 2 failing twice with 503 SlowDown and part 4 timing out once, should retry those
  // parts only, report each retry, and still store identical bytes.
  const std::string content = random_bytes(22 * k_mib, 2);
  MemoryFileReader file(content);
  std::atomic<int> part2_failures{0};
  std::atomic<int> part4_failures{0};
  store.before_upload_part = [&](int part, int) -> Expected<void> {
    if (part == 2 && part2_failures++ < 2) return fail(ErrorKind::retryable, "SlowDown: Please reduce your request rate");
    if (part == 4 && part4_failures++ < 1) return fail(ErrorKind::timeout, "operation timed out");
    return {};
  };
  auto result = upload(request(), file);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
  EXPECT_EQ(result->retries, 3);
  auto retries = observer.of(UploadEvent::Kind::retry);
  ASSERT_EQ(retries.size(), 3U);
  std::multiset<int> parts;
  for (const auto& e : retries) parts.insert(e.part_number);
  EXPECT_EQ(parts, (std::multiset<int>{2, 2, 4}));
  EXPECT_NE(retries[0].reason, "");
}

TEST_F(UploadEngineTest, GivesUpAfterMaxAttemptsAndLeavesTheUploadForResume) {
  // Given part 3 failing every time, should fail naming part 3 after max_attempts, without
  // aborting the multipart upload (a later run resumes it).
  MemoryFileReader file(random_bytes(16 * k_mib, 3));
  store.before_upload_part = [&](int part, int) -> Expected<void> {
    if (part == 3) return fail(ErrorKind::retryable, "InternalError");
    return {};
  };
  auto r = request();
  r.max_attempts = 4;
  auto result = upload(r, file);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("part 3 failed after 4 attempt(s)"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(store.upload_ids().size(), 1U);
  EXPECT_EQ(store.completes(), 0);
}

TEST_F(UploadEngineTest, DoesNotRetryPermanentErrors) {
  // Given an access-denied answer, should stop at once: retrying cannot help.
  MemoryFileReader file(random_bytes(6 * k_mib, 4));
  store.before_upload_part = [&](int, int) -> Expected<void> {
    return fail(ErrorKind::auth, "AccessDenied");
  };
  auto result = upload(request(1), file);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::auth);
  EXPECT_EQ(store.upload_part_calls(), 1);
}

TEST_F(UploadEngineTest, ResumesUnderTheSameUploadIdSendingOnlyWhatIsMissing) {
  // Given a run that died after 3 parts were accepted, should resume the same upload id,
  // confirm those 3 with ListParts + local checksums, and send only the other parts.
  const std::string content = random_bytes(36 * k_mib, 5);
  MemoryFileReader file(content);
  store.before_upload_part = [&](int, int call) -> Expected<void> {
    if (call > 3) return fail(ErrorKind::fatal, "killed");
    return {};
  };
  auto first = upload(request(1), file);
  ASSERT_FALSE(first);
  const auto sent_first = store.parts_uploaded();
  ASSERT_EQ(sent_first.size(), 3U);
  const auto upload_id = store.upload_ids().at(0);

  store.before_upload_part = nullptr;
  auto second = upload(request(), file);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(second->upload_id, upload_id);
  EXPECT_EQ(second->parts_reused, 3);
  EXPECT_EQ(second->parts_sent, 5);
  const auto all = store.parts_uploaded();
  std::multiset<int> counts(all.begin(), all.end());
  for (int n = 1; n <= 8; ++n) EXPECT_EQ(counts.count(n), 1U) << "part " << n;
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
}

TEST_F(UploadEngineTest, AFileChangedSinceTheCrashStopsTheResumeInsteadOfUploadingIt) {
  // Given a crash after 2 parts and then a change inside part 1's bytes (same size), the resume
  // should stop with an integrity error naming the part and the new backup as the fix, send
  // nothing more and complete nothing: the object must never be a mix of two files.
  std::string content = random_bytes(16 * k_mib, 6);
  MemoryFileReader file(content);
  store.before_upload_part = [&](int, int call) -> Expected<void> {
    if (call > 2) return fail(ErrorKind::fatal, "killed");
    return {};
  };
  ASSERT_FALSE(upload(request(1), file));
  store.before_upload_part = nullptr;
  file.overwrite(100, "changed");
  auto second = upload(request(1), file);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::integrity);
  EXPECT_NE(second.error().message.find("part 1 "), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find("changed since the backup"), std::string::npos);
  EXPECT_NE(second.error().hint.find("--redo-from backup"), std::string::npos);
  EXPECT_EQ(store.completes(), 0);
  EXPECT_FALSE(store.object("backups", "db/full.bak"));
}

TEST_F(UploadEngineTest, AnUploadS3CompletedBeforeTheJournalKnewIsAdoptedNotStartedAgain) {
  // Given a kill right after S3 completed the upload but before the journal recorded it, the
  // resume should find the object by HEAD, check it is the journaled parts (size, composite
  // CRC32C), adopt it and send nothing.
  const std::string content = random_bytes(12 * k_mib, 17);
  MemoryFileReader file(content);
  auto first = upload(request(1), file);
  ASSERT_TRUE(first);
  // What the journal held before CompleteMultipartUpload's answer arrived.
  ASSERT_TRUE(journal.record_outputs("upload", {{"upload", {{"completed", false}, {"etag", ""}}}}));
  const int calls = store.upload_part_calls();
  auto second = upload(request(), file);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(second->etag, first->etag);
  EXPECT_EQ(store.upload_part_calls(), calls);
  EXPECT_EQ(store.completes(), 1);
  EXPECT_EQ(store.upload_ids().size(), 0u);  // no new multipart upload left behind
  const auto events = journal.events(0, 100).value();
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const JournalEvent& e) { return e.kind == "upload_adopted"; }));
}

TEST_F(UploadEngineTest, AnObjectOfOtherBytesAtTheKeyIsNotAdopted) {
  // Given the same kill, but the key now holds an object of other bytes (somebody else's
  // upload), the resume must not adopt it: it uploads the file again.
  const std::string content = random_bytes(12 * k_mib, 18);
  MemoryFileReader file(content);
  ASSERT_TRUE(upload(request(1), file));
  ASSERT_TRUE(journal.record_outputs("upload", {{"upload", {{"completed", false}, {"etag", ""}}}}));
  MemoryJournal other_journal;
  ASSERT_TRUE(other_journal.begin_step("upload", {}));
  const std::string other = random_bytes(12 * k_mib, 19);
  MemoryFileReader other_file(other);
  ASSERT_TRUE(upload_file(request(1), store, other_file, other_journal, observer));
  auto again = upload(request(), file);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
  EXPECT_EQ(store.completes(), 3);
}

TEST_F(UploadEngineTest, EtagModeChecksEachPartAgainstTheLocalMd5NotAgainstWhatTheStoreAnswered) {
  // Given an S3-compatible store that verifies no digest and damages part 2 on the way (its
  // ETag is then the damaged bytes' MD5), etag verification must fail naming part 2.
  const std::string content = random_bytes(12 * k_mib, 20);
  MemoryFileReader file(content);
  store.verifies_digests = false;
  store.damage_part = [](int part, std::string& bytes) {
    if (part == 2) bytes[10] = static_cast<char>(bytes[10] ^ 0x5a);
  };
  auto r = request(1);
  r.object_check = ObjectCheck::etag;
  auto result = upload(r, file);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::integrity);
  EXPECT_NE(result.error().message.find("part 2 "), std::string::npos) << result.error().message;
  EXPECT_EQ(store.completes(), 0);
}

TEST_F(UploadEngineTest, StartsOverCleanlyWhenTheUploadIdIsGone) {
  // Given a journaled upload id that S3 no longer knows (aborted or expired), should forget its
  // parts, create a new upload and send everything.
  const std::string content = random_bytes(12 * k_mib, 7);
  MemoryFileReader file(content);
  store.before_upload_part = [&](int, int call) -> Expected<void> {
    if (call > 1) return fail(ErrorKind::fatal, "killed");
    return {};
  };
  ASSERT_FALSE(upload(request(1), file));
  const auto old_id = store.upload_ids().at(0);
  store.forget_upload(old_id);
  store.before_upload_part = nullptr;

  auto second = upload(request(), file);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(second->upload_id, old_id);
  EXPECT_FALSE(second->resumed);
  EXPECT_EQ(second->parts_sent, 3);
  EXPECT_TRUE(journal.parts(old_id)->empty());
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
  auto events = journal.events(0, 100);
  ASSERT_TRUE(events);
  EXPECT_TRUE(std::any_of(events->begin(), events->end(),
                          [](const JournalEvent& e) { return e.kind == "upload_restarted"; }));
}

TEST_F(UploadEngineTest, ARerunAfterCompletionSendsNothing) {
  // Given an upload completed by a run killed before its step was marked done, should check the
  // object and send nothing.
  const std::string content = random_bytes(7 * k_mib, 8);
  MemoryFileReader file(content);
  auto first = upload(request(), file);
  ASSERT_TRUE(first);
  const int calls = store.upload_part_calls();
  auto second = upload(request(), file);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(store.upload_part_calls(), calls);
  EXPECT_EQ(second->etag, first->etag);
}

TEST_F(UploadEngineTest, AWrongObjectAfterCompletionIsAnError) {
  // Given HeadObject reporting a checksum other than the parts', should fail with integrity.
  MemoryFileReader file(random_bytes(11 * k_mib, 9));
  store.tamper_head = [](ObjectInfo& info) { info.checksum_crc32c = "AAAAAA==-3"; };
  auto result = upload(request(), file);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::integrity);
}

TEST_F(UploadEngineTest, AcceptsAFullObjectChecksumAndRejectsAWrongOne) {
  // Given HeadObject reporting the whole object's CRC32C (checksum type FULL_OBJECT) instead
  // of the composite, should accept the right one and refuse a wrong one.
  const std::string content = random_bytes(11 * k_mib + 5, 13);
  MemoryFileReader file(content);
  store.tamper_head = [&](ObjectInfo& info) { info.checksum_crc32c = aws::crc32c_base64(aws::crc32c(content)); };
  auto result = upload(request(), file);
  ASSERT_TRUE(result) << result.error().message;

  MemoryJournal fresh;
  ASSERT_TRUE(fresh.begin_step("upload", {}));
  store.tamper_head = [&](ObjectInfo& info) { info.checksum_crc32c = aws::crc32c_base64(aws::crc32c(content + "x")); };
  auto wrong = upload_file(request(), store, file, fresh, observer);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::integrity);
}

TEST_F(UploadEngineTest, EtagCheckIgnoresAWrongReportedChecksumButNotAWrongEtag) {
  // Given ObjectCheck::etag (a store whose CRC32C report is wrong, as moto's without its crc32c
  // module), should accept a wrong reported checksum with the right ETag, and refuse a wrong ETag.
  MemoryFileReader file(random_bytes(11 * k_mib, 14));
  auto r = request();
  r.object_check = ObjectCheck::etag;
  store.tamper_head = [](ObjectInfo& info) { info.checksum_crc32c = "qM3seg=="; };
  auto result = upload(r, file);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(store.parts_with_content_md5(), 3) << "the ETag check needs each part's Content-MD5 sent";

  MemoryJournal fresh;
  ASSERT_TRUE(fresh.begin_step("upload", {}));
  store.tamper_head = [](ObjectInfo& info) { info.etag = "00000000000000000000000000000000-3"; };
  auto wrong = upload_file(r, store, file, fresh, observer);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, ErrorKind::integrity);
}

TEST_F(UploadEngineTest, PartsTheBudgetCannotHoldWholeAreStreamedFromTheFile) {
  // Given a 10 MiB budget, 5 MiB parts and 8 connections (40 MiB of whole parts), should keep
  // all 8 connections, read each part from the file as it is sent, and store the same bytes.
  const std::string content = random_bytes(21 * k_mib + 3, 10);
  MemoryFileReader file(content);
  auto r = request(8);
  r.buffer_budget = 10 * k_mib;
  auto result = upload(r, file);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->connections, 8);
  EXPECT_EQ(result->buffering, PartBuffering::streamed);
  EXPECT_EQ(store.parts_streamed(), 5);
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
  EXPECT_EQ(journal.parts(result->upload_id)->size(), 5U);
}

TEST_F(UploadEngineTest, AStreamedPartChangedAfterItsChecksumIsChecksummedAgainAndResent) {
  // Given streamed parts and a writer that changes part 2 between its checksum and its send,
  // S3 refuses the bytes (BadDigest); the engine should checksum the part again and resend
  // it, so the object holds the file as it now is, and never a mismatched part.
  std::string content = random_bytes(15 * k_mib, 14);
  MemoryFileReader file(content);
  std::atomic<bool> changed{false};
  store.before_upload_part = [&](int part_number, int) -> Expected<void> {
    if (part_number == 2 && !changed.exchange(true)) file.overwrite(5 * k_mib + 100, "CHANGED BY THE WRITER");
    return {};
  };
  auto r = request(1);
  r.buffer_budget = 2 * k_mib;
  auto result = upload(r, file);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->buffering, PartBuffering::streamed);
  content.replace(5 * k_mib + 100, 21, "CHANGED BY THE WRITER");
  EXPECT_EQ(store.object("backups", "db/full.bak"), content);
  EXPECT_EQ(store.upload_part_calls(), 4);  // parts 1, 2 (refused), 2, 3
  EXPECT_EQ(result->retries, 0);            // not a transport fault: no backoff, no retry event
}

// Reads from memory until `good_reads` have been served, then fails every read.
class FailingFileReader final : public FileReader {
 public:
  FailingFileReader(std::string content, int good_reads) : m_file(std::move(content)), m_left(good_reads) {}
  Expected<std::uint64_t> size() override { return m_file.size(); }
  Expected<std::size_t> read_at(std::uint64_t offset, std::span<char> into) override {
    if (m_left.fetch_sub(1) <= 0) return fail(ErrorKind::fatal, "reading /backups/full.bak: Input/output error");
    return m_file.read_at(offset, into);
  }

 private:
  MemoryFileReader m_file;
  std::atomic<int> m_left;
};

TEST_F(UploadEngineTest, AReadErrorWhileAStreamedPartIsSentStopsTheUpload) {
  // Given streamed parts and a disk that fails once the first part has been checksummed (five
  // 1 MiB reads), the send's read fails: the upload should stop with that error, unretried,
  // and complete nothing.
  FailingFileReader file(random_bytes(15 * k_mib, 13), 5);
  auto r = request(1);
  r.buffer_budget = 2 * k_mib;
  auto result = upload_file(r, store, file, journal, observer);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::fatal);
  EXPECT_NE(result.error().message.find("Input/output error"), std::string::npos) << result.error().message;
  EXPECT_EQ(store.upload_part_calls(), 1);
  EXPECT_TRUE(store.parts_uploaded().empty());
  EXPECT_EQ(store.completes(), 0);
}

TEST_F(UploadEngineTest, ReportsProgressUpToTheWholeFile) {
  // Given a 4-part upload, should report part_done for each part and progress up to the size.
  const std::string content = random_bytes(17 * k_mib, 11);
  MemoryFileReader file(content);
  ASSERT_TRUE(upload(request(), file));
  EXPECT_EQ(observer.of(UploadEvent::Kind::part_done).size(), 4U);
  auto progress = observer.of(UploadEvent::Kind::progress);
  ASSERT_EQ(progress.size(), 4U);
  std::uint64_t max_done = 0;
  for (const auto& p : progress) {
    EXPECT_EQ(p.total, content.size());
    max_done = std::max(max_done, p.bytes_done);
  }
  EXPECT_EQ(max_done, content.size());
  EXPECT_EQ(observer.of(UploadEvent::Kind::completed).size(), 1U);
}

TEST_F(UploadEngineTest, StreamingFollowsAGrowingFileAndResendsRewrittenParts) {
  // Given a file written in 1 MiB appends while uploading, whose writer rewrites its first bytes
  // at the end (as a backup rewrites its header), should send parts as the file grows, re-send
  // the rewritten part, and store exactly the final file.
  const std::string content = random_bytes(27 * k_mib + 5, 12);
  MemoryFileReader file;
  std::atomic<bool> finished{false};
  std::atomic<int> parts_before_finish{0};
  std::thread writer([&] {
    for (std::size_t at = 0; at < content.size(); at += k_mib) {
      file.append(std::string_view(content).substr(at, k_mib));
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    // Wait until some parts went out before the header is rewritten, so the re-check matters.
    EXPECT_TRUE(test::wait_until([&] { return store.parts_uploaded().size() >= 2; }));
    parts_before_finish = static_cast<int>(store.parts_uploaded().size());
    file.overwrite(0, "HEADER-REWRITTEN");
    finished = true;
  });
  auto r = request();
  r.streaming = true;
  r.expected_size = 30 * k_mib;
  r.poll_interval = std::chrono::milliseconds(1);
  r.writer_finished = [&] { return finished.load(); };
  auto result = upload(r, file);
  writer.join();
  ASSERT_TRUE(result) << result.error().message;
  std::string final_content = content;
  final_content.replace(0, 16, "HEADER-REWRITTEN");
  EXPECT_EQ(store.object("backups", "db/full.bak"), final_content);
  EXPECT_EQ(result->parts, 6);
  EXPECT_EQ(result->parts_resent, 1);
  EXPECT_GE(parts_before_finish.load(), 2);
  const auto sent = store.parts_uploaded();
  EXPECT_EQ(std::count(sent.begin(), sent.end(), 1), 2);
}

TEST_F(UploadEngineTest, StreamingStopsWithoutAnObjectWhenTheWriterFails) {
  // Given a growing file whose writer fails half way (a BACKUP ending in an error), the
  // streaming upload should fail, leave the multipart upload for resume or abort, and never
  // complete an object from the partial file.
  const std::string content = random_bytes(12 * k_mib, 13);
  MemoryFileReader file;
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (std::size_t at = 0; at < content.size(); at += k_mib) {
      file.append(std::string_view(content).substr(at, k_mib));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    failed = true;
  });
  auto r = request();
  r.streaming = true;
  r.expected_size = 30 * k_mib;
  r.poll_interval = std::chrono::milliseconds(1);
  r.writer_finished = [&] { return failed.load(); };
  r.writer_failed = [&] { return failed.load(); };
  auto result = upload(r, file);
  writer.join();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("writer failed"), std::string::npos) << result.error().message;
  EXPECT_FALSE(store.object("backups", "db/full.bak").has_value());
  EXPECT_EQ(store.upload_ids().size(), 1U);
}

TEST_F(UploadEngineTest, AbortsAbandonedUploadsButKeepsTheOnesInUse) {
  // Given three uploads under a prefix, one still in use, should abort the other two only.
  auto a = store.create_multipart("backups", "db/a.bak");
  auto b = store.create_multipart("backups", "db/b.bak");
  auto c = store.create_multipart("backups", "other/c.bak");
  auto d = store.create_multipart("backups", "db/d.bak");
  ASSERT_TRUE(a && b && c && d);
  auto aborted = abort_abandoned_uploads(store, {.bucket = "backups", .prefix = "db/", .keep = {*b}});
  ASSERT_TRUE(aborted) << aborted.error().message;
  EXPECT_EQ(std::set<std::string>(aborted->begin(), aborted->end()), (std::set<std::string>{*a, *d}));
  const auto remaining = store.upload_ids();
  EXPECT_EQ(std::set<std::string>(remaining.begin(), remaining.end()), (std::set<std::string>{*b, *c}));
}

}  // namespace
TEST_F(UploadEngineTest, AnOrphanUploadOfTheSameKeyLeftByALostCreateIsAborted) {
  // Given an upload of this key that no journal knows (a CreateMultipartUpload whose answer was
  // lost and retried, or a kill before the id was journaled), the upload should abort it, and
  // leave only the completed object; uploads of other keys are not touched.
  const auto orphan = store.create_multipart("backups", "db/full.bak").value();
  const auto other = store.create_multipart("backups", "db/full.bak.other").value();
  const std::string content = random_bytes(6 * k_mib, 21);
  MemoryFileReader file(content);
  auto r = upload(request(), file);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(store.upload_ids(), (std::vector<std::string>{other}));
  EXPECT_NE(r->upload_id, orphan);
}

}  // namespace m2r
