// SPDX-License-Identifier: Apache-2.0
// Segment profiles: sizes, typical values, standardised differences and proposed names.
#include <crmine/cluster/profiles.hpp>
#include <crmine/core/errors.hpp>

#include "common.hpp"
#include "stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace crmine {

std::vector<SegmentProfile> segment_profiles(MatrixRef X, const Eigen::Ref<const Eigen::VectorXi>& labels, VectorRef value,
                                             const ProfileOptions& o) {
  constexpr const char* where = "segment_profiles";
  detail::check_data(where, "X", X);
  const Eigen::Index n = X.rows(), d = X.cols();
  if (labels.size() != n) detail::throw_invalid(where, "labels", "has ", labels.size(), " entries, X has ", n, " rows");
  if (labels.minCoeff() < 0) detail::throw_invalid(where, "labels", "must be >= 0");
  if (value.size() != 0 && value.size() != n) detail::throw_invalid(where, "value", "has ", value.size(), " entries, X has ", n, " rows");
  if (value.size() && !value.allFinite()) detail::throw_invalid(where, "value", "contains NaN or infinity");
  auto check_names = [&](const std::vector<std::string>& v, const char* name) {
    if (!v.empty() && static_cast<Eigen::Index>(v.size()) != d) detail::throw_invalid(where, name, "has ", v.size(), " entries, X has ", d, " columns");
  };
  check_names(o.feature_names, "feature_names");
  check_names(o.high_words, "high_words");
  check_names(o.low_words, "low_words");
  if (o.name_features < 1) detail::throw_invalid(where, "name_features", "must be >= 1");
  if (!(o.min_effect >= 0)) detail::throw_invalid(where, "min_effect", "must be >= 0");

  const int k = labels.maxCoeff() + 1;
  const Eigen::RowVectorXd total_sum = X.colwise().sum();
  const Eigen::RowVectorXd overall_mean = total_sum / static_cast<double>(n);
  const Eigen::RowVectorXd sd = ((X.rowwise() - overall_mean).array().square().colwise().sum() / static_cast<double>(n)).sqrt();
  const double value_total = value.size() ? value.sum() : 0.0;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::vector<Eigen::Index>> members(static_cast<std::size_t>(k));
  for (Eigen::Index i = 0; i < n; ++i) members[labels[i]].push_back(i);

  std::vector<SegmentProfile> out;
  for (int s = 0; s < k; ++s) {
    const auto& rows = members[s];
    SegmentProfile p;
    p.segment = s;
    p.size = static_cast<Eigen::Index>(rows.size());
    p.share = static_cast<double>(p.size) / static_cast<double>(n);
    p.mean = Eigen::VectorXd::Constant(d, nan);
    p.median = Eigen::VectorXd::Constant(d, nan);
    p.effect = Eigen::VectorXd::Zero(d);
    p.value_share = nan;
    p.value_mean = nan;
    if (!rows.empty()) {
      Eigen::RowVectorXd sum = Eigen::RowVectorXd::Zero(d);
      for (Eigen::Index i : rows) sum += X.row(i);
      p.mean = (sum / static_cast<double>(p.size)).transpose();
      std::vector<double> col(rows.size());
      for (Eigen::Index f = 0; f < d; ++f) {
        for (std::size_t r = 0; r < rows.size(); ++r) col[r] = X(rows[r], f);
        p.median[f] = detail::quantile(col, 0.5);
        if (p.size < n && sd[f] > 0) {
          const double outside = (total_sum[f] - sum[f]) / static_cast<double>(n - p.size);
          p.effect[f] = (p.mean[f] - outside) / sd[f];
        }
      }
      if (value.size()) {
        double v = 0;
        for (Eigen::Index i : rows) v += value[i];
        p.value_share = value_total != 0 ? v / value_total : nan;
        p.value_mean = v / static_cast<double>(p.size);
      }
    }
    p.distinguishing.resize(static_cast<std::size_t>(d));
    std::iota(p.distinguishing.begin(), p.distinguishing.end(), 0);
    std::stable_sort(p.distinguishing.begin(), p.distinguishing.end(),
                     [&](int a, int b) { return std::abs(p.effect[a]) > std::abs(p.effect[b]); });
    std::string name;
    int used = 0;
    for (int f : p.distinguishing) {
      if (used >= o.name_features || std::abs(p.effect[f]) < o.min_effect || p.effect[f] == 0) break;
      const std::string feature = o.feature_names.empty() ? std::string("x").append(std::to_string(f)) : o.feature_names[f];
      const bool high = p.effect[f] > 0;
      const std::vector<std::string>& words = high ? o.high_words : o.low_words;
      if (used) name.append(", ");
      if (!words.empty() && !words[f].empty()) {
        name.append(words[f]);
      } else {
        name.append(high ? "high " : "low ").append(feature);
      }
      ++used;
    }
    p.name = rows.empty() ? "empty" : (name.empty() ? "typical" : name);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace crmine
