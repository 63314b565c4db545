// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the cluster area: segmentation by k-means, k-prototypes, Gaussian mixtures.
#pragma once

#include <crmine/cluster/kmeans.hpp>
#include <crmine/cluster/factory.hpp>
#include <crmine/cluster/gaussian_mixture.hpp>
#include <crmine/cluster/kprototypes.hpp>
#include <crmine/cluster/metrics.hpp>
#include <crmine/cluster/profiles.hpp>
#include <crmine/cluster/scaler.hpp>
