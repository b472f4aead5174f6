#include "migrate/upload_engine.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "aws/checksums.hpp"
#include "core/json_fields.hpp"
#include "aws/md5_batcher.hpp"

namespace m2r {

namespace {

using SteadyClock = std::chrono::steady_clock;

bool is_transient(const Error& e) {
  // integrity: a BadDigest on a part means the bytes were damaged on the way; the buffer
  // we checksummed is intact, so sending it again is the fix.
  return e.kind == ErrorKind::retryable || e.kind == ErrorKind::timeout || e.kind == ErrorKind::integrity;
}

// What the engine knows about a part it has sent or verified.
struct PartState {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::string etag;
  std::string crc32c;   // base64
  std::string md5;      // base64; empty when the upload computes no MD5
  bool while_growing = false;  // sent while the writer was still writing
};

// A part S3 already holds from an earlier attempt, to be confirmed against the local bytes.
struct Candidate {
  std::uint64_t size = 0;
  std::string etag;
  std::string crc32c;
  std::string md5;  // base64; empty when only ListParts knew the part (then etag == hex md5)
  bool journaled = false;  // the journal recorded this part as read from the file
};

struct Task {
  PartRange range;
  std::optional<Candidate> candidate;
  bool while_growing = false;
  bool recheck = false;  // streaming: compare with what was sent, re-send if changed
};

class Engine {
 public:
  Engine(const UploadRequest& request, ObjectStore& store, FileReader& reader, Journal& journal,
         UploadObserver& observer)
      : m_req(request), m_store(store), m_reader(reader), m_journal(journal), m_observer(observer) {}

  Expected<UploadResult> run();

 private:
  Expected<void> resume_or_create(std::uint64_t size_now);
  // The upload id is gone because S3 completed it (a kill between CompleteMultipartUpload's
  // answer and the journal's record): adopts the object when it is the journaled parts.
  Expected<bool> adopt_completed(const std::string& upload_id, std::uint64_t part_size, std::uint64_t size_now);
  Expected<void> dispatch_all(std::uint64_t size);
  Expected<std::uint64_t> dispatch_streaming();
  Expected<void> verify_and_complete(std::uint64_t final_size);

  void start_workers(int count);
  void push(Task task);
  void wait_idle();
  void stop_workers();
  void worker();
  Expected<void> process(Task& task, char* buffer);
  struct PartSums {
    std::string crc32c;   // base64
    std::string md5_raw;  // empty when not asked for
  };
  // Reads the part (into `buffer` whole, or through it chunk by chunk when streamed) and
  // checksums it.
  Expected<PartSums> checksum_part(const PartRange& range, char* buffer, bool want_md5);
  Expected<std::string> send_part(int number, const PartBody& body);
  void set_error(Error e);
  std::optional<Error> error();

  void emit(UploadEvent event);  // fills the totals; called without m_mutex held
  void journal_part(const UploadPartRecord& record);

  const UploadRequest& m_req;
  ObjectStore& m_store;
  FileReader& m_reader;
  Journal& m_journal;
  UploadObserver& m_observer;

  UploadResult m_result;
  std::map<int, Candidate> m_candidates;

  std::mutex m_mutex;
  std::condition_variable m_cv_work;
  std::condition_variable m_cv_idle;
  std::condition_variable m_cv_stop;  // wakes workers sleeping in a backoff when the upload fails
  std::deque<Task> m_queue;
  int m_busy = 0;
  bool m_closing = false;
  std::optional<Error> m_error;
  std::map<int, PartState> m_parts;
  std::vector<std::thread> m_workers;

  std::mutex m_event_mutex;
  std::uint64_t m_bytes_done = 0;
  std::uint64_t m_total = 0;
  std::deque<std::pair<SteadyClock::time_point, std::uint64_t>> m_samples;  // (time, bytes_sent)

  std::mutex m_journal_mutex;  // Journal implementations need not be thread-safe

