// SPDX-License-Identifier: Apache-2.0
// Test helpers of the detectors: planted-outlier data, AUC, save/load round trips, the shared checks.
#pragma once

#include <crmine/classify/metrics.hpp>
#include <crmine/core/estimator.hpp>
#include <crmine/core/random.hpp>
#include <crmine/deviation/factory.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

namespace crmine::test {

struct Planted {
  RowMatrix X;
  Eigen::VectorXi is_outlier;  // 1 for planted rows
};

inline double normal(Random& rng) {  // Box-Muller
  const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

/// n rows of correlated Gaussian inliers in d dimensions (feature j = z_j + 0.5 z_0), the last
/// `n_out` of which are replaced by outliers of three kinds: one huge feature (a spend spike), all
/// features shifted moderately, and a broken correlation (z_0 large with other features at their mean).
inline Planted make_planted(Eigen::Index n, Eigen::Index d, Eigen::Index n_out, std::uint64_t seed) {
  Random rng(seed);
  Planted p{RowMatrix(n, d), Eigen::VectorXi::Zero(n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    const double z0 = normal(rng);
    for (Eigen::Index j = 0; j < d; ++j) p.X(i, j) = (j == 0 ? z0 : normal(rng) + 0.5 * z0);
  }
  for (Eigen::Index i = n - n_out; i < n; ++i) {
    p.is_outlier[i] = 1;
    switch (i % 3) {
      case 0: p.X(i, static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(d)))) += 8 + 4 * rng.uniform(); break;
      case 1: p.X.row(i).array() += 3.5; break;
      default: p.X(i, 0) = 3.5; p.X.row(i).tail(d - 1).setConstant(-2.0); break;
    }
  }
  return p;
}

/// AUC of `deviation` (higher = more deviant) against the planted labels.
inline double auc(const Eigen::VectorXi& truth, const Eigen::VectorXd& deviation) { return roc_auc(truth, deviation); }

/// Saves and reloads through load_detector; the copy must score identically.
inline void expect_round_trip(const Detector& model, const RowMatrix& X) {
  std::stringstream buf;
  model.save(buf);
  const std::string bytes = buf.str();
  std::istringstream in(bytes);
  auto loaded = load_detector(in);
  ASSERT_TRUE(loaded->is_fitted());
  EXPECT_EQ(loaded->n_features(), model.n_features());
  EXPECT_EQ(loaded->offset(), model.offset());
  EXPECT_TRUE(loaded->score_samples(X) == model.score_samples(X));
  // Flipping any payload byte breaks the checksum; truncation breaks the length.
  for (std::size_t pos : {std::size_t{30}, bytes.size() / 2, bytes.size() - 5}) {
    std::string bad = bytes;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5A);
    std::istringstream bad_in(bad);
    EXPECT_THROW(load_detector(bad_in), ModelFormatError) << "byte " << pos;
  }
  std::istringstream cut(bytes.substr(0, bytes.size() - 9));
  EXPECT_THROW(load_detector(cut), ModelFormatError);
}

/// The checks every detector shares: predict agrees with the sign of decision_function, the share of
/// training outliers follows contamination, and bad X at score time is refused.
inline void expect_detector_contract(const Detector& model, const RowMatrix& X) {
  const Eigen::VectorXd s = model.score_samples(X);
  const Eigen::VectorXd dec = model.decision_function(X);
  const Eigen::VectorXi pred = model.predict(X);
  EXPECT_TRUE(((s.array() - model.offset()) == dec.array()).all());
  EXPECT_TRUE((model.deviation_score(X).array() == -s.array()).all());
  for (Eigen::Index i = 0; i < X.rows(); ++i) ASSERT_EQ(pred[i], dec[i] < 0 ? -1 : 1);
  RowMatrix wide(2, X.cols() + 1);
  wide.setZero();
  EXPECT_THROW(model.score_samples(wide), InvalidArgument);
  RowMatrix nan = X.topRows(2);
  nan(1, 0) = std::nan("");
  EXPECT_THROW(model.score_samples(nan), InvalidArgument);
}

}  // namespace crmine::test
