// SPDX-License-Identifier: Apache-2.0
// Satisfaction metrics with confidence intervals (NPS, CSAT) and key-driver analysis.
#pragma once

#include <crmine/core/matrix.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace crmine {

/// How the confidence interval of a Net Promoter Score is computed.
///
/// With n responses, p+ promoters (9-10) and p- detractors (0-6) as shares, NPS = p+ - p-. As a
/// difference of two shares of one trinomial its variance is (p+ + p- - (p+ - p-)^2) / n.
enum class NpsInterval {
  wald,           ///< NPS +- z * sqrt(var / n) from the observed shares
  adjusted_wald,  ///< the same after adding 3/4 promoter, 3/4 detractor and 3/2 passive pseudo-responses
                  ///< (n + 3), the interval Rocks (2016, The American Statistician) found best covered
  bootstrap       ///< percentile interval of `n_boot` seeded resamples of the responses
};

/// How the confidence interval of a share (CSAT) is computed.
enum class ProportionInterval {
  wald,   ///< p +- z * sqrt(p (1 - p) / n)
  wilson  ///< Wilson (1927) score interval: stays inside [0, 1] and covers well for small n
};

/// Options of `nps`.
struct NpsOptions {
  NpsInterval interval = NpsInterval::adjusted_wald;  ///< interval method
  double confidence = 0.95;                           ///< two-sided level, in (0, 1)
  int n_boot = 2000;                                  ///< resamples for the bootstrap, >= 100
  std::uint64_t seed = 0;                             ///< bootstrap seed; same seed => same interval
  int n_jobs = 0;                                     ///< threads for the bootstrap; 0 = all cores
};

/// Net Promoter Score per group (all arrays have one entry per group, in group-code order).
/// NPS, its standard error and the bounds are on the usual -100..100 scale.
struct NpsTable {
  std::vector<std::int64_t> n, promoters, passives, detractors;
  std::vector<double> nps, se, lower, upper;
  std::size_t size() const { return n.size(); }
};

/// NPS of 0..10 likelihood-to-recommend `scores`, per group when `group` (codes 0..n_groups-1,
/// one per score) is given, else of all scores as one group. Throws InvalidArgument naming the
/// argument for an empty input, a score that is not a whole number in 0..10 (NaN included),
/// a group code out of range, a group without responses, or bad options.
NpsTable nps(std::span<const double> scores, std::span<const std::int32_t> group = {}, std::int32_t n_groups = 1,
             const NpsOptions& options = {});

/// Options of `csat`.
struct CsatOptions {
  double scale_min = 1.0;                                 ///< lowest possible rating
  double scale_max = 5.0;                                 ///< highest possible rating (> scale_min)
  double threshold = 4.0;                                 ///< ratings >= threshold count as satisfied
                                                          ///< (4 on 1..5 = the usual top-2-box CSAT)
  ProportionInterval interval = ProportionInterval::wilson;  ///< interval method for the share
  double confidence = 0.95;                               ///< two-sided level, in (0, 1)
};

/// Customer satisfaction per group: the share of satisfied responses in percent with its interval,
/// and the mean rating with a normal-theory (z) interval.
struct CsatTable {
  std::vector<std::int64_t> n, satisfied;
  std::vector<double> csat, lower, upper;               ///< percent, 0..100
  std::vector<double> mean_rating, mean_lower, mean_upper;
  std::size_t size() const { return n.size(); }
};

/// CSAT of `ratings` per group (see `nps` for `group`). Throws InvalidArgument for an empty input,
/// a rating outside [scale_min, scale_max] or not finite, a threshold outside the scale, bad group
/// codes, an empty group, or a bad confidence level.
CsatTable csat(std::span<const double> ratings, std::span<const std::int32_t> group = {}, std::int32_t n_groups = 1,
               const CsatOptions& options = {});

/// The two-sided normal quantile z with P(|Z| <= z) = confidence (1.959964... for 0.95).
double normal_quantile_two_sided(double confidence);

/// Options of `key_drivers`.
struct KeyDriverOptions {
  bool shapley = true;      ///< compute the exact Shapley (general dominance) decomposition
  int max_attributes = 20;  ///< exact Shapley visits 2^p subsets; more attributes throw (<= 26)
  int n_jobs = 0;           ///< threads; 0 = all cores. Results do not depend on it.
};

/// The relative importance of p attributes for an outcome, from a linear regression of the outcome
/// on the attributes. Both decompositions split the model's R^2 among the attributes: the weights
/// sum to `r2`.
///
/// Shapley values (Lipovetsky & Conklin 2001), which equal the general dominance weights of
/// dominance analysis (Budescu 1993; Azen & Budescu 2003), average each attribute's increment in
/// R^2 over all 2^(p-1) subsets of the other attributes with weights |S|! (p-|S|-1)! / p!.
/// Relative weights (Johnson 2000) regress the outcome on the orthogonal matrix closest to the
/// attributes and share its R^2 back by the squared loadings. Everything is computed from the
/// correlation matrix, so scaling an attribute changes nothing.
struct KeyDrivers {
  std::int64_t n = 0;                          ///< responses used
  double r2 = 0.0;                             ///< R^2 of the full model
  Eigen::VectorXd shapley;                     ///< general dominance weights; empty when not computed
  Eigen::VectorXd relative_weights;            ///< Johnson's raw relative weights
  Eigen::VectorXd beta;                        ///< standardised regression coefficients
  Eigen::VectorXd correlation;                 ///< correlation of each attribute with the outcome
  Eigen::VectorXd mean;                        ///< mean of each attribute (the "performance")
  RowMatrix conditional_dominance;             ///< p x p: row j, column k = mean R^2 increment of
                                               ///< attribute j over subsets of k other attributes
};

/// Key-driver analysis of outcome `y` on attributes `X` (n x p, rows = responses). Throws
/// InvalidArgument naming the argument for fewer than p + 2 rows, mismatched lengths, NaN/inf
/// (row and column given), a constant attribute or outcome, perfectly collinear attributes, or
/// p > max_attributes while `shapley` is set.
KeyDrivers key_drivers(MatrixRef X, VectorRef y, const KeyDriverOptions& options = {});

/// The same from a correlation matrix of the attributes (`Rxx`, p x p) and their correlations
/// with the outcome (`rxy`); `n` and `mean` of the result stay empty.
KeyDrivers key_drivers_from_correlation(MatrixRef Rxx, VectorRef rxy, const KeyDriverOptions& options = {});

/// R^2 of the regression of the outcome on every subset of the attributes, indexed by the subset's
/// bit mask (bit j = attribute j; entry 0 is the empty model, 0). 2^p values.
std::vector<double> all_subsets_r2(MatrixRef Rxx, VectorRef rxy, int n_jobs = 0);

}  // namespace crmine
