// SPDX-License-Identifier: Apache-2.0
// Loading any saved dense-input clusterer behind the Clusterer interface.
#pragma once

#include <crmine/core/estimator.hpp>

#include <iosfwd>
#include <memory>

namespace crmine {

/// Loads a saved KMeans, MiniBatchKMeans or GaussianMixture, whichever the record holds (by its
/// model tag). KPrototypes and KModes take categorical input, so they are not Clusterers; their
/// records, like any other, raise ModelFormatError here.
std::unique_ptr<Clusterer> load_clusterer(std::istream& in);

}  // namespace crmine
