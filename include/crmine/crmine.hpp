// SPDX-License-Identifier: Apache-2.0
// Umbrella header: every public area of crmine.
#pragma once

#include <crmine/clv.hpp>
#include <crmine/core/calendar.hpp>
#include <crmine/core/errors.hpp>
#include <crmine/core/id_index.hpp>
#include <crmine/core/transactions.hpp>
#include <crmine/value.hpp>
#include <crmine/version.hpp>
