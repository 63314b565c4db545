// SPDX-License-Identifier: Apache-2.0
// Segment profiles a marketer can read: size, share, typical values, what sets a segment apart, a name.
#pragma once

#include <crmine/core/matrix.hpp>

#include <string>
#include <vector>

namespace crmine {

/// Hyperparameters of segment_profiles.
struct ProfileOptions {
  std::vector<std::string> feature_names;  ///< one per column; empty = "x0", "x1", ...
  /// Word for a high value of each feature ("high spend"); empty = "high <name>".
  std::vector<std::string> high_words;
  /// Word for a low value of each feature ("recent" for recency); empty = "low <name>".
  std::vector<std::string> low_words;
  int name_features = 3;        ///< at most this many features in a proposed name; >= 1
  double min_effect = 0.5;      ///< |standardised difference| a feature needs to enter a name; >= 0
};

/// Profile of one segment.
struct SegmentProfile {
  int segment = 0;
  Eigen::Index size = 0;
  double share = 0;               ///< size / rows
  Eigen::VectorXd mean;           ///< per feature, original units
  Eigen::VectorXd median;         ///< per feature
  Eigen::VectorXd effect;         ///< (mean in segment - mean outside) / overall standard deviation
  std::vector<int> distinguishing;  ///< features by decreasing |effect|
  double value_share = 0;         ///< share of the total of `value` (NaN when no value given)
  double value_mean = 0;          ///< mean value per row of the segment (NaN when no value given)
  std::string name;               ///< proposed from the distinguishing features, e.g. "high spend, recent"
};

/// Profiles of segments 0..max(label); `value` (empty or one per row) gives revenue shares.
std::vector<SegmentProfile> segment_profiles(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& labels,
                                             VectorRef value = Eigen::VectorXd(), const ProfileOptions& options = {});

}  // namespace crmine
