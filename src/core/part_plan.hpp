#pragma once
// How a file is cut into multipart-upload parts (facts.md §7): parts of 5 MiB to 5 GiB
// (the last one smaller), at most 10,000 of them, so the part size grows with the file.
// Pure logic: the upload engine asks here, then reads and sends.
#include <cstdint>
#include <vector>

#include "core/error.hpp"

namespace m2r {

constexpr std::uint64_t k_mib = 1024ULL * 1024ULL;
constexpr std::uint64_t k_gib = 1024ULL * k_mib;

// facts.md §7: S3's limits for UploadPart.
constexpr std::uint64_t k_min_part_size = 5 * k_mib;
constexpr std::uint64_t k_max_part_size = 5 * k_gib;
constexpr std::uint64_t k_max_parts = 10'000;

// 16 MiB: twice aws s3 cp's 8 MiB (facts.md §7), so half the requests; measured in
// bench/README.md ("part size"). Large enough that per-request overhead (signing, a round
// trip, the response) is small, small enough that connections x buffers fit the budget.
constexpr std::uint64_t k_default_part_size = 16 * k_mib;

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

struct PartPlan {
  std::uint64_t part_size = 0;
  int connections = 1;  // may be fewer than asked for when buffers would exceed the budget
  std::uint64_t buffer_bytes() const { return part_size * static_cast<std::uint64_t>(connections); }
};

// Chooses the part size and how many parts may be in flight so that
//   part_size >= minimum_part_size(file_size), 5 MiB <= part_size <= 5 GiB,
//   connections x part_size <= buffer_budget.
// A requested part size outside S3's rules is invalid_input (with the smallest valid one in
// the hint); a file so large that even one part exceeds the budget is invalid_input too.
Expected<PartPlan> plan_parts(const PartPlanRequest& request);

// The parts of a file of `file_size` bytes (one empty part for an empty file: S3 accepts
// a single part below 5 MiB). Errors when it would take more than 10,000 parts.
Expected<std::vector<PartRange>> part_ranges(std::uint64_t file_size, std::uint64_t part_size);

// Part number n (1-based) of a file cut at part_size, clipped at file_size.
PartRange part_at(int number, std::uint64_t part_size, std::uint64_t file_size);

}  // namespace m2r
