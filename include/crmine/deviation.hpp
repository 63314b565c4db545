// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the deviation area: deviation analysis: detectors, history baselines, churn alerts, explanations.
#pragma once


// History baselines, churn early warning, top-k alert metrics.
#include <crmine/deviation/alerts.hpp>
#include <crmine/deviation/history.hpp>
