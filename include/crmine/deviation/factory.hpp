// SPDX-License-Identifier: Apache-2.0
// Loading any saved outlier detector behind the Detector interface.
#pragma once

#include <crmine/core/estimator.hpp>

#include <iosfwd>
#include <memory>

namespace crmine {

/// Loads a saved IsolationForest, LocalOutlierFactor, RobustZ, Mahalanobis or HBOS, whichever the
/// record holds (by its model tag); any other record raises ModelFormatError.
std::unique_ptr<Detector> load_detector(std::istream& in);

}  // namespace crmine