  // Content-MD5 is the engine's largest CPU cost. With AVX2 the parts in flight are hashed
  // side by side (several times cheaper per byte); without it each worker hashes its own part
  // with OpenSSL while reading it.
  const bool m_md5_in_lanes = aws::md5_lanes_accelerated();
  aws::Md5Batcher m_md5;
  // MD5 is computed only when it is sent or is the object's check.
  const bool m_want_md5 = m_req.content_md5 || m_req.object_check == ObjectCheck::etag;
};

Expected<UploadResult> Engine::run() {
  const auto started = SteadyClock::now();
  const std::uint64_t size_now = M2R_TRY(m_reader.size());
  M2R_TRY(resume_or_create(size_now));
  if (!m_result.etag.empty()) return m_result;  // already completed by an earlier attempt

  m_total = size_now;
  emit({.kind = UploadEvent::Kind::started, .reason = m_result.resumed ? "resumed" : "new"});
  // A stop: no new part starts (set_error empties the queue), parts in flight are cancelled
  // by their transfer's `cancelled` poll, and what was acknowledged stays journaled.
  const auto stop_registration = on_stop(m_req.stop, [this] {
    set_error(interrupted_error("the upload was asked to stop", "run again: the upload continues"));
  });
  start_workers(m_result.connections);
  std::uint64_t final_size = size_now;
  Expected<void> dispatched;
  if (m_req.streaming) {
    auto size = dispatch_streaming();
    if (size) final_size = *size; else dispatched = tl::unexpected(size.error());
  } else {
    dispatched = dispatch_all(size_now);
  }
  if (!dispatched) set_error(dispatched.error());
  stop_workers();
  if (stop_requested(m_req.stop)) {
    std::size_t acknowledged = 0;
    {
      std::lock_guard lock(m_mutex);
      acknowledged = m_parts.size();
    }
    return tl::unexpected(interrupted_error(
        fmt::format("the upload of s3://{}/{} stopped with {} part(s) on S3 and in the journal (upload id {}); the "
                    "parts in flight were cancelled",
                    m_req.bucket, m_req.key, acknowledged, m_result.upload_id),
        "run again: the upload continues the same upload id from the parts recorded"));
  }
  if (!dispatched) return tl::unexpected(dispatched.error());
  if (auto e = error()) return tl::unexpected(*e);

  M2R_TRY(verify_and_complete(final_size));
  m_result.seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  emit({.kind = UploadEvent::Kind::completed});
  return m_result;
}

Expected<void> Engine::resume_or_create(std::uint64_t size_now) {
  const std::uint64_t plan_size = m_req.streaming ? std::max(m_req.expected_size, size_now) : size_now;
  const PartPlan plan = M2R_TRY(plan_parts({.file_size = plan_size,
                                             .requested_part_size = m_req.part_size,
                                             .connections = m_req.connections,
                                             .buffer_budget = m_req.buffer_budget}));
  m_result.part_size = plan.part_size;
  m_result.connections = plan.connections;
  m_result.buffering = plan.buffering;

  const auto step = M2R_TRY(m_journal.step(m_req.step));
  if (!step) {
    return fail(ErrorKind::fatal, fmt::format("journal: step '{}' does not exist", m_req.step));
  }
  const JsonSource source = journal_outputs(m_req.step);
  const nlohmann::json prior = M2R_TRY(object_field_or(step->outputs, "upload", source));
  const std::string prior_id = M2R_TRY(string_field_or(prior, "upload_id", "", source));
  const std::string prior_bucket = M2R_TRY(string_field_or(prior, "bucket", "", source));
  const std::string prior_key = M2R_TRY(string_field_or(prior, "key", "", source));
  const std::string prior_etag = M2R_TRY(string_field_or(prior, "etag", "", source));
  const bool prior_completed = M2R_TRY(bool_field_or(prior, "completed", false, source));
  const auto prior_part_size_signed = M2R_TRY(int_field_or(prior, "part_size", 0, source));
  const bool same_target = prior_bucket == m_req.bucket && prior_key == m_req.key;

  if (!prior_id.empty() && same_target && prior_completed) {
    // Completed by an attempt that was killed before the step was marked done: check the object.
    auto head = m_store.head_object(m_req.bucket, m_req.key);
    if (head && head->etag == prior_etag && head->size == size_now && !m_req.streaming) {
      m_result.upload_id = prior_id;
      m_result.etag = head->etag;
      m_result.checksum_crc32c = head->checksum_crc32c;
      m_result.size = head->size;
      m_result.resumed = true;
      return {};
    }
  }

  if (!prior_id.empty() && same_target && !prior_completed) {
    const std::uint64_t prior_part_size = static_cast<std::uint64_t>(std::max<std::int64_t>(prior_part_size_signed, 0));
    const bool part_size_ok = prior_part_size >= k_min_part_size && prior_part_size <= k_max_part_size &&
                              (m_req.streaming || prior_part_size >= minimum_part_size(size_now));
    auto listed = m_store.list_parts(m_req.bucket, m_req.key, prior_id);
    if (!listed && listed.error().kind != ErrorKind::not_found) return tl::unexpected(listed.error());
    if (!listed && !m_req.streaming && part_size_ok && M2R_TRY(adopt_completed(prior_id, prior_part_size, size_now))) {
      return {};
    }
    if (listed && part_size_ok) {
      m_result.upload_id = prior_id;
      m_result.part_size = prior_part_size;
      m_result.buffering = buffering_for(prior_part_size, m_result.connections, m_req.buffer_budget);
      m_result.resumed = true;
      std::map<int, UploadPartRecord> journaled;
      for (auto& rec : M2R_TRY(m_journal.parts(prior_id))) journaled[rec.part_number] = rec;
      for (const auto& p : *listed) {
        Candidate c{p.size, p.etag, p.checksum_crc32c, {}};
        if (auto it = journaled.find(p.part_number); it != journaled.end()) {
          if (it->second.etag != p.etag || it->second.size != p.size ||
              (!p.checksum_crc32c.empty() && it->second.checksum_crc32c != p.checksum_crc32c)) {
            continue;  // S3 holds something else than the journal says: send again
          }
          c.crc32c = it->second.checksum_crc32c;
          c.md5 = it->second.content_md5;
          c.journaled = true;
        } else if (p.checksum_crc32c.empty()) {
          continue;  // not journaled and no checksum to confirm it by
        }
        m_candidates[p.part_number] = c;
      }
      M2R_TRY(m_journal.append_event(m_req.step, "upload_resumed",
                                     {{"upload_id", prior_id}, {"parts_on_s3", listed->size()}}));
      return {};
    }
    // The upload id is gone (aborted, expired) or its part size no longer fits: start over.
    if (listed) (void)m_store.abort(m_req.bucket, m_req.key, prior_id);
    M2R_TRY(m_journal.forget_parts(prior_id));
    M2R_TRY(m_journal.append_event(m_req.step, "upload_restarted",
                                   {{"upload_id", prior_id},
                                    {"reason", listed ? "part size no longer fits" : listed.error().message}}));
  } else if (!prior_id.empty() && !same_target && !prior_completed) {
    (void)m_store.abort(prior_bucket, prior_key, prior_id);  // best effort
  }

  m_result.upload_id = M2R_TRY(m_store.create_multipart(m_req.bucket, m_req.key));
  // Uploads of this key that are not this one were left by a create whose answer was lost (and
  // retried) or by an attempt killed before its id reached the journal: abort them, so nothing
  // is left behind (the journal's lock keeps any other run of this migration out).
  if (auto open = m_store.list_multipart_uploads(m_req.bucket, m_req.key)) {
    for (const auto& u : *open) {
      if (u.key != m_req.key || u.upload_id == m_result.upload_id) continue;
      if (m_store.abort(m_req.bucket, m_req.key, u.upload_id)) {
        M2R_TRY(m_journal.append_event(m_req.step, "upload_orphan_aborted", {{"upload_id", u.upload_id}}));
      }
    }
  }
  M2R_TRY(m_journal.record_outputs(m_req.step, {{"upload",
                                                 {{"bucket", m_req.bucket},
                                                  {"key", m_req.key},
                                                  {"upload_id", m_result.upload_id},
                                                  {"part_size", m_result.part_size},
                                                  {"completed", false},
                                                  {"etag", ""}}}}));
  return {};
}

Expected<bool> Engine::adopt_completed(const std::string& upload_id, std::uint64_t part_size, std::uint64_t size_now) {
  auto head = m_store.head_object(m_req.bucket, m_req.key);
  if (!head) {
    if (head.error().kind == ErrorKind::not_found) return false;
    return tl::unexpected(head.error());
  }
  if (head->size != size_now) return false;
  std::map<int, UploadPartRecord> journaled;
  for (auto& rec : M2R_TRY(m_journal.parts(upload_id))) journaled[rec.part_number] = rec;
  std::vector<std::string> crcs, md5s;
  for (const auto& range : M2R_TRY(part_ranges(size_now, part_size))) {
    const auto it = journaled.find(range.number);
    if (it == journaled.end() || it->second.size != range.size || it->second.offset != range.offset) return false;
    crcs.push_back(it->second.checksum_crc32c);
    if (!it->second.content_md5.empty()) {
      md5s.push_back(aws::hex_encode(aws::base64_decode(it->second.content_md5).value_or("")));
    }
  }
  // The object is these parts when S3's composite CRC32C (with or without its part count, as
  // moto reports it) or, with every part's MD5 known, its ETag is the one the parts make.
  const std::string want_crc = aws::composite_crc32c(crcs);
  const std::string& reported = head->checksum_crc32c;
  const bool crc_ok = !reported.empty() && !want_crc.empty() &&
                      (reported == want_crc || reported == want_crc.substr(0, want_crc.find('-')));
  const bool etag_ok = md5s.size() == crcs.size() && head->etag == aws::multipart_etag(md5s);
  if (!crc_ok && !etag_ok) return false;
  m_result.upload_id = upload_id;
  m_result.etag = head->etag;
  m_result.checksum_crc32c = reported.empty() ? want_crc : reported;
  m_result.size = head->size;
  m_result.parts = static_cast<int>(crcs.size());
  m_result.resumed = true;
  M2R_TRY(m_journal.record_outputs(m_req.step, {{"upload",
                                                 {{"completed", true},
                                                  {"etag", m_result.etag},
                                                  {"checksum_crc32c", m_result.checksum_crc32c},
                                                  {"size", head->size}}}}));
  M2R_TRY(m_journal.append_event(m_req.step, "upload_adopted",
                                 {{"upload_id", upload_id}, {"etag", head->etag}, {"parts", crcs.size()}}));
  return true;
}

Expected<void> Engine::dispatch_all(std::uint64_t size) {
  for (const auto& range : M2R_TRY(part_ranges(size, m_result.part_size))) {
    Task t{range, std::nullopt, false, false};
    if (auto it = m_candidates.find(range.number); it != m_candidates.end()) t.candidate = it->second;
    push(std::move(t));
  }
  wait_idle();
  return {};
}

Expected<std::uint64_t> Engine::dispatch_streaming() {
  if (!m_req.writer_finished) {
    return fail(ErrorKind::fatal, "streaming upload without a writer_finished callback");
  }
  const std::uint64_t part_size = m_result.part_size;
  int next = 1;
  std::uint64_t final_size = 0;
  for (;;) {
    if (error()) return std::uint64_t{0};
    // Ask "finished?" before measuring: a size read after the writer said so is final.
    const bool finished = m_req.writer_finished();
    if (m_req.writer_failed && m_req.writer_failed()) {
      return fail(ErrorKind::fatal, "the file's writer failed; the upload stops without completing the object",
                  "fix what made the writer fail and run again: the upload resumes or starts over");
    }
    const std::uint64_t size = M2R_TRY(m_reader.size());
    {
      std::lock_guard lock(m_event_mutex);
      m_total = size;
    }
    if (finished) {
      final_size = size;
      break;
    }
    while (static_cast<std::uint64_t>(next) * part_size <= size) {
      if (static_cast<std::uint64_t>(next) > k_max_parts) {
        return fail(ErrorKind::invalid_input,
                    fmt::format("the growing file passed 10,000 parts of {} MiB", part_size / k_mib),
                    "give the upload the backup's expected size so it chooses larger parts");
      }
      Task t{part_at(next, part_size, size), std::nullopt, true, false};
      if (auto it = m_candidates.find(next); it != m_candidates.end()) t.candidate = it->second;
      push(std::move(t));
      ++next;
    }
    m_req.clock->sleep_for(m_req.poll_interval);
  }

  const auto ranges = M2R_TRY(part_ranges(final_size, part_size));
  for (const auto& range : ranges) {
    if (range.number < next) continue;
    Task t{range, std::nullopt, false, false};
    if (auto it = m_candidates.find(range.number); it != m_candidates.end()) t.candidate = it->second;
    push(std::move(t));
  }
  wait_idle();
  if (error()) return final_size;

  // The writer may have rewritten bytes it had already written (a backup rewrites its header
  // at the end): check every part that went out while it was writing against the final file.
  std::vector<Task> rechecks;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [number, state] : m_parts) {
      if (state.while_growing && number <= static_cast<int>(ranges.size())) {
        rechecks.push_back(Task{ranges[static_cast<std::size_t>(number - 1)], std::nullopt, false, true});
      }
    }
  }
  if (!rechecks.empty()) emit({.kind = UploadEvent::Kind::verifying});
  for (auto& t : rechecks) push(std::move(t));
  wait_idle();
  return final_size;
}

