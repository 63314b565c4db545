// SPDX-License-Identifier: Apache-2.0
// What every CLV purchase model shares: the per-customer input, fit options, the fit report and
// the abstract TransactionModel interface that CLV and the Python layer program against.
#pragma once

#include <crmine/core/matrix.hpp>
#include <crmine/core/serialize.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace crmine {

/// Repeat-purchase statistics per customer (or per group of identical customers), in model time
/// units (e.g. weeks). For BG/BB all three are whole numbers of discrete purchase opportunities.
struct ClvData {
  std::span<const double> frequency;  ///< x: repeat purchases (purchase occasions after the first); whole, >= 0
  std::span<const double> recency;    ///< t_x: time of the last purchase since the first; 0 when x = 0
  std::span<const double> T;          ///< age: time from the first purchase to the end of calibration; > 0
  std::span<const double> weights;    ///< optional customers per row (grouped data); empty = all 1

  std::size_t size() const { return frequency.size(); }
};

/// Options of every maximum-likelihood CLV fit.
struct ClvFitOptions {
  double penalizer_coef = 0.0;  ///< L2 penalty: adds penalizer_coef * sum(params^2) to the mean negative
                                ///< log-likelihood (lifetimes' convention); >= 0
  int max_iter = 1000;          ///< quasi-Newton iterations before giving up; >= 1
  double tol = 1e-8;            ///< converged when the largest gradient component of the mean objective
                                ///< with respect to log-parameters is below tol (or below sqrt(tol)
                                ///< once no step decreases the objective in double precision); > 0
  std::vector<double> initial_params;  ///< starting point in the papers' order; empty = model default
  int n_jobs = 0;               ///< threads for the likelihood; 0 = all cores. Results do not depend on it.
};

/// How a fit went. Non-convergence is reported here, never thrown.
struct ClvFitReport {
  int n_iter = 0;                 ///< quasi-Newton iterations
  int n_evaluations = 0;          ///< likelihood + gradient evaluations
  bool converged = false;         ///< gradient criterion met
  double gradient_norm = 0.0;     ///< max |d objective / d log-param| at the solution
  double log_likelihood = 0.0;    ///< total log-likelihood at the solution (weights applied, no penalty)
  std::size_t n_rows = 0;         ///< distinct (x, t_x, T) patterns the likelihood was evaluated on
  double n_customers = 0.0;       ///< sum of weights
  std::string message;            ///< why the optimiser stopped
};

/// Options of `customer_lifetime_value`: a discounted sum of expected purchases per period.
struct ClvOptions {
  int n_periods = 12;            ///< number of periods in the horizon; >= 1
  double period_length = 1.0;    ///< one period in model time units (e.g. 4.345 weeks per month); > 0
  double discount_rate = 0.01;   ///< per period; period i (1-based) is divided by (1 + rate)^i; > -1
  double margin = 1.0;           ///< share of spend kept as profit; multiplies the result
};

/// A model of repeat purchases (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB): fit by maximum likelihood,
/// then predict per customer. Parameters are in the papers' order and names (`param_names`).
class TransactionModel {
 public:
  virtual ~TransactionModel() = default;

  /// Fits by maximum likelihood on identical rows collapsed with weights; returns *this.
  virtual TransactionModel& fit(const ClvData& data) = 0;
  /// Total log-likelihood of `data` at the current parameters; with `gradient`, also its
  /// gradient with respect to the (natural) parameters.
  virtual double log_likelihood(const ClvData& data, Eigen::VectorXd* gradient = nullptr) const = 0;
  /// P(customer still alive at the end of calibration | x, t_x, T).
  virtual std::vector<double> conditional_probability_alive(const ClvData& customers) const = 0;
  /// E[purchases in (T, T + t] | x, t_x, T].
  virtual std::vector<double> conditional_expected_number_of_purchases_up_to_time(
      double t, const ClvData& customers) const = 0;
  /// E[purchases in (0, t]] of a customer just acquired.
  virtual double expected_number_of_purchases_up_to_time(double t) const = 0;
  /// P(X(t) = n): the probability that a customer just acquired makes exactly n repeat
  /// purchases in (0, t]. n >= 0; t >= 0 (whole opportunities for BG/BB).
  virtual double probability_of_n_purchases_up_to_time(double t, int n) const = 0;
  /// P(X(T, T + t) = n | x, t_x, T): per customer, the probability of exactly n purchases in the
  /// next t time units. Computed as (1 - P(alive)) [n = 0] + P(alive) P'(X(t) = n), with P' the
  /// unconditional probability at the parameters updated by the customer's history (Fader &
  /// Hardie's conditional PMF).
  virtual std::vector<double> conditional_probability_of_n_purchases_up_to_time(
      int n, double t, const ClvData& customers) const = 0;
  /// Per customer, sum over periods i = 1..n of (E[Y(i len)] - E[Y((i-1) len)]) / (1 + rate)^i:
  /// the discounted expected purchases of the horizon in `options` (margin not applied), which
  /// `customer_lifetime_value` multiplies by spend and margin. The default evaluates the
  /// conditional expectation once per period; models override it to share work across periods.
  virtual std::vector<double> discounted_expected_purchases(const ClvData& customers,
                                                            const ClvOptions& options) const;
  /// The parameters' names in the papers' notation, in `params()` order.
  virtual std::vector<std::string> param_names() const = 0;

