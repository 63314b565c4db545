// SPDX-License-Identifier: Apache-2.0
// Specification of IdIndex: dense numbering of int64 ids in ascending id order, direct or hashed.
#include <crmine/core/id_index.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>
#include <vector>

namespace crmine {
namespace {

/// Checks `index` against the distinct ids of `column`, and that ids not in it are not found.
void expect_numbers_the_distinct_ids(const IdIndex& index, const std::vector<std::int64_t>& column,
                                     const std::vector<std::int64_t>& absent) {
  const std::set<std::int64_t> distinct(column.begin(), column.end());
  ASSERT_EQ(index.size(), distinct.size());
  EXPECT_EQ(index.ids(), std::vector<std::int64_t>(distinct.begin(), distinct.end()));
  std::int64_t k = 0;
  for (std::int64_t id : distinct) {
    ASSERT_EQ(index.find(id), k) << id;
    ASSERT_GE(index.position(id), 0);
    ASSERT_EQ(index.index_at_position(static_cast<std::uint64_t>(index.position(id))), k);
    ASSERT_EQ(index.index_at_position(index.known_position(id)), k);
    ++k;
  }
  for (std::int64_t id : absent) {
    if (distinct.count(id)) continue;
    EXPECT_EQ(index.find(id), -1) << id;
    EXPECT_EQ(index.position(id), -1) << id;
  }
}

TEST(IdIndex, CompactIdsGetADirectTableNumberedInIdOrder) {
  const std::vector<std::int64_t> column = {12, 10, 15, 12, 11, 10, 19};
  const IdIndex index = IdIndex::build(column, 1);
  EXPECT_TRUE(index.is_direct());
  expect_numbers_the_distinct_ids(index, column, {9, 13, 14, 16, 20, -1});
}

TEST(IdIndex, SparseIdsAreHashedAndNumberedInIdOrderAtEveryThreadCount) {
  // Ids spread over the whole int64 range, the extremes included, each repeated a few times and
  // in random order: the distinct ids are found by partitioned sets, sorted, and hashed.
  std::mt19937_64 rng(3);
  std::vector<std::int64_t> distinct(60000);
  for (auto& id : distinct) id = static_cast<std::int64_t>(rng());
  distinct.push_back(std::numeric_limits<std::int64_t>::min());
  distinct.push_back(std::numeric_limits<std::int64_t>::max());
  distinct.push_back(0);
  std::vector<std::int64_t> column;
  // Five copies: 300k rows, above the size where the build goes parallel.
  for (int copy = 0; copy < 5; ++copy) column.insert(column.end(), distinct.begin(), distinct.end());
  std::shuffle(column.begin(), column.end(), rng);
  std::vector<std::int64_t> absent(1000);
  for (auto& id : absent) id = static_cast<std::int64_t>(rng());
  absent.push_back(1);
  std::vector<std::int64_t> reference_ids;
  for (int threads : {1, 2, 3, 8}) {
    const IdIndex index = IdIndex::build(column, threads);
    EXPECT_FALSE(index.is_direct());
    expect_numbers_the_distinct_ids(index, column, absent);
    if (reference_ids.empty()) reference_ids = index.ids();
    EXPECT_EQ(index.ids(), reference_ids) << threads;
  }
}

TEST(IdIndex, PositionsOfManyIdsAtOnceEqualTheirPositionsOneByOne) {
  // Batched lookups (partition by partition for hashed indexes, over blocks of 2^20 rows) give
  // every row its own position, and 0xFFFFFFFF to ids not in the index, at any thread count.
  std::mt19937_64 rng(9);
  for (bool sparse : {true, false}) {
    std::vector<std::int64_t> known(40000);
    for (std::size_t i = 0; i < known.size(); ++i)
      known[i] = sparse ? static_cast<std::int64_t>(rng()) : static_cast<std::int64_t>(i) * 3 + 100;
    const IdIndex index = IdIndex::build(known);
    ASSERT_EQ(index.is_direct(), !sparse);
    std::vector<std::int64_t> queries(1'200'000);
    for (auto& q : queries) q = rng() % 50 == 0 ? static_cast<std::int64_t>(rng() % 1000) * 3 + 101 : known[rng() % known.size()];
    for (int threads : {1, 2, 3}) {
      std::vector<std::uint32_t> out(queries.size(), 7);
      index.known_positions(queries, out, threads);
      for (std::size_t i = 0; i < queries.size(); ++i) {
        const std::int64_t expected = index.position(queries[i]);
        ASSERT_EQ(out[i], expected < 0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(expected)) << i << " " << threads;
      }
    }
  }
}

TEST(IdIndex, SortedUniqueIdsBuildTheSameIndexAsTheirColumn) {
  std::mt19937_64 rng(4);
  std::vector<std::int64_t> column(5000);
  for (auto& id : column) id = static_cast<std::int64_t>(rng() % 1'000'000'000'000) * 7;
  const IdIndex built = IdIndex::build(column);
  const IdIndex sorted = IdIndex::from_sorted_unique(built.ids());
  EXPECT_EQ(sorted.is_direct(), built.is_direct());
  expect_numbers_the_distinct_ids(sorted, column, {1, 2, 3});
}

TEST(IdIndex, OneIdAndTheEmptyColumn) {
  const IdIndex one = IdIndex::build(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min()});
  EXPECT_EQ(one.size(), 1u);
  EXPECT_EQ(one.find(std::numeric_limits<std::int64_t>::min()), 0);
  EXPECT_EQ(one.find(0), -1);
  const IdIndex none = IdIndex::build(std::vector<std::int64_t>{});
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.find(5), -1);
}

}  // namespace
}  // namespace crmine