Expected<void> Engine::verify_and_complete(std::uint64_t final_size) {
  emit({.kind = UploadEvent::Kind::verifying});
  const auto ranges = M2R_TRY(part_ranges(final_size, m_result.part_size));
  const auto listed = M2R_TRY(m_store.list_parts(m_req.bucket, m_req.key, m_result.upload_id));
  std::map<int, UploadedPart> on_s3;
  for (const auto& p : listed) on_s3[p.part_number] = p;

  std::vector<CompletedPart> completed;
  std::vector<std::string> etags;
  std::vector<std::string> crcs;
  for (const auto& range : ranges) {
    auto local = m_parts.find(range.number);
    if (local == m_parts.end() || local->second.size != range.size) {
      return fail(ErrorKind::fatal, fmt::format("upload: part {} was never sent", range.number));
    }
    auto remote = on_s3.find(range.number);
    if (remote == on_s3.end()) {
      return fail(ErrorKind::integrity,
                  fmt::format("S3 does not list part {} of upload {} after it was accepted", range.number,
                              m_result.upload_id),
                  "run the upload again: missing parts are sent again");
    }
    const auto& r = remote->second;
    // With MD5s computed here, S3's part ETag (the part's MD5 without SSE-KMS) is checked
    // against the local bytes' MD5, not against the ETag S3 itself answered.
    const std::string local_md5_hex =
        local->second.md5.empty() ? std::string() : aws::hex_encode(aws::base64_decode(local->second.md5).value_or(""));
    if (m_want_md5 && !local_md5_hex.empty() && r.etag != local_md5_hex) {
      return fail(ErrorKind::integrity,
                  fmt::format("part {} on S3 has ETag {}, but the local part's MD5 is {}: S3 holds other bytes",
                              range.number, r.etag, local_md5_hex),
                  "run the upload again: differing parts are sent again");
    }
    if (r.size != range.size || r.etag != local->second.etag ||
        (!r.checksum_crc32c.empty() && r.checksum_crc32c != local->second.crc32c)) {
      return fail(ErrorKind::integrity,
                  fmt::format("part {} on S3 (size {}, ETag {}, CRC32C {}) differs from the local part "
                              "(size {}, ETag {}, CRC32C {})",
                              range.number, r.size, r.etag, r.checksum_crc32c, range.size,
                              local->second.etag, local->second.crc32c),
                  "run the upload again: differing parts are sent again");
    }
    completed.push_back({range.number, local->second.etag, local->second.crc32c});
    etags.push_back(m_want_md5 && !local_md5_hex.empty() ? local_md5_hex : local->second.etag);
    crcs.push_back(local->second.crc32c);
  }

  const std::string etag = M2R_TRY(m_store.complete(m_req.bucket, m_req.key, m_result.upload_id, completed));
  const ObjectInfo head = M2R_TRY(m_store.head_object(m_req.bucket, m_req.key));
  const std::string want_crc = aws::composite_crc32c(crcs);
  // S3 reports a multipart object's CRC32C as the composite "<crc of part crcs>-<parts>"
  // (checksum type COMPOSITE, the default) or as the CRC32C of the whole object (FULL_OBJECT):
  // both are computed from the parts' CRCs without reading the file.
  std::uint32_t whole = 0;
  for (std::size_t i = 0; i < crcs.size(); ++i) {
    const std::string raw = aws::base64_decode(crcs[i]).value_or(std::string(4, '\0'));
    std::uint32_t part_crc = 0;
    for (unsigned char c : raw) part_crc = (part_crc << 8) | c;
    whole = i == 0 ? part_crc : aws::crc32c_combine(whole, part_crc, ranges[i].size);
  }
  const std::string want_full = aws::crc32c_base64(whole);
  const std::string reported = head.checksum_crc32c;
  if (reported.empty() && !m_want_md5) {
    // Without a reported CRC32C the object's ETag is all there is, and with no Content-MD5 sent
    // nothing tied the parts' ETags to the local bytes.
    return fail(ErrorKind::integrity,
                fmt::format("s3://{}/{} after completion reports no CRC32C, and no Content-MD5 was sent: "
                            "nothing has verified the object against the local file",
                            m_req.bucket, m_req.key),
                "for an S3-compatible store that ignores x-amz-checksum-crc32c, set [upload] verify_object = "
                "\"etag\": it sends each part's Content-MD5 and checks the object's ETag");
  }
  // The CRC32C holds whatever the encryption; the ETag is MD5-based only without SSE-KMS, so it
  // is the check when no checksum is reported. A value with a part count must be the composite;
  // one without may be the full-object CRC32C or, as moto 5.2.1 reports a COMPOSITE checksum,
  // the composite without its "-<parts>" (docs/facts.md §9). Either is a CRC32C of these bytes.
  const bool by_etag = m_req.object_check == ObjectCheck::etag || reported.empty();
  const bool crc_ok = by_etag || (reported.find('-') != std::string::npos
                                      ? reported == want_crc
                                      : reported == want_full || reported == want_crc.substr(0, want_crc.find('-')));
  const bool etag_ok = !by_etag || head.etag == aws::multipart_etag(etags);
  if (head.size != final_size || !crc_ok || !etag_ok) {
    return fail(ErrorKind::integrity,
                fmt::format("s3://{}/{} after completion: size {}, ETag {}, CRC32C {}; expected size {}, "
                            "ETag {}, CRC32C {}",
                            m_req.bucket, m_req.key, head.size, head.etag, reported, final_size,
                            aws::multipart_etag(etags), want_crc),
                "upload again; if it repeats, the copy on S3 cannot be trusted");
  }
  m_result.etag = head.etag.empty() ? etag : head.etag;
  m_result.checksum_crc32c = head.checksum_crc32c.empty() ? want_crc : head.checksum_crc32c;
  m_result.size = final_size;
  m_result.parts = static_cast<int>(ranges.size());
  M2R_TRY(m_journal.record_outputs(m_req.step, {{"upload",
                                                 {{"completed", true},
                                                  {"etag", m_result.etag},
                                                  {"checksum_crc32c", m_result.checksum_crc32c},
                                                  {"size", final_size}}}}));
  return {};
}

