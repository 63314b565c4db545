// SPDX-License-Identifier: Apache-2.0
// Umbrella header of the campaign area: campaign strategy: uplift, budget-limited assignment, satisfaction, look-alikes, 7P profile.
#pragma once

#include <crmine/campaign/lookalike.hpp>
#include <crmine/campaign/optimize.hpp>
#include <crmine/campaign/profile.hpp>
#include <crmine/campaign/satisfaction.hpp>
#include <crmine/campaign/uplift.hpp>
