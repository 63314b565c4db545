// SPDX-License-Identifier: Apache-2.0
// TransactionModel's shared state and the discounted CLV sum.
#include <crmine/clv/bg_bb.hpp>
#include <crmine/clv/bg_nbd.hpp>
#include <crmine/clv/model.hpp>
#include <crmine/clv/pareto_nbd.hpp>
#include <crmine/core/errors.hpp>

#include "engine.hpp"

#include <cmath>
#include <istream>

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

void TransactionModel::save(std::ostream& out) const {
  check_fitted("TransactionModel::save");
  detail::write_state(out, tag(), {options_, report_, params_, standard_errors_});
}

void TransactionModel::read(std::istream& in, ModelTag tag) {
  detail::SavedState s = detail::read_state(in, tag, param_names().size());
  options_ = std::move(s.options);
  report_ = std::move(s.report);
  params_ = std::move(s.params);
  standard_errors_ = std::move(s.standard_errors);
  fitted_ = true;
}

std::unique_ptr<TransactionModel> load_transaction_model(std::istream& in) {
  const ModelTag tag = peek_model_tag(in);
  if (tag == BetaGeo::kTag) return std::make_unique<BetaGeo>(BetaGeo::load(in));
  if (tag == ModifiedBetaGeo::kTag) return std::make_unique<ModifiedBetaGeo>(ModifiedBetaGeo::load(in));
  if (tag == ParetoNBD::kTag) return std::make_unique<ParetoNBD>(ParetoNBD::load(in));
  if (tag == BetaGeoBetaBinom::kTag) return std::make_unique<BetaGeoBetaBinom>(BetaGeoBetaBinom::load(in));
  throw ModelFormatError(detail::concat("load_transaction_model: record tag '", std::string(tag.data(), 4),
                                        "' is not a CLV purchase model (BGNB, MBGN, PNBD, BGBB)"));
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
