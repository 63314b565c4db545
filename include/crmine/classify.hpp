// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the classify area: response, churn and propensity models, metrics, scoring.
#pragma once

#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/logistic.hpp>
#include <crmine/classify/metrics.hpp>
#include <crmine/classify/mlp.hpp>
#include <crmine/classify/naive_bayes.hpp>
#include <crmine/classify/scoring.hpp>
#include <crmine/classify/tree.hpp>
