// SPDX-License-Identifier: Apache-2.0
// Feature preparation for segmentation: optional log1p of skewed columns, then standard or robust scaling.
#pragma once

#include <crmine/core/matrix.hpp>

#include <cstdint>
#include <iosfwd>
#include <vector>

namespace crmine {

/// How columns are centred and scaled after the optional log transform.
enum class ScaleMethod : std::uint8_t {
  none = 0,      ///< no centring or scaling
  standard = 1,  ///< subtract the mean, divide by the population standard deviation
  robust = 2,    ///< subtract the median, divide by the interquartile range
};

/// Hyperparameters of FeatureScaler. Names match the Python keyword arguments.
struct ScalerOptions {
  ScaleMethod method = ScaleMethod::standard;  ///< centring and scaling
  std::vector<std::uint8_t> log1p;             ///< per column, 1 = apply log(1 + x) first (needs x > -1); empty = none
};

/// Remembers a feature transform fitted on training rows so that predictions and profiles use the
/// same one; constant columns get scale 1.
class FeatureScaler {
 public:
  explicit FeatureScaler(ScalerOptions options = {});
  FeatureScaler& fit(MatrixRef X);
  RowMatrix transform(MatrixRef X) const;
  /// Back to the original units.
  RowMatrix inverse_transform(MatrixRef X) const;
  bool is_fitted() const { return fitted_; }
  const ScalerOptions& options() const { return options_; }
  /// Per column: subtracted after the log transform.
  const Eigen::VectorXd& center() const;
  /// Per column: divided by after centring.
  const Eigen::VectorXd& scale() const;
  void save(std::ostream& out) const;
  static FeatureScaler load(std::istream& in);

 private:
  ScalerOptions options_;
  Eigen::VectorXd center_, scale_;
  bool fitted_ = false;
};

}  // namespace crmine
