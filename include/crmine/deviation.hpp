// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the deviation area: deviation analysis: detectors, history baselines, churn alerts, explanations.
#pragma once


// Detectors (one interface: crmine::Detector in core/estimator.hpp).
#include <crmine/deviation/factory.hpp>
#include <crmine/deviation/hbos.hpp>
#include <crmine/deviation/isolation_forest.hpp>
#include <crmine/deviation/lof.hpp>
#include <crmine/deviation/mahalanobis.hpp>
#include <crmine/deviation/robust_z.hpp>

// History baselines, peer-group deviations, churn early warning, alert explanations, top-k alert metrics.
#include <crmine/deviation/alerts.hpp>
#include <crmine/deviation/explain.hpp>
#include <crmine/deviation/history.hpp>
#include <crmine/deviation/peers.hpp>
