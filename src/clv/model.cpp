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
#include <tuple>

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

namespace {

/// The checks of customer_lifetime_value beyond the model's own.
void check_spend(const ClvData& customers, std::span<const double> spend, const ClvOptions& options) {
  const char* caller = "customer_lifetime_value";
  if (spend.size() != customers.size())
    detail::throw_invalid(caller, "monetary_value", "has ", spend.size(), " entries, frequency has ",
                          customers.size());
  detail::check_clv_options(options, caller);
  for (std::size_t i = 0; i < spend.size(); ++i)
    if (!std::isfinite(spend[i])) detail::throw_invalid(caller, "monetary_value", "row ", i, " is not finite");
}

}  // namespace

std::vector<double> TransactionModel::discounted_expected_purchases(const ClvData& customers,
                                                                    const ClvOptions& options) const {
  detail::check_clv_options(options, "discounted_expected_purchases");
  std::vector<double> out(customers.size(), 0.0), previous(customers.size(), 0.0);
  for (int i = 1; i <= options.n_periods; ++i) {
    const std::vector<double> cum =
        conditional_expected_number_of_purchases_up_to_time(i * options.period_length, customers);
    const double discount = std::pow(1.0 + options.discount_rate, -static_cast<double>(i));
    for (std::size_t c = 0; c < out.size(); ++c) {
      out[c] += (cum[c] - previous[c]) * discount;
      previous[c] = cum[c];
    }
  }
  return out;
}

std::vector<double> customer_lifetime_value(const TransactionModel& model, const ClvData& customers,
                                            std::span<const double> spend, const ClvOptions& options) {
  check_spend(customers, spend, options);
  std::vector<double> clv = model.discounted_expected_purchases(customers, options);
  for (std::size_t c = 0; c < clv.size(); ++c) clv[c] *= options.margin * spend[c];
  return clv;
}

void CovariateTransactionModel::check_fitted(const char* caller) const {
  if (!fitted_) throw NotFittedError(detail::concat(caller, ": the model is not fitted; call fit or set_params"));
}

const Eigen::VectorXd& CovariateTransactionModel::params() const {
  check_fitted("CovariateTransactionModel::params");
  return params_;
}

const Eigen::VectorXd& CovariateTransactionModel::standard_errors() const {
  check_fitted("CovariateTransactionModel::standard_errors");
  return standard_errors_;
}

const ClvFitReport& CovariateTransactionModel::report() const {
  check_fitted("CovariateTransactionModel::report");
  return report_;
}

void CovariateTransactionModel::set_params(const Eigen::VectorXd& params, int n_trans, int n_life) {
  const char* caller = "CovariateTransactionModel::set_params";
  if (n_trans < 0 || n_life < 0) detail::throw_invalid(caller, "n_trans", "and n_life must be >= 0");
  if (params.size() != 4 + n_trans + n_life)
    detail::throw_invalid(caller, "params", "has ", params.size(), " values, expected ", 4 + n_trans + n_life);
  detail::check_params(params.head(4), 4, caller);
  if (!params.allFinite()) detail::throw_invalid(caller, "params", "contains NaN or infinity");
  store(params, Eigen::VectorXd::Constant(params.size(), std::numeric_limits<double>::quiet_NaN()), {}, n_trans,
        n_life);
  report_.message = "parameters set, not fitted";
}

void CovariateTransactionModel::store(Eigen::VectorXd params, Eigen::VectorXd standard_errors, ClvFitReport report,
                                      int n_trans, int n_life) {
  params_ = std::move(params);
  standard_errors_ = std::move(standard_errors);
  report_ = std::move(report);
  n_trans_ = n_trans;
  n_life_ = n_life;
  fitted_ = true;
}

void CovariateTransactionModel::save(std::ostream& out) const {
  check_fitted("CovariateTransactionModel::save");
  detail::write_state(out, tag(), {options_, report_, params_, standard_errors_, n_trans_, n_life_});
}

void CovariateTransactionModel::read(std::istream& in, ModelTag tag) {
  detail::SavedState s = detail::read_state(in, tag, 4, true);
  options_ = std::move(s.options);
  store(std::move(s.params), std::move(s.standard_errors), std::move(s.report), s.n_trans, s.n_life);
}

void CovariateTransactionModel::check_covariates(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                                                 const char* caller, bool fitting) const {
  for (const auto& [z, name, k] : {std::tuple{&z_trans, "z_trans", n_trans_}, std::tuple{&z_life, "z_life", n_life_}}) {
    if (static_cast<std::size_t>(z->rows()) != data.size() && !(z->cols() == 0))
      detail::throw_invalid(caller, name, "has ", z->rows(), " rows, frequency has ", data.size());
    if (!fitting && z->cols() != k)
      detail::throw_invalid(caller, name, "has ", z->cols(), " columns, the model was fitted with ", k);
    if (!z->allFinite()) detail::throw_invalid(caller, name, "contains NaN or infinity");
  }
}

Eigen::Index CovariateTransactionModel::check_new_customers(MatrixRef z_trans, MatrixRef z_life,
                                                            const char* caller) const {
  const Eigen::Index n = std::max(z_trans.rows(), z_life.rows());
  if (z_trans.cols() != n_trans_ || z_life.cols() != n_life_ || (n_trans_ > 0 && z_trans.rows() != n) ||
      (n_life_ > 0 && z_life.rows() != n))
    detail::throw_invalid(caller, "z_trans", "and z_life must have the fitted columns (", n_trans_, ", ", n_life_,
                          ") and equal rows");
  if (!z_trans.allFinite() || !z_life.allFinite())
    detail::throw_invalid(caller, "z_trans", "and z_life must not contain NaN or infinity");
  return n;
}

std::vector<double> customer_lifetime_value(const CovariateTransactionModel& model, const ClvData& customers,
                                            MatrixRef z_trans, MatrixRef z_life, std::span<const double> spend,
                                            const ClvOptions& options) {
  check_spend(customers, spend, options);
  std::vector<double> clv = model.discounted_expected_purchases(customers, z_trans, z_life, options);
  for (std::size_t c = 0; c < clv.size(); ++c) clv[c] *= options.margin * spend[c];
  return clv;
}

}  // namespace crmine
