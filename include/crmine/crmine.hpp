// SPDX-License-Identifier: Apache-2.0
// Umbrella header: every public area of crmine.
#pragma once

#include <crmine/campaign.hpp>
#include <crmine/classify.hpp>
#include <crmine/cluster.hpp>
#include <crmine/clv.hpp>
#include <crmine/core/calendar.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/estimator.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/core/matrix.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>
#include <crmine/core/transactions.hpp>
#include <crmine/deviation.hpp>
#include <crmine/rules.hpp>
#include <crmine/value.hpp>
#include <crmine/version.hpp>
