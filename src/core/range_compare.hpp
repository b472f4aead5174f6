#pragma once
// Comparing one table, source against target, by key ranges (docs/architecture.md
// "Validation"): the source is walked in key order in chunks of at most `chunk_rows` rows;
// each chunk's row count and aggregate hash are compared; a chunk that differs is split in
// two by the side with more rows in it until few enough rows are left to compare row by row,
// which names the keys missing on the target, extra on the target, and rows that differ.
// Tables without a key compare as multisets of row hashes. Pure: the sides are interfaces.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/row_hash.hpp"

namespace m2r {

struct RangeDigest {
  std::int64_t rows = 0;
  std::string hash;  // of the ordered row hashes; empty for an empty range
  bool operator==(const RangeDigest&) const = default;
};

struct KeyedRowHash {
  KeyValues key;
  std::string row_hash;
};

// One side of the comparison (source or target) for one table.
class RangeReader {
 public:
  virtual ~RangeReader() = default;
  virtual Expected<RangeDigest> digest(const KeyRange& range) = 0;
  // The key of the `position`-th row (1-based) of `range` in key order, or of its last row when
  // it holds fewer; nullopt when it is empty.
  virtual Expected<std::optional<KeyValues>> key_at(const KeyRange& range, std::int64_t position) = 0;
  virtual Expected<std::vector<KeyedRowHash>> rows(const KeyRange& range) = 0;
};

enum class DifferenceKind { missing_on_target, extra_on_target, differs };
const char* to_string(DifferenceKind kind);

struct RowDifference {
  DifferenceKind kind = DifferenceKind::differs;
  KeyValues key;  // keyed tables: the key texts; heaps: the row's column texts (see table_validation)
  std::int64_t copies = 1;  // heaps: how many copies of that row differ
};

struct TableDifferences {
  std::vector<RowDifference> named;  // at most CompareLimits::max_named
  std::int64_t missing_on_target = 0;
  std::int64_t extra_on_target = 0;
  std::int64_t differing = 0;
  std::int64_t total() const { return missing_on_target + extra_on_target + differing; }
  std::int64_t unnamed() const;  // counted but not named (beyond the limit)
  void add(RowDifference difference, std::size_t max_named);
};

struct CompareLimits {
  std::int64_t chunk_rows = 5000;  // rows per chunk of the source walk
  std::int64_t leaf_rows = 64;     // a differing range this small is compared row by row
  std::size_t max_named = 100;     // differences named per table; the rest are counted
};

struct ChunkDone {
  std::int64_t source_rows = 0;  // rows of the source read so far (this table)
  std::int64_t target_rows = 0;
  bool differs = false;
};

// Called after every chunk; an error (a stop, a timeout) ends the walk with it.
using AfterChunk = std::function<Expected<void>(const ChunkDone&)>;

struct WalkResult {
  std::int64_t source_rows = 0;
  std::int64_t target_rows = 0;
  std::int64_t chunks = 0;
  TableDifferences differences;
};

// Compares one range, drilling down into it when it differs.
Expected<void> compare_range(const KeyRange& range, RangeReader& source, RangeReader& target,
                             const CompareLimits& limits, TableDifferences& out);

// The whole table in chunks of the source's key order, then the target's rows past the last source key.
Expected<WalkResult> walk_keyed_table(RangeReader& source, RangeReader& target, const CompareLimits& limits,
                                      const AfterChunk& after_chunk = {});

// Heaps: row hash -> number of copies on each side.
using RowHashCounts = std::map<std::string, std::int64_t>;
struct MultisetDifference {
  std::string row_hash;
  DifferenceKind kind = DifferenceKind::missing_on_target;
  std::int64_t copies = 0;
};
std::vector<MultisetDifference> compare_multisets(const RowHashCounts& source, const RowHashCounts& target);

}  // namespace m2r
