// SPDX-License-Identifier: Apache-2.0
// Contribution analysis: how customer value concentrates (Pareto curve, Gini, ABC classes).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace crmine {

/// Options of `contribution`.
struct ContributionOptions {
  double a_share = 0.80;  ///< class A: the most valuable customers making up this share of value
  double b_share = 0.15;  ///< class B: the next customers making up this share; C: the rest
  std::vector<double> top_fractions = {0.01, 0.05, 0.10, 0.20, 0.50};  ///< report the value share
                                                                       ///< of these top fractions
  std::size_t curve_points = 101;  ///< points of the Pareto curve (>= 2), evenly spaced in
                                   ///< customer share
};

/// How value concentrates across customers.
///
/// Customers are ranked by value, highest first, ties by ascending id. Customer i is in class
/// A while the customers ranked before it hold less than a_share of the total, in B while they
/// hold less than a_share + b_share, else in C: so the customer that crosses 80% is still A.
struct Contribution {
  std::vector<std::int64_t> customer;        ///< as given
  std::vector<double> value;                 ///< as given
  std::vector<std::int64_t> rank;            ///< 1 = most valuable
  std::vector<double> cumulative_share;      ///< share of total held by ranks 1..rank
  std::vector<char> abc;                     ///< 'A', 'B' or 'C'
  double total = 0.0;                        ///< sum of value
  double gini = 0.0;                         ///< Gini coefficient of value (0 = equal); with
                                             ///< negative values it can leave [0, 1]
  std::vector<double> top_fractions;         ///< as in the options
  std::vector<double> top_shares;            ///< share of total held by the top fraction
                                             ///< (ceil(fraction * n) customers)
  std::vector<double> curve_customer_share;  ///< Pareto curve x: share of customers, top first
  std::vector<double> curve_value_share;     ///< Pareto curve y: their share of total value
  std::int64_t n_negative = 0;               ///< customers with value < 0 (unprofitable when
                                             ///< value is profit)
  double negative_total = 0.0;               ///< sum of those negative values
  std::int64_t class_counts[3] = {0, 0, 0};  ///< customers in A, B, C
};

/// Computes the contribution analysis of per-customer values. Throws InvalidArgument on
/// mismatched lengths, no customers, non-finite values, a total that is not positive (shares
/// are then meaningless), or shares outside (0, 1] with a_share + b_share > 1.
Contribution contribution(std::span<const std::int64_t> customer, std::span<const double> value,
                          const ContributionOptions& options = {});

}  // namespace crmine
