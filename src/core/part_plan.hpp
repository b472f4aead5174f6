#pragma once
// How a file is cut into multipart-upload parts (docs/facts.md §7): parts of 5 MiB to 5 GiB
// (the last one smaller), at most 10,000 of them, so the part size grows with the file.
// Pure logic: the upload engine asks here, then reads and sends.
#include <cstdint>
#include <vector>

#include "core/error.hpp"

namespace m2r {

constexpr std::uint64_t k_mib = 1024ULL * 1024ULL;
constexpr std::uint64_t k_gib = 1024ULL * k_mib;

// docs/facts.md §7: S3's limits for UploadPart.
constexpr std::uint64_t k_min_part_size = 5 * k_mib;
constexpr std::uint64_t k_max_part_size = 5 * k_gib;
constexpr std::uint64_t k_max_parts = 10'000;

// 8 MiB, as aws s3 cp (docs/facts.md §7): measured in bench/README.md ("connections and part
// size"), 16 connections x 8 MiB beat 8 x 16 MiB in the same memory (more parts in flight,
// so more of them share the MD5 lanes). Whole parts while the file is under ~117 GiB
// (16 x 12 MiB fit the budget); larger files need larger parts and stream them.
constexpr std::uint64_t k_default_part_size = 8 * k_mib;

// The engine's memory for part buffers. The upload's peak RSS target is 256 MiB (issue 6);
// the rest of the process (curl handles, journal, code) fits in what is left.
constexpr std::uint64_t k_default_buffer_budget = 192 * k_mib;

struct PartRange {
  int number = 0;  // 1-based, as S3 numbers parts
  std::uint64_t offset = 0;
  std::uint64_t size = 0;

  friend bool operator==(const PartRange&, const PartRange&) = default;
};

// The smallest part size that cuts `file_size` into at most 10,000 parts, never below
// 5 MiB, rounded up to a whole MiB.
std::uint64_t minimum_part_size(std::uint64_t file_size);

struct PartPlanRequest {
  std::uint64_t file_size = 0;        // final size, or the expected size when streaming
  std::uint64_t requested_part_size = 0;  // 0 = choose
  int connections = 1;                // parts in flight at once, one buffer each
  std::uint64_t buffer_budget = k_default_buffer_budget;
};

// How a part is held while it is checksummed and sent.
enum class PartBuffering {
  whole_part,  // read once into a buffer of the part's size, checksummed and sent from memory
  streamed,    // read twice from the file in chunks: checksummed, then sent as the socket takes it
};

// The read buffer of a streamed part, per connection: large enough that each read is a
// cheap fraction of a part, small enough that 64 connections stay far under the budget.
constexpr std::uint64_t k_stream_chunk = 1 * k_mib;

struct PartPlan {
  std::uint64_t part_size = 0;
  int connections = 1;
  PartBuffering buffering = PartBuffering::whole_part;
  std::uint64_t buffer_per_connection() const {
    return buffering == PartBuffering::whole_part ? part_size : k_stream_chunk;
  }
  std::uint64_t buffer_bytes() const { return buffer_per_connection() * static_cast<std::uint64_t>(connections); }
};

// How parts of `part_size` are held when `connections` are in flight within `budget`: whole
// parts when they fit (one read of the file), streamed otherwise. Multi-terabyte backups need
// parts over 100 MiB (10,000 parts at most); streaming them keeps every connection busy in
// the same memory rather than trading connections (throughput) for memory.
PartBuffering buffering_for(std::uint64_t part_size, int connections, std::uint64_t budget);

// Chooses the part size, how many parts may be in flight and how they are held, so that
//   part_size >= minimum_part_size(file_size), 5 MiB <= part_size <= 5 GiB,
//   buffer_bytes() <= buffer_budget.
// A requested part size outside S3's rules is invalid_input (with the smallest valid one in
// the hint), as is a budget below one stream chunk.
Expected<PartPlan> plan_parts(const PartPlanRequest& request);

// The parts of a file of `file_size` bytes (one empty part for an empty file: S3 accepts
// a single part below 5 MiB). Errors when it would take more than 10,000 parts.
Expected<std::vector<PartRange>> part_ranges(std::uint64_t file_size, std::uint64_t part_size);

// Part number n (1-based) of a file cut at part_size, clipped at file_size.
PartRange part_at(int number, std::uint64_t part_size, std::uint64_t file_size);

}  // namespace m2r
