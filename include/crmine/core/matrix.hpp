// SPDX-License-Identifier: Apache-2.0
// Dense data shapes shared by every estimator: rows are samples, columns are features.
#pragma once

#include <Eigen/Core>

#include <cstdint>

namespace crmine {

/// Row-major double matrix, the layout of a C-contiguous float64 numpy array.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Read-only view of a row-major matrix; binds to numpy arrays and Eigen blocks without a copy.
using MatrixRef = Eigen::Ref<const RowMatrix>;

/// Row-major int32 matrix (category codes, one column per categorical feature).
using RowMatrixXi = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Read-only view of a row-major int32 matrix.
using MatrixXiRef = Eigen::Ref<const RowMatrixXi>;

/// Read-only view of a vector of doubles (sample weights, values).
using VectorRef = Eigen::Ref<const Eigen::VectorXd>;

}  // namespace crmine
