// SPDX-License-Identifier: Apache-2.0
// Customer value: per-customer summaries, RFM segmentation, contribution and cohort analysis.
#pragma once

#include <crmine/value/cohort.hpp>
#include <crmine/value/contribution.hpp>
#include <crmine/value/rfm.hpp>
#include <crmine/value/summary.hpp>