void Engine::start_workers(int count) {
  for (int i = 0; i < count; ++i) m_workers.emplace_back([this] { worker(); });
}

void Engine::push(Task task) {
  {
    std::lock_guard lock(m_mutex);
    m_queue.push_back(std::move(task));
  }
  m_cv_work.notify_one();
}

void Engine::wait_idle() {
  std::unique_lock lock(m_mutex);
  m_cv_idle.wait(lock, [&] { return (m_queue.empty() && m_busy == 0) || m_error; });
}

void Engine::stop_workers() {
  {
    std::lock_guard lock(m_mutex);
    m_closing = true;
  }
  m_cv_work.notify_all();
  for (auto& t : m_workers) t.join();
  m_workers.clear();
}

void Engine::set_error(Error e) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_error) m_error = std::move(e);
    m_queue.clear();
  }
  m_cv_idle.notify_all();
  m_cv_work.notify_all();
  m_cv_stop.notify_all();
}

std::optional<Error> Engine::error() {
  std::lock_guard lock(m_mutex);
  return m_error;
}

void Engine::worker() {
  // One buffer per worker, allocated once: memory is connections x part size whatever the file.
  std::unique_ptr<char[]> buffer;
  for (;;) {
    Task task;
    {
      std::unique_lock lock(m_mutex);
      m_cv_work.wait(lock, [&] { return !m_queue.empty() || m_closing || m_error; });
      if (m_error || m_queue.empty()) return;
      task = std::move(m_queue.front());
      m_queue.pop_front();
      ++m_busy;
    }
    // Nothing leaves a worker as an exception (that would be std::terminate): it becomes the
    // upload's error like any failed part.
    Expected<void> done;
    try {
      if (!buffer) {
        buffer.reset(new char[m_result.buffering == PartBuffering::whole_part ? m_result.part_size : k_stream_chunk]);
      }
      done = process(task, buffer.get());
    } catch (const std::exception& e) {
      done = fail(ErrorKind::fatal, fmt::format("part {}: {}", task.range.number, e.what()),
                  "run again: the upload resumes; if it repeats, please report it");
    }
    if (!done) set_error(std::move(done.error()));
    {
      std::lock_guard lock(m_mutex);
      --m_busy;
    }
    m_cv_idle.notify_all();
  }
}

