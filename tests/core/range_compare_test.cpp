// The chunked walk and the bisection down to the differing keys (core/range_compare.hpp),
// against in-memory sides.
#include "core/range_compare.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace m2r;

namespace {

// One side: key -> row hash, in key order (keys are zero-padded so text order is key order).
class MemorySide final : public RangeReader {
 public:
  std::map<KeyValues, std::string> rows_by_key;
  int rows_calls = 0;
  std::int64_t rows_returned = 0;

  void put(int key, std::string hash) { rows_by_key[k(key)] = std::move(hash); }
  static KeyValues k(int key) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08d", key);
    return {buf};
  }

  std::vector<KeyedRowHash> in(const KeyRange& r) const {
    std::vector<KeyedRowHash> out;
    for (const auto& [key, hash] : rows_by_key) {
      if (r.after && !(key > *r.after)) continue;
      if (r.through && key > *r.through) continue;
      out.push_back({key, hash});
    }
    return out;
  }
  Expected<RangeDigest> digest(const KeyRange& r) override {
    RangeDigest d;
    for (const auto& row : in(r)) {
      ++d.rows;
      d.hash += row.row_hash + "|";
    }
    return d;
  }
  Expected<std::optional<KeyValues>> key_at(const KeyRange& r, std::int64_t position) override {
    const auto rows = in(r);
    if (rows.empty()) return std::optional<KeyValues>();
    return std::optional<KeyValues>(rows[static_cast<std::size_t>(std::min<std::int64_t>(position, static_cast<std::int64_t>(rows.size())) - 1)].key);
  }
  Expected<std::vector<KeyedRowHash>> rows(const KeyRange& r) override {
    ++rows_calls;
    auto out = in(r);
    rows_returned += static_cast<std::int64_t>(out.size());
    return out;
  }
};

struct Pair {
  MemorySide source, target;
  explicit Pair(int n) {
    for (int i = 1; i <= n; ++i) {
      source.put(i, "h" + std::to_string(i));
      target.put(i, "h" + std::to_string(i));
    }
  }
};

CompareLimits limits(std::int64_t chunk, std::int64_t leaf = 4, std::size_t named = 100) {
  CompareLimits l;
  l.chunk_rows = chunk;
  l.leaf_rows = leaf;
  l.max_named = named;
  return l;
}

}  // namespace

TEST(RangeCompareTest, EqualTablesNeedNoDrillDown) {
  Pair p(1000);
  auto r = walk_keyed_table(p.source, p.target, limits(100));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->source_rows, 1000);
  EXPECT_EQ(r->target_rows, 1000);
  EXPECT_EQ(r->differences.total(), 0);
  EXPECT_EQ(r->chunks, 11);  // ten full chunks, then the open end past the last source key
  EXPECT_EQ(p.source.rows_calls + p.target.rows_calls, 0);
}

TEST(RangeCompareTest, OneChangedRowIsNamedByBisectionReadingFewRows) {
  // Given 10 000 rows with one changed on the target, we should name its key, and the
  // row-by-row comparison should read only a leaf's worth of rows, not the chunk.
  Pair p(10000);
  p.target.put(6543, "changed");
  auto r = walk_keyed_table(p.source, p.target, limits(5000, 8));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->differences.named.size(), 1u);
  EXPECT_EQ(r->differences.named[0].kind, DifferenceKind::differs);
  EXPECT_EQ(r->differences.named[0].key, MemorySide::k(6543));
  EXPECT_LE(p.source.rows_returned, 8);
  EXPECT_LE(p.target.rows_returned, 8);
}

TEST(RangeCompareTest, MissingExtraAndSwappedRowsAreNamedByKind) {
  Pair p(300);
  p.target.rows_by_key.erase(MemorySide::k(17));  // missing on the target
  p.target.put(150000, "late");                     // extra, past the source's last key
  p.target.put(0, "early");                         // extra, before the first
  // Values swapped between two rows: an XOR of checksums cancels, the ordered hashes do not.
  p.target.put(100, "h200");
  p.target.put(200, "h100");
  auto r = walk_keyed_table(p.source, p.target, limits(64, 4));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->differences.missing_on_target, 1);
  EXPECT_EQ(r->differences.extra_on_target, 2);
  EXPECT_EQ(r->differences.differing, 2);
  std::map<KeyValues, DifferenceKind> named;
  for (const auto& d : r->differences.named) named[d.key] = d.kind;
  EXPECT_EQ(named.at(MemorySide::k(17)), DifferenceKind::missing_on_target);
  EXPECT_EQ(named.at(MemorySide::k(150000)), DifferenceKind::extra_on_target);
  EXPECT_EQ(named.at(MemorySide::k(0)), DifferenceKind::extra_on_target);
  EXPECT_EQ(named.at(MemorySide::k(100)), DifferenceKind::differs);
  EXPECT_EQ(named.at(MemorySide::k(200)), DifferenceKind::differs);
  EXPECT_EQ(r->target_rows, 301);
}

TEST(RangeCompareTest, BeyondTheLimitDifferencesAreCountedNotNamed) {
  Pair p(1000);
  for (int i = 1; i <= 1000; i += 2) p.target.put(i, "x");
  auto r = walk_keyed_table(p.source, p.target, limits(100, 16, 10));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->differences.named.size(), 10u);
  EXPECT_EQ(r->differences.differing, 500);
  EXPECT_EQ(r->differences.unnamed(), 490);
}

TEST(RangeCompareTest, AnEmptySourceNamesEveryTargetRowAsExtra) {
  MemorySide source, target;
  for (int i = 1; i <= 50; ++i) target.put(i, "t");
  auto r = walk_keyed_table(source, target, limits(10, 4));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->differences.extra_on_target, 50);
  EXPECT_EQ(r->chunks, 1);
}

TEST(RangeCompareTest, AnErrorAfterAChunkEndsTheWalk) {
  Pair p(100);
  int chunks = 0;
  auto r = walk_keyed_table(p.source, p.target, limits(10), [&chunks](const ChunkDone& done) -> Expected<void> {
    if (++chunks == 3) return fail(ErrorKind::interrupted, "stopped");
    EXPECT_EQ(done.source_rows, chunks * 10);
    return {};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::interrupted);
  EXPECT_EQ(chunks, 3);
}

TEST(RangeCompareTest, MultisetsNameMissingAndExtraCopies) {
  const RowHashCounts source = {{"A", 2}, {"B", 1}, {"C", 1}};
  const RowHashCounts target = {{"A", 1}, {"B", 1}, {"D", 3}};
  const auto d = compare_multisets(source, target);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].row_hash, "A");
  EXPECT_EQ(d[0].kind, DifferenceKind::missing_on_target);
  EXPECT_EQ(d[0].copies, 1);
  EXPECT_EQ(d[1].row_hash, "C");
  EXPECT_EQ(d[2].row_hash, "D");
  EXPECT_EQ(d[2].kind, DifferenceKind::extra_on_target);
  EXPECT_EQ(d[2].copies, 3);
}
