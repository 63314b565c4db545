// SPDX-License-Identifier: Apache-2.0
// TransactionModel's shared state and the discounted CLV sum.
#include <crmine/clv/model.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <cmath>

namespace crmine {

void TransactionModel::check_fitted(const char* caller) const {
  if (!fitted_) throw NotFittedError(detail::concat(caller, ": the model is not fitted; call fit or set_params"));
}

const Eigen::VectorXd& TransactionModel::params() const {
  check_fitted("TransactionModel::params");
  return params_;
}

const Eigen::VectorXd& TransactionModel::standard_errors() const {
  check_fitted("TransactionModel::standard_errors");
  return standard_errors_;
}

const ClvFitReport& TransactionModel::report() const {
  check_fitted("TransactionModel::report");
  return report_;
}

void TransactionModel::set_params(const Eigen::VectorXd& params) {
  detail::check_params(params, param_names().size(), "TransactionModel::set_params");
  params_ = params;
  standard_errors_ = Eigen::VectorXd::Constant(params.size(), std::numeric_limits<double>::quiet_NaN());
  report_ = {};
  report_.message = "parameters set, not fitted";
  fitted_ = true;
}

std::vector<double> customer_lifetime_value(const TransactionModel& model, const ClvData& customers,
                                            std::span<const double> spend, const ClvOptions& options) {
  const char* caller = "customer_lifetime_value";
  if (spend.size() != customers.size())
    detail::throw_invalid(caller, "monetary_value", "has ", spend.size(), " entries, frequency has ",
                          customers.size());
  if (options.n_periods < 1) detail::throw_invalid(caller, "n_periods", "is ", options.n_periods, "; must be >= 1");
  if (!(options.period_length > 0.0) || !std::isfinite(options.period_length))
    detail::throw_invalid(caller, "period_length", "is ", options.period_length, "; must be > 0");
  if (!(options.discount_rate > -1.0) || !std::isfinite(options.discount_rate))
    detail::throw_invalid(caller, "discount_rate", "is ", options.discount_rate, "; must be > -1");
  if (!std::isfinite(options.margin)) detail::throw_invalid(caller, "margin", "is ", options.margin, "; must be finite");
  for (std::size_t i = 0; i < spend.size(); ++i)
    if (!std::isfinite(spend[i])) detail::throw_invalid(caller, "monetary_value", "row ", i, " is not finite");
  std::vector<double> clv(customers.size(), 0.0);
  std::vector<double> previous(customers.size(), 0.0);
  for (int i = 1; i <= options.n_periods; ++i) {
    const std::vector<double> cum =
        model.conditional_expected_number_of_purchases_up_to_time(i * options.period_length, customers);
    const double discount = std::pow(1.0 + options.discount_rate, -static_cast<double>(i));
    for (std::size_t c = 0; c < clv.size(); ++c) {
      clv[c] += options.margin * spend[c] * (cum[c] - previous[c]) * discount;
      previous[c] = cum[c];
    }
  }
  return clv;
}

}  // namespace crmine