Expected<Engine::PartSums> Engine::checksum_part(const PartRange& range, char* buffer, bool want_md5) {
  // Read and checksum in 1 MiB steps, each step hashed while it is still in the CPU cache: one
  // pass over memory instead of three (read, CRC32C, MD5). With AVX2 the MD5 goes through the
  // lanes beside the other workers' parts: a whole part at once after reading it, a streamed
  // part step by step (each step but the last is whole 64-byte blocks).
  constexpr std::size_t k_step = k_stream_chunk;
  const bool whole = m_result.buffering == PartBuffering::whole_part;
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md5_ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool md5_in_lanes = want_md5 && m_md5_in_lanes;
  const bool md5_while_reading = want_md5 && !md5_in_lanes;
  if (md5_while_reading) EVP_DigestInit_ex(md5_ctx.get(), EVP_md5(), nullptr);
  aws::Md5LaneState lane_state;
  std::string lane_tail;
  std::uint32_t crc_value = 0;
  for (std::uint64_t done = 0; done < range.size;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(k_step, range.size - done));
    char* into = whole ? buffer + done : buffer;
    const std::size_t got = M2R_TRY(m_reader.read_at(range.offset + done, std::span<char>(into, want)));
    if (got != want) {
      return fail(ErrorKind::fatal, fmt::format("the file ended at {} bytes inside part {} ({} to {})",
                                                range.offset + done + got, range.number, range.offset,
                                                range.offset + range.size));
    }
    const std::string_view step(into, got);
    crc_value = aws::crc32c(step, crc_value);
    if (md5_while_reading) EVP_DigestUpdate(md5_ctx.get(), step.data(), step.size());
    if (md5_in_lanes && !whole) {
      const std::size_t blocks = got / aws::k_md5_block * aws::k_md5_block;
      m_md5.update(lane_state, step.substr(0, blocks));
      lane_tail = step.substr(blocks);  // non-empty on the last step only
    }
    done += got;
  }
  PartSums sums{aws::crc32c_base64(crc_value), {}};
  if (md5_while_reading) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(md5_ctx.get(), digest, &length);
    sums.md5_raw.assign(reinterpret_cast<const char*>(digest), length);
  } else if (md5_in_lanes && whole) {
    sums.md5_raw = m_md5.digest(std::string_view(buffer, range.size));
  } else if (md5_in_lanes) {
    sums.md5_raw = aws::md5_lane_finish(lane_state, lane_tail);
  }
  return sums;
}

