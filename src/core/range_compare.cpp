#include "core/range_compare.hpp"

#include <algorithm>

namespace m2r {

const char* to_string(DifferenceKind kind) {
  switch (kind) {
    case DifferenceKind::missing_on_target: return "missing_on_target";
    case DifferenceKind::extra_on_target: return "extra_on_target";
    case DifferenceKind::differs: return "differs";
  }
  return "differs";
}

std::int64_t TableDifferences::unnamed() const {
  std::int64_t named_rows = 0;
  for (const auto& d : named) named_rows += d.copies;
  return total() - named_rows;
}

void TableDifferences::add(RowDifference difference, std::size_t max_named) {
  switch (difference.kind) {
    case DifferenceKind::missing_on_target: missing_on_target += difference.copies; break;
    case DifferenceKind::extra_on_target: extra_on_target += difference.copies; break;
    case DifferenceKind::differs: differing += difference.copies; break;
  }
  if (named.size() < max_named) named.push_back(std::move(difference));
}

namespace {

// Row by row: the two sides' rows of one small range, matched by key.
Expected<void> compare_rows(const KeyRange& range, RangeReader& source, RangeReader& target, const CompareLimits& limits,
                            TableDifferences& out) {
  const auto s = M2R_TRY(source.rows(range));
  const auto t = M2R_TRY(target.rows(range));
  std::map<KeyValues, const std::string*> on_target;
  for (const auto& r : t) on_target.emplace(r.key, &r.row_hash);
  std::map<KeyValues, bool> on_source;
  for (const auto& r : s) {
    on_source.emplace(r.key, true);
    auto it = on_target.find(r.key);
    if (it == on_target.end()) out.add({DifferenceKind::missing_on_target, r.key}, limits.max_named);
    else if (*it->second != r.row_hash) out.add({DifferenceKind::differs, r.key}, limits.max_named);
  }
  for (const auto& r : t) {
    if (!on_source.count(r.key)) out.add({DifferenceKind::extra_on_target, r.key}, limits.max_named);
  }
  return {};
}

Expected<void> drill_down(const KeyRange& range, const RangeDigest& s, const RangeDigest& t, RangeReader& source,
                          RangeReader& target, const CompareLimits& limits, TableDifferences& out) {
  if (s == t) return {};
  const std::int64_t larger = std::max(s.rows, t.rows);
  if (larger <= std::max<std::int64_t>(limits.leaf_rows, 1)) return compare_rows(range, source, target, limits, out);
  // Split at the middle row of the side with more rows: that side's rows in each half are
  // strictly fewer, and the other side's cannot grow, so the drill-down ends.
  RangeReader& splitter = s.rows >= t.rows ? source : target;
  const auto middle = M2R_TRY(splitter.key_at(range, larger / 2));
  if (!middle) return compare_rows(range, source, target, limits, out);  // the side changed under us
  const KeyRange lower{range.after, *middle};
  const KeyRange upper{*middle, range.through};
  for (const KeyRange* half : {&lower, &upper}) {
    const auto hs = M2R_TRY(source.digest(*half));
    const auto ht = M2R_TRY(target.digest(*half));
    M2R_TRY(drill_down(*half, hs, ht, source, target, limits, out));
  }
  return {};
}

}  // namespace

Expected<void> compare_range(const KeyRange& range, RangeReader& source, RangeReader& target,
                             const CompareLimits& limits, TableDifferences& out) {
  const auto s = M2R_TRY(source.digest(range));
  const auto t = M2R_TRY(target.digest(range));
  return drill_down(range, s, t, source, target, limits, out);
}

Expected<WalkResult> walk_keyed_table(RangeReader& source, RangeReader& target, const CompareLimits& limits,
                                      const AfterChunk& after_chunk) {
  WalkResult result;
  std::optional<KeyValues> after;
  const std::int64_t chunk = std::max<std::int64_t>(limits.chunk_rows, 1);
  for (;;) {
    const auto upper = M2R_TRY(source.key_at(KeyRange{after, std::nullopt}, chunk));
    // The last chunk is open-ended: it also holds the target's rows past the source's last key.
    const KeyRange range{after, upper};
    const auto s = M2R_TRY(source.digest(range));
    const auto t = M2R_TRY(target.digest(range));
    const std::int64_t before = result.differences.total();
    M2R_TRY(drill_down(range, s, t, source, target, limits, result.differences));
    result.source_rows += s.rows;
    result.target_rows += t.rows;
    ++result.chunks;
    if (after_chunk) {
      M2R_TRY(after_chunk(ChunkDone{result.source_rows, result.target_rows,
                                    result.differences.total() != before || !(s == t)}));
    }
    if (!upper) break;
    after = upper;
  }
  return result;
}

std::vector<MultisetDifference> compare_multisets(const RowHashCounts& source, const RowHashCounts& target) {
  std::vector<MultisetDifference> out;
  for (const auto& [hash, copies] : source) {
    auto it = target.find(hash);
    const std::int64_t there = it == target.end() ? 0 : it->second;
    if (copies > there) out.push_back({hash, DifferenceKind::missing_on_target, copies - there});
  }
  for (const auto& [hash, copies] : target) {
    auto it = source.find(hash);
    const std::int64_t here = it == source.end() ? 0 : it->second;
    if (copies > here) out.push_back({hash, DifferenceKind::extra_on_target, copies - here});
  }
  return out;
}

}  // namespace m2r