  bool is_fitted() const { return fitted_; }
  /// Fitted (or set) parameters; throws NotFittedError before fit/set_params.
  const Eigen::VectorXd& params() const;
  /// Standard errors from the inverse Hessian of the negative log-likelihood (NaN when singular).
  const Eigen::VectorXd& standard_errors() const;
  const ClvFitReport& report() const;
  const ClvFitOptions& options() const { return options_; }
  /// Sets the parameters directly (all > 0), e.g. to predict with published values.
  void set_params(const Eigen::VectorXd& params);
  /// Writes the fitted model (options, report, parameters, standard errors) in crmine's
  /// versioned format; throws NotFittedError before fit/set_params.
  void save(std::ostream& out) const;
  /// The four-character tag of this model's records (docs/developer/model-format.md).
  virtual ModelTag tag() const = 0;

 protected:
  explicit TransactionModel(ClvFitOptions options) : options_(std::move(options)) {}
  void check_fitted(const char* caller) const;
  /// Reads a record written by `save` of a model with tag `tag` into *this.
  void read(std::istream& in, ModelTag tag);

  ClvFitOptions options_;
  Eigen::VectorXd params_;
  Eigen::VectorXd standard_errors_;
  ClvFitReport report_;
  bool fitted_ = false;
};

/// A purchase model with static (time-invariant) customer covariates, parameterised as CLVTools
/// does: each customer's base parameters are the population's scaled by exp(+-gamma' z), with
/// z_trans acting on the purchase process and z_life on dropout (Fader & Hardie 2007,
/// "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD models"; Bachmann,
/// Meierer & Naef, CLVTools). Without covariate columns it is the plain model.
///
/// Covariates are n x k row-major matrices (k may be 0, the two may differ); predictions need the
/// same columns the model was fitted with. Parameters: the four base parameters (`param_names`),
/// then gamma_trans (k_trans values), then gamma_life (k_life values).
class CovariateTransactionModel {
 public:
  virtual ~CovariateTransactionModel() = default;
  /// Fits by maximum likelihood with exact gradients (no collapsing: customers differ in z),
  /// started from the plain model's fit with zero coefficients.
  virtual CovariateTransactionModel& fit(const ClvData& data, MatrixRef z_trans, MatrixRef z_life) = 0;
  /// Total log-likelihood at the current parameters; optionally its gradient in the natural
  /// parameters (base parameters, gamma_trans, gamma_life).
  virtual double log_likelihood(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                                Eigen::VectorXd* gradient = nullptr) const = 0;
  virtual std::vector<double> conditional_probability_alive(const ClvData& customers, MatrixRef z_trans,
                                                            MatrixRef z_life) const = 0;
  virtual std::vector<double> conditional_expected_number_of_purchases_up_to_time(double t, const ClvData& customers,
                                                                                  MatrixRef z_trans,
                                                                                  MatrixRef z_life) const = 0;
  /// E[X(t)] of a customer just acquired with covariates z (one value per row).
  virtual std::vector<double> expected_number_of_purchases_up_to_time(double t, MatrixRef z_trans,
                                                                      MatrixRef z_life) const = 0;
  /// As TransactionModel::discounted_expected_purchases, with each customer's covariates.
  virtual std::vector<double> discounted_expected_purchases(const ClvData& customers, MatrixRef z_trans,
                                                            MatrixRef z_life, const ClvOptions& options) const = 0;
  /// The four base parameters' names in the papers' notation.
  virtual std::vector<std::string> param_names() const = 0;
  /// The four-character tag of this model's records (docs/developer/model-format.md).
  virtual ModelTag tag() const = 0;