Expected<void> Engine::process(Task& task, char* buffer) {
  const PartRange& range = task.range;
  const bool whole = m_result.buffering == PartBuffering::whole_part;
  // A re-check needs the CRC32C only. A part that changed needs its MD5 too: from the buffer
  // that holds it whole, or by reading a streamed part again.
  PartSums sums = M2R_TRY(checksum_part(range, buffer, m_want_md5 && !task.recheck));
  if (task.recheck) {
    {
      std::lock_guard lock(m_mutex);
      const PartState& sent = m_parts.at(range.number);
      if (sent.size == range.size && sent.crc32c == sums.crc32c) return {};
    }
    if (!m_want_md5) {
      // The CRC32C just computed is all a changed part needs.
    } else if (whole) {
      const std::string_view bytes(buffer, range.size);
      sums.md5_raw = m_md5_in_lanes ? m_md5.digest(bytes) : aws::md5_raw(bytes);
    } else {
      sums = M2R_TRY(checksum_part(range, buffer, true));
    }
  }
  std::string crc = sums.crc32c;
  const std::string& md5_raw = sums.md5_raw;
  std::string md5 = m_want_md5 ? aws::base64_encode(md5_raw) : std::string();

  if (task.candidate) {
    // A part on S3 is the local part when its size and CRC32C match (S3 verified the CRC32C when
    // it took the part) and, when this upload computes MD5s, its MD5 or ETag as well.
    const Candidate& c = *task.candidate;
    const bool same = c.size == range.size && c.crc32c == crc &&
                      (!m_want_md5 || (c.md5.empty() ? c.etag == aws::hex_encode(md5_raw) : c.md5 == md5));
    if (same) {
      {
        std::lock_guard lock(m_mutex);
        m_parts[range.number] = PartState{range.offset, range.size, c.etag, crc, md5, task.while_growing};
        ++m_result.parts_reused;
      }
      if (c.md5.empty()) {
        journal_part({m_result.upload_id, range.number, range.offset, range.size, c.etag, crc, md5});
      }
      {
        std::lock_guard lock(m_event_mutex);
        m_bytes_done += range.size;
      }
      emit({.kind = UploadEvent::Kind::part_done, .part_number = range.number, .reused = true});
      return {};
    }
    if (c.journaled && !m_req.streaming && c.size == range.size) {
      // The same bytes of a finished backup file no longer give the checksum they had when
      // this part was uploaded from them: the file was changed after the backup (its size and
      // time were checked before). Uploading the rest would assemble an object that is neither.
      return fail(ErrorKind::integrity,
                  fmt::format("part {} of {} (bytes {}..{}) is not what was uploaded from it before: CRC32C {} now, "
                              "{} when it was sent; the file changed since the backup",
                              range.number, m_req.key, range.offset, range.offset + range.size, crc, c.crc32c),
                  "take a new backup and upload that: `mssql2rds run --redo-from backup`");
    }
  }

  PartBody body{std::string_view(buffer, whole ? range.size : 0), md5, crc};
  if (m_req.stop != nullptr) body.cancelled = [stop = m_req.stop] { return stop->requested(); };
  if (!whole) {
    // Sent as read, a second time, from the file. S3 verifies that what arrives is what was
    // checksummed (Content-MD5, CRC32C): bytes changed in between (a writer still at work)
    // are refused (BadDigest, ErrorKind::integrity), never stored; below, the part is then
    // checksummed again and re-sent.
    body.streamed_size = range.size;
    body.read = [this, &range](std::uint64_t offset, std::span<char> into) {
      return m_reader.read_at(range.offset + offset, into.first(static_cast<std::size_t>(
                                                        std::min<std::uint64_t>(into.size(), range.size - offset))));
    };
  }
  auto sent = send_part(range.number, body);
  for (int attempt = 2; !whole && !sent && sent.error().kind == ErrorKind::integrity && attempt <= m_req.max_attempts;
       ++attempt) {
    const PartSums again = M2R_TRY(checksum_part(range, buffer, m_want_md5));
    crc = again.crc32c;
    md5 = m_want_md5 ? aws::base64_encode(again.md5_raw) : std::string();
    body.content_md5 = md5;
    body.checksum_crc32c = crc;
    sent = send_part(range.number, body);
  }
  if (!sent) return tl::unexpected(sent.error());
  const std::string etag = *sent;
  journal_part({m_result.upload_id, range.number, range.offset, range.size, etag, crc, md5});
  {
    std::lock_guard lock(m_mutex);
    m_parts[range.number] = PartState{range.offset, range.size, etag, crc, md5, task.while_growing};
    ++m_result.parts_sent;
    m_result.bytes_sent += range.size;
    if (task.recheck) ++m_result.parts_resent;
  }
  {
    std::lock_guard lock(m_event_mutex);
    // A re-sent part was counted once already.
    if (!task.recheck) m_bytes_done += range.size;
    m_samples.emplace_back(SteadyClock::now(), range.size);
  }
  emit({.kind = UploadEvent::Kind::part_done, .part_number = range.number});
  return {};
}

