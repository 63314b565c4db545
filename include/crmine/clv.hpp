// SPDX-License-Identifier: Apache-2.0
// Customer lifetime value: purchase models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB), the Gamma-Gamma
// spend model, the CLV summary of a transaction log and discounted CLV.
#pragma once

#include <crmine/clv/bg_bb.hpp>
#include <crmine/clv/bg_nbd.hpp>
#include <crmine/clv/diagnostics.hpp>
#include <crmine/clv/gamma_gamma.hpp>
#include <crmine/clv/model.hpp>
#include <crmine/clv/pareto_nbd.hpp>
#include <crmine/clv/summary.hpp>
