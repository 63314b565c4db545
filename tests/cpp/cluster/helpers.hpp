// SPDX-License-Identifier: Apache-2.0
// Test helpers of the cluster area: planted blobs, adjusted Rand index, save/load round trips.
#pragma once

#include <crmine/core/matrix.hpp>
#include <crmine/core/random.hpp>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <utility>

namespace crmine::test {

struct Blobs {
  RowMatrix X;
  Eigen::VectorXi truth;
};

/// k Gaussian blobs (sd 1) whose centres lie on a grid `spacing` apart, in d dimensions.
inline Blobs make_blobs(Eigen::Index n, Eigen::Index d, int k, double spacing, std::uint64_t seed) {
  Random rng(seed);
  auto normal = [&] {  // Box-Muller
    const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  RowMatrix centres(k, d);
  for (int j = 0; j < k; ++j)
    for (Eigen::Index f = 0; f < d; ++f) centres(j, f) = spacing * ((j >> f) & 1) + spacing * 0.37 * j * (f == 0);
  Blobs b{RowMatrix(n, d), Eigen::VectorXi(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const int j = static_cast<int>(i % k);
    b.truth[i] = j;
    for (Eigen::Index f = 0; f < d; ++f) b.X(i, f) = centres(j, f) + normal();
  }
  return b;
}

/// Adjusted Rand index (Hubert & Arabie 1985) of two labelings.
inline double adjusted_rand(const Eigen::VectorXi& a, const Eigen::VectorXi& b) {
  std::map<std::pair<int, int>, double> joint;
  std::map<int, double> ra, rb;
  for (Eigen::Index i = 0; i < a.size(); ++i) joint[{a[i], b[i]}] += 1, ra[a[i]] += 1, rb[b[i]] += 1;
  auto c2 = [](double x) { return x * (x - 1) / 2; };
  double sj = 0, sa = 0, sb = 0;
  for (auto& [key, v] : joint) sj += c2(v);
  for (auto& [key, v] : ra) sa += c2(v);
  for (auto& [key, v] : rb) sb += c2(v);
  const double expected = sa * sb / c2(static_cast<double>(a.size()));
  const double max_index = 0.5 * (sa + sb);
  return max_index == expected ? 1.0 : (sj - expected) / (max_index - expected);
}

template <typename Model>
std::string bytes_of(const Model& m) {
  std::ostringstream out;
  m.save(out);
  return out.str();
}

template <typename Model>
Model round_trip(const Model& m) {
  std::istringstream in(bytes_of(m));
  return Model::load(in);
}

/// Expects `fn` to throw InvalidArgument whose message names `argument`.
#define EXPECT_INVALID_NAMING(statement, argument)                                             \
  do {                                                                                         \
    try {                                                                                      \
      statement;                                                                               \
      ADD_FAILURE() << "no exception from " #statement;                                        \
    } catch (const ::crmine::InvalidArgument& e) {                                             \
      EXPECT_NE(std::string(e.what()).find(argument), std::string::npos) << e.what();          \
    }                                                                                          \
  } while (0)

}  // namespace crmine::test