Expected<std::string> Engine::send_part(int number, const PartBody& body) {
  thread_local std::minstd_rand random(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    auto etag = m_store.upload_part(m_req.bucket, m_req.key, m_result.upload_id, number, body);
    if (etag) return etag;
    if (stop_requested(m_req.stop)) return tl::unexpected(etag.error());  // cancelled: no retry
    // A streamed part's BadDigest is retried by process(), which checksums it again first.
    const bool checksum_again = body.read && etag.error().kind == ErrorKind::integrity;
    if (!is_transient(etag.error()) || attempt >= m_req.max_attempts || checksum_again) {
      Error e = etag.error();
      e.message = fmt::format("part {} failed after {} attempt(s): {}", number, attempt, e.message);
      return tl::unexpected(std::move(e));
    }
    {
      std::lock_guard lock(m_mutex);
      ++m_result.retries;
    }
    emit({.kind = UploadEvent::Kind::retry, .part_number = number, .attempt = attempt,
          .reason = etag.error().message});
    // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
    const auto cap = std::min<std::int64_t>(m_req.backoff_cap.count(),
                                            m_req.backoff_base.count() << std::min(attempt, 20));
    const auto wait = std::chrono::milliseconds(
        std::uniform_int_distribution<std::int64_t>(0, std::max<std::int64_t>(cap, 1))(random));
    std::unique_lock lock(m_mutex);
    if (m_cv_stop.wait_for(lock, wait, [&] { return m_error.has_value(); })) {
      return tl::unexpected(*m_error);  // another part failed for good: stop
    }
  }
}

