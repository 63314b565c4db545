// SPDX-License-Identifier: Apache-2.0
// Readers of the shared basket data sets (FIMI retail.dat, Groceries) and random baskets.
#pragma once

#include <crmine/rules/baskets.hpp>
#include <crmine/rules/itemsets.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>

namespace crmine::test {

/// Reads a whole file, decompressing `<path>.xz` through `xz -dc` when only that exists.
inline std::string read_shared(const std::string& relative) {
  const std::string path = std::string(CRMINE_SHARED_DATA_DIR) + "/" + relative;
  std::string cmd;
  if (std::filesystem::exists(path)) cmd = "cat '" + path + "'";
  else if (std::filesystem::exists(path + ".xz")) cmd = "xz -dc '" + path + ".xz'";
  else return {};
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  char buf[1 << 16];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, got);
  return out;
}

/// FIMI format: one basket per line, integer item ids separated by spaces.
inline Baskets read_fimi(const std::string& text) {
  Baskets b;
  std::int32_t max_item = -1;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::int32_t v;
    while (fields >> v) {
      b.indices.push_back(v);
      max_item = std::max(max_item, v);
    }
    b.indptr.push_back(static_cast<std::int64_t>(b.indices.size()));
  }
  for (std::int32_t i = 0; i <= max_item; ++i) b.item_ids.push_back(i);
  return b;
}

/// Comma-separated item names per line; item ids in order of first appearance, names kept.
inline Baskets read_csv_baskets(const std::string& text, std::vector<std::string>* names) {
  Baskets b;
  std::map<std::string, std::int32_t> ids;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    while (std::getline(fields, name, ',')) {
      if (name.empty()) continue;
      auto [it, fresh] = ids.emplace(name, static_cast<std::int32_t>(ids.size()));
      if (fresh) names->push_back(name);
      b.indices.push_back(it->second);
    }
    b.indptr.push_back(static_cast<std::int64_t>(b.indices.size()));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) b.item_ids.push_back(static_cast<std::int64_t>(i));
  return b;
}

/// Random baskets with skewed item popularity, some duplicates and some empty baskets.
inline Baskets random_baskets(std::uint64_t seed, std::int64_t n_baskets, std::int32_t n_items, int max_size) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> size(0, max_size);
  std::geometric_distribution<std::int32_t> item(3.0 / n_items);
  Baskets b;
  for (std::int64_t k = 0; k < n_baskets; ++k) {
    const int s = size(rng);
    for (int j = 0; j < s; ++j) b.indices.push_back(std::min(item(rng), n_items - 1));
    b.indptr.push_back(static_cast<std::int64_t>(b.indices.size()));
  }
  for (std::int32_t i = 0; i < n_items; ++i) b.item_ids.push_back(i);
  return b;
}

/// Baskets from lists of item ids, the whole list repeated `times` times; items 0..n_items-1.
inline Baskets baskets_of(const std::vector<std::vector<std::int32_t>>& list, int times, std::int32_t n_items) {
  Baskets b;
  for (int k = 0; k < times; ++k)
    for (const auto& basket : list) {
      b.indices.insert(b.indices.end(), basket.begin(), basket.end());
      b.indptr.push_back(static_cast<std::int64_t>(b.indices.size()));
    }
  for (std::int32_t i = 0; i < n_items; ++i) b.item_ids.push_back(i);
  return b;
}

/// Groceries (9,835 baskets) with item ids in order of first appearance; empty when absent.
inline const Baskets& groceries() {
  static std::vector<std::string> names;
  static const Baskets b = read_csv_baskets(read_shared("groceries/groceries.csv"), &names);
  return b;
}

/// FIMI retail.dat (88,162 baskets); empty when absent.
inline const Baskets& retail() {
  static const Baskets b = read_fimi(read_shared("retail_fimi/retail.dat"));
  return b;
}

/// Expects the same itemsets with the same counts, in any order.
/// The same itemsets in the same order (e.g. across thread counts).
inline void expect_identical(const Itemsets& a, const Itemsets& b) {
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.count, b.count);
}

inline void expect_same(Itemsets a, Itemsets b) {
  a.sort();
  b.sort();
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.items, b.items);
  EXPECT_EQ(a.count, b.count);
}

}  // namespace crmine::test
