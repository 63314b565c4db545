// SPDX-License-Identifier: Apache-2.0
// Peer-group deviations: each customer's features against the robust centre and spread of their segment.
#pragma once

#include <crmine/core/matrix.hpp>

#include <cstdint>

namespace crmine {

/// Result of `peer_deviations`: per row and feature the segment's median and robust spread and the
/// customer's z = (value - median) / spread; per row the largest |z| and its feature.
struct PeerDeviations {
  RowMatrix median;          ///< the row's segment median of each feature (NaN: no value in the segment)
  RowMatrix scale;           ///< the segment's robust spread (NaN: constant feature in the segment)
  RowMatrix z;               ///< NaN where the value, the spread or enough peers is missing
  Eigen::VectorXd score;     ///< max |z| over the row's features, NaN when every z is NaN
  Eigen::VectorXi driver;    ///< feature of that max (first on ties), -1 when score is NaN
};

/// Each row of X against the other rows of its segment `segment[i]` (codes 0 .. k-1). Per segment
/// and feature, ignoring NaN values: the median, and as spread 1.4826 x the median absolute
/// deviation, falling back to IQR / 1.349 (type-7 quartiles) and then to sqrt(pi / 2) x the mean
/// absolute deviation when half a segment shares one value (each a consistent estimate of sigma
/// for normal data); NaN when all are 0. Rows of segments with fewer than `min_peers` rows get NaN
/// z. X may hold NaN (a missing feature, ignored) but not infinity; throws InvalidArgument for
/// infinity, a segment vector of another length or with negative codes, or min_peers < 2.
/// Segments and features are independent work units, so the result is the same at any n_threads.
PeerDeviations peer_deviations(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& segment, int min_peers = 5,
                               int n_threads = 0);

}  // namespace crmine