void Engine::journal_part(const UploadPartRecord& record) {
  std::lock_guard lock(m_journal_mutex);
  auto recorded = m_journal.record_part(record);
  if (!recorded) set_error(recorded.error());
}

void Engine::emit(UploadEvent event) {
  std::lock_guard lock(m_event_mutex);
  const auto now = SteadyClock::now();
  while (m_samples.size() > 1 && now - m_samples.front().first > std::chrono::seconds(5)) {
    m_samples.pop_front();
  }
  double rate = 0;
  if (m_samples.size() > 1) {
    std::uint64_t bytes = 0;
    for (std::size_t i = 1; i < m_samples.size(); ++i) bytes += m_samples[i].second;
    const double span = std::chrono::duration<double>(m_samples.back().first - m_samples.front().first).count();
    if (span > 0) rate = static_cast<double>(bytes) / span;
  }
  event.bytes_done = m_bytes_done;
  event.total = m_total;
  event.rate = rate;
  if (rate > 0 && m_total >= m_bytes_done) {
    event.eta = std::chrono::seconds(static_cast<std::int64_t>(static_cast<double>(m_total - m_bytes_done) / rate));
  }
  {
    std::lock_guard result_lock(m_mutex);
    event.retries = m_result.retries;
  }
  m_observer.on_event(event);
  if (event.kind == UploadEvent::Kind::part_done) {
    UploadEvent progress = event;
    progress.kind = UploadEvent::Kind::progress;
    progress.part_number = 0;
    progress.reused = false;
    m_observer.on_event(progress);
  }
}

}  // namespace

Expected<UploadResult> upload_file(const UploadRequest& request, ObjectStore& store, FileReader& reader,
                                   Journal& journal, UploadObserver& observer) {
  Engine engine(request, store, reader, journal, observer);
  return engine.run();
}

Expected<std::vector<std::string>> abort_abandoned_uploads(ObjectStore& store, const AbortRequest& request) {
  const auto uploads = M2R_TRY(store.list_multipart_uploads(request.bucket, request.prefix));
  const auto now = std::chrono::system_clock::now();
  std::vector<std::string> aborted;
  for (const auto& u : uploads) {
    if (std::find(request.keep.begin(), request.keep.end(), u.upload_id) != request.keep.end()) continue;
    if (request.older_than.count() > 0 && now - u.initiated < request.older_than) continue;
    auto done = store.abort(request.bucket, u.key, u.upload_id);
    if (!done && done.error().kind != ErrorKind::not_found) return tl::unexpected(done.error());
    aborted.push_back(u.upload_id);
  }
  return aborted;
}

}  // namespace m2r
