// SPDX-License-Identifier: Apache-2.0
// RFM (recency, frequency, monetary) scoring and the named segment map built on it.
#pragma once

#include <crmine/value/summary.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace crmine {

/// How the monetary value of a customer is measured.
enum class Monetary {
  mean,  ///< net revenue per purchase occasion (the usual "average order value")
  total  ///< net revenue over the whole log
};

/// A named cell range of the segment map: R score in [r_min, r_max], F score in [f_min, f_max]
/// and M score in [m_min, m_max] (all inclusive). Rules are tried in order; the first match wins.
struct SegmentRule {
  std::string name;
  int r_min = 1, r_max = 5;
  int f_min = 1, f_max = 5;
  int m_min = 1, m_max = 5;
};

/// The widely used 11-segment map over 5-level R and F scores (M does not enter): Champions,
/// Loyal, Potential Loyalist, New, Promising, Need Attention, About to Sleep, At Risk,
/// Can't Lose Them, Hibernating, Lost. Every (R, F) cell of the 5x5 grid has exactly one segment.
std::vector<SegmentRule> default_segment_map();

/// Options of `rfm`.
struct RfmOptions {
  int q = 5;                             ///< score levels, 2..20; scores are 1 (worst) .. q (best)
  Monetary monetary = Monetary::mean;    ///< mean per occasion or total
  std::int32_t as_of_day = CustomerSummary::kNoDay;  ///< day recency is measured from; default:
                                                     ///< the day after the last row of the log
  std::vector<SegmentRule> segment_map = default_segment_map();  ///< needs q = 5 unless replaced;
                                                                 ///< empty = no segments
  int n_jobs = 0;                        ///< threads; 0 = all cores
};

/// RFM values, scores and segments per customer (customers with at least one purchase, in
/// ascending id order).
///
/// Scores: a customer's score on a dimension is 1 + floor(q * w / n), where w is the number of
/// customers with a strictly worse value (larger recency; smaller frequency or monetary) and n
/// the number of customers. Equal values always get equal scores (ties are never split), and
/// the result does not depend on row or customer order. With heavy ties (most customers buying
/// once) some scores stay unused; that is the data speaking, not an error.
struct RfmTable {
  std::vector<std::int64_t> customer;
  std::vector<std::int32_t> recency;     ///< days from the last purchase to as_of_day (>= 0)
  std::vector<std::int64_t> frequency;   ///< purchase occasions
  std::vector<double> monetary;          ///< see Monetary
  std::vector<double> revenue;           ///< net revenue (for segment revenue shares)
  std::vector<std::uint8_t> r_score, f_score, m_score;
  std::vector<std::int16_t> segment;     ///< index into segment_names; -1 when no map is used
  std::vector<std::string> segment_names;  ///< map's names in rule order, then "Other" if any
                                           ///< customer matched no rule
  int q = 5;
  std::int32_t as_of_day = CustomerSummary::kNoDay;
  std::int64_t excluded_without_purchase = 0;  ///< customers with returns only, left out
  std::size_t size() const { return customer.size(); }
};

/// Scores customers from their summary. Throws InvalidArgument for q out of range, a segment
/// map whose ranges leave 1..q, the default map with q != 5, an as_of_day before a customer's
/// last purchase, or a summary with no purchase at all.
RfmTable rfm(const CustomerSummary& summary, const RfmOptions& options = {});

/// Scores the customers of a log: the same table as `rfm(summarize(log, summary_options), options)`.
/// When the log allows (dense ids, occasions keyed by day, no cost, no return) it is folded
/// straight into a 16-byte state per customer without building the summary, which at 100M rows
/// saves half the memory traffic; otherwise it summarises first. Validates the log like `summarize`.
RfmTable rfm(const TransactionLog& log, const RfmOptions& options = {}, const SummaryOptions& summary_options = {});

/// Per-segment summary: customers, share of customers, revenue share, mean R/F/M.
struct SegmentSummary {
  std::vector<std::string> segment;
  std::vector<std::int64_t> customers;
  std::vector<double> customer_share;
  std::vector<double> revenue;
  std::vector<double> revenue_share;
  std::vector<double> mean_recency, mean_frequency, mean_monetary;
};

/// Summarises an RfmTable by segment, in segment-map order (segments without customers kept,
/// with zero counts, so that reports show the whole map).
SegmentSummary summarize_segments(const RfmTable& table);

/// 1 + floor(q * w / n) scores of `values` (w = number of strictly smaller values when
/// `higher_is_better`, strictly larger otherwise). Exposed for reuse and testing.
std::vector<std::uint8_t> quantile_scores(const std::vector<double>& values, int q, bool higher_is_better);

}  // namespace crmine