  bool is_fitted() const { return fitted_; }
  const Eigen::VectorXd& params() const;
  const Eigen::VectorXd& standard_errors() const;
  const ClvFitReport& report() const;
  const ClvFitOptions& options() const { return options_; }
  int n_trans() const { return n_trans_; }
  int n_life() const { return n_life_; }
  /// Sets the base parameters (> 0) and the coefficients (finite) directly.
  void set_params(const Eigen::VectorXd& params, int n_trans, int n_life);
  /// Writes the fitted model in crmine's versioned format (the common fields, then n_trans, n_life).
  void save(std::ostream& out) const;

 protected:
  explicit CovariateTransactionModel(ClvFitOptions options) : options_(std::move(options)) {}
  void check_fitted(const char* caller) const;
  /// Checks the covariates against the customers (and, once fitted, against the model).
  void check_covariates(const ClvData& data, MatrixRef z_trans, MatrixRef z_life, const char* caller,
                        bool fitting) const;
  /// Checks the covariates of new customers (expected purchases of a new customer): the fitted
  /// columns and equal rows; returns the number of rows.
  Eigen::Index check_new_customers(MatrixRef z_trans, MatrixRef z_life, const char* caller) const;
  /// Reads a record written by `save` of a model with tag `tag` into *this.
  void read(std::istream& in, ModelTag tag);
  /// Stores a fit's outcome.
  void store(Eigen::VectorXd params, Eigen::VectorXd standard_errors, ClvFitReport report, int n_trans, int n_life);

  /// The bodies of the overrides, shared by every covariate model: `Kernel` supplies the model's
  /// name, how covariates scale its parameters and its per-customer functions (see
  /// src/clv/covariates.hpp, where these are defined and each model instantiates them).
  template <typename Kernel>
  void fit_with(const ClvData& data, MatrixRef z_trans, MatrixRef z_life);
  template <typename Kernel>
  double log_likelihood_with(const ClvData& data, MatrixRef z_trans, MatrixRef z_life,
                             Eigen::VectorXd* gradient) const;
  template <typename Kernel>
  std::vector<double> alive_with(const ClvData& customers, MatrixRef z_trans, MatrixRef z_life) const;
  /// sum_j weight_j E[Y(t_j) | customer]; one horizon with weight 1 is the expected purchases.
  template <typename Kernel>
  std::vector<double> expected_with(std::span<const double> t, std::span<const double> weight,
                                    const ClvData& customers, MatrixRef z_trans, MatrixRef z_life,
                                    const char* caller) const;
  template <typename Kernel>
  std::vector<double> new_customer_expected_with(double t, MatrixRef z_trans, MatrixRef z_life) const;

  ClvFitOptions options_;
  Eigen::VectorXd params_, standard_errors_;
  ClvFitReport report_;
  int n_trans_ = 0, n_life_ = 0;
  bool fitted_ = false;
};

/// The purchase model (BG/NBD, MBG/NBD, Pareto/NBD or BG/BB) saved in `in`, whichever it is;
/// ModelFormatError for any other record or corrupt bytes.
std::unique_ptr<TransactionModel> load_transaction_model(std::istream& in);

/// CLV per customer: sum over periods i = 1..n of margin * spend * (E[Y(i*len)] - E[Y((i-1)*len)])
/// / (1 + discount_rate)^i, with E[Y] the model's conditional expected purchases and `spend` the
/// expected spend per purchase (e.g. GammaGamma::conditional_expected_average_profit).
std::vector<double> customer_lifetime_value(const TransactionModel& model, const ClvData& customers,
                                            std::span<const double> spend, const ClvOptions& options = {});

/// The same for a covariate model: each customer's expected purchases use its covariates.
std::vector<double> customer_lifetime_value(const CovariateTransactionModel& model, const ClvData& customers,
                                            MatrixRef z_trans, MatrixRef z_life, std::span<const double> spend,
                                            const ClvOptions& options = {});

}  // namespace crmine
