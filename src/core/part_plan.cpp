#include "core/part_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace m2r {

namespace {

std::uint64_t round_up(std::uint64_t value, std::uint64_t unit) {
  return (value + unit - 1) / unit * unit;
}

std::string mib_text(std::uint64_t bytes) {
  return fmt::format("{} MiB", round_up(bytes, k_mib) / k_mib);
}

}  // namespace

std::uint64_t minimum_part_size(std::uint64_t file_size) {
  const std::uint64_t by_count = (file_size + k_max_parts - 1) / k_max_parts;  // ceil(size / 10000)
  return std::max(k_min_part_size, round_up(by_count, k_mib));
}

Expected<PartPlan> plan_parts(const PartPlanRequest& request) {
  if (request.connections < 1) {
    return fail(ErrorKind::invalid_input,
                fmt::format("upload connections must be at least 1 (got {})", request.connections));
  }
  const std::uint64_t minimum = minimum_part_size(request.file_size);
  if (minimum > k_max_part_size) {
    return fail(ErrorKind::invalid_input,
                fmt::format("a file of {} bytes needs parts over 5 GiB: more than S3 allows in one object",
                            request.file_size),
                "split the backup into several files (BACKUP ... TO DISK = 'a', DISK = 'b')");
  }

  PartPlan plan;
  if (request.requested_part_size != 0) {
    const std::uint64_t asked = request.requested_part_size;
    if (asked < k_min_part_size || asked > k_max_part_size) {
      return fail(ErrorKind::invalid_input,
                  fmt::format("part size {} bytes is outside S3's 5 MiB to 5 GiB", asked),
                  fmt::format("use a part size of at least {}", mib_text(minimum)));
    }
    if (asked < minimum) {
      return fail(ErrorKind::invalid_input,
                  fmt::format("part size {} would cut a {}-byte file into more than 10,000 parts",
                              mib_text(asked), request.file_size),
                  fmt::format("use a part size of at least {} (or 0 to choose)", mib_text(minimum)));
    }
    plan.part_size = asked;
  } else {
    plan.part_size = std::max(k_default_part_size, minimum);
  }

  if (request.buffer_budget < k_stream_chunk) {
    return fail(ErrorKind::invalid_input,
                fmt::format("an upload memory budget of {} bytes cannot hold even one read buffer of {}",
                            request.buffer_budget, mib_text(k_stream_chunk)),
                fmt::format("raise the upload memory budget to at least {}", mib_text(k_stream_chunk)));
  }
  plan.buffering = buffering_for(plan.part_size, request.connections, request.buffer_budget);
  plan.connections = request.connections;
  if (plan.buffering == PartBuffering::streamed) {
    // Only an absurdly small budget or a huge connection count gets here: stay within it.
    plan.connections = static_cast<int>(std::min<std::uint64_t>(
        static_cast<std::uint64_t>(request.connections), request.buffer_budget / k_stream_chunk));
  }
  return plan;
}

PartBuffering buffering_for(std::uint64_t part_size, int connections, std::uint64_t budget) {
  return part_size * static_cast<std::uint64_t>(std::max(connections, 1)) <= budget ? PartBuffering::whole_part
                                                                                    : PartBuffering::streamed;
}

PartRange part_at(int number, std::uint64_t part_size, std::uint64_t file_size) {
  PartRange r;
  r.number = number;
  r.offset = static_cast<std::uint64_t>(number - 1) * part_size;
  r.size = r.offset >= file_size ? 0 : std::min(part_size, file_size - r.offset);
  return r;
}

Expected<std::vector<PartRange>> part_ranges(std::uint64_t file_size, std::uint64_t part_size) {
  if (part_size == 0) {
    return fail(ErrorKind::fatal, "part size 0");
  }
  const std::uint64_t count = file_size == 0 ? 1 : (file_size + part_size - 1) / part_size;
  if (count > k_max_parts) {
    return fail(ErrorKind::invalid_input,
                fmt::format("{} bytes in parts of {} is {} parts; S3 allows 10,000", file_size,
                            mib_text(part_size), count),
                fmt::format("use a part size of at least {}", mib_text(minimum_part_size(file_size))));
  }
  std::vector<PartRange> parts;
  parts.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    parts.push_back(part_at(static_cast<int>(i + 1), part_size, file_size));
  }
  return parts;
}

}  // namespace m2r
