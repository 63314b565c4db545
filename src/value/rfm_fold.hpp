// SPDX-License-Identifier: Apache-2.0
// The fold behind rfm(log): per-customer state for recency, frequency and monetary only.
#pragma once

#include <crmine/core/transactions.hpp>
#include <crmine/value/summary.hpp>

#include "../core/random_access_array.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace crmine::detail {

/// What RFM needs of a customer, in 16 bytes: a quarter of the general state, so the fold maps a
/// quarter of the fresh memory, and no summary columns are built in between.
struct alignas(16) RfmState {
  std::int32_t last_day = CustomerSummary::kNoDay;
  std::int32_t occasions = 0;  ///< purchase days; 0 = the id does not occur
  double revenue = 0.0;
};
static_assert(sizeof(RfmState) == 16);

/// States of the ids min_id .. min_id + states->size() - 1, folded straight from the log.
struct RfmFold {
  std::int64_t min_id = 0;
  std::unique_ptr<RandomAccessArray<RfmState>> states;
  std::int32_t max_day = CustomerSummary::kNoDay;  ///< latest day of any row
};

/// Folds a validated log (`facts` from `validate`) into RFM states when it allows (dense ids,
/// occasions keyed by day, no cost, no return, every customer's days in order); nullopt otherwise,
/// and the caller goes through `summarize_validated`.
std::optional<RfmFold> fold_for_rfm(const TransactionLog& log, const LogFacts& facts, const SummaryOptions& options);

/// `summarize` of a log already validated (`facts` from `validate`): validation is one pass over
/// the amounts and one over the times, not to be made twice on rfm's fallback path.
CustomerSummary summarize_validated(const TransactionLog& log, const LogFacts& facts, const SummaryOptions& options);

}  // namespace crmine::detail
