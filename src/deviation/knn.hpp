// SPDX-License-Identifier: Apache-2.0
// Exact k-nearest-neighbour search for LocalOutlierFactor: a kd-tree and blocked brute force.
#pragma once

#include <crmine/core/matrix.hpp>

#include "../cluster/common.hpp"  // squared_distance

#include <algorithm>
#include <utility>
#include <vector>

namespace crmine::detail {

/// The k best (squared distance, index) pairs seen so far, ordered lexicographically so that ties
/// resolve by index and results do not depend on the search order.
class TopK {
 public:
  explicit TopK(int k) : k_(static_cast<std::size_t>(k)) { heap_.reserve(k_); }
  void clear() { heap_.clear(); }
  bool full() const { return heap_.size() == k_; }
  /// The k-th best squared distance so far (meaningful once full()).
  double worst() const { return heap_.front().first; }
  void offer(double d2, int index) {
    const std::pair<double, int> item{d2, index};
    if (heap_.size() < k_) {
      heap_.push_back(item);
      std::push_heap(heap_.begin(), heap_.end());
    } else if (item < heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.back() = item;
      std::push_heap(heap_.begin(), heap_.end());
    }
  }
  /// The pairs, nearest first.
  std::vector<std::pair<double, int>>& sorted() {
    std::sort_heap(heap_.begin(), heap_.end());
    return heap_;
  }

 private:
  std::size_t k_;
  std::vector<std::pair<double, int>> heap_;
};

/// A kd-tree over a copy of the rows in tree order (leaves are contiguous), split at the median of
/// the widest dimension; queries prune subtrees whose bounding box is farther than the k-th best.
class KdTree {
 public:
  KdTree(MatrixRef X, int leaf_size) : d_(X.cols()), points_(X.rows(), X.cols()), original_(static_cast<std::size_t>(X.rows())) {
    for (Eigen::Index i = 0; i < X.rows(); ++i) original_[static_cast<std::size_t>(i)] = static_cast<int>(i);
    order_ = original_;
    build(X, 0, static_cast<int>(X.rows()), leaf_size);
    for (Eigen::Index i = 0; i < X.rows(); ++i) points_.row(i) = X.row(order_[static_cast<std::size_t>(i)]);
    original_ = std::move(order_);
  }

  /// Offers every point that can be among the k nearest of q to `best`.
  void query(const double* q, TopK& best) const { search(0, q, box_distance(0, q), best); }

 private:
  struct Node {
    int begin, end, left, right;  // left < 0: a leaf
  };

  int build(MatrixRef X, int begin, int end, int leaf_size) {
    const int id = static_cast<int>(nodes_.size());
    nodes_.push_back({begin, end, -1, -1});
    lo_.resize(lo_.size() + static_cast<std::size_t>(d_));
    hi_.resize(hi_.size() + static_cast<std::size_t>(d_));
    double* lo = lo_.data() + static_cast<std::size_t>(id) * static_cast<std::size_t>(d_);
    double* hi = hi_.data() + static_cast<std::size_t>(id) * static_cast<std::size_t>(d_);
    for (Eigen::Index f = 0; f < d_; ++f) lo[f] = hi[f] = X(order_[static_cast<std::size_t>(begin)], f);
    for (int i = begin + 1; i < end; ++i)
      for (Eigen::Index f = 0; f < d_; ++f) {
        const double v = X(order_[static_cast<std::size_t>(i)], f);
        lo[f] = std::min(lo[f], v);
        hi[f] = std::max(hi[f], v);
      }
    Eigen::Index split = 0;
    for (Eigen::Index f = 1; f < d_; ++f)
      if (hi[f] - lo[f] > hi[split] - lo[split]) split = f;
    if (end - begin <= leaf_size || !(hi[split] > lo[split])) return id;
    const int mid = begin + (end - begin) / 2;
    std::nth_element(order_.begin() + begin, order_.begin() + mid, order_.begin() + end, [&](int a, int b) {
      const double va = X(a, split), vb = X(b, split);
      return va < vb || (va == vb && a < b);
    });
    const int left = build(X, begin, mid, leaf_size);
    const int right = build(X, mid, end, leaf_size);
    nodes_[static_cast<std::size_t>(id)].left = left;
    nodes_[static_cast<std::size_t>(id)].right = right;
    return id;
  }

  double box_distance(int node, const double* q) const {
    const double* lo = lo_.data() + static_cast<std::size_t>(node) * static_cast<std::size_t>(d_);
    const double* hi = hi_.data() + static_cast<std::size_t>(node) * static_cast<std::size_t>(d_);
    double s = 0;
    for (Eigen::Index f = 0; f < d_; ++f) {
      const double t = q[f] < lo[f] ? lo[f] - q[f] : (q[f] > hi[f] ? q[f] - hi[f] : 0.0);
      s += t * t;
    }
    return s;
  }

  void search(int id, const double* q, double box_d2, TopK& best) const {
    if (best.full() && box_d2 > best.worst()) return;
    const Node& node = nodes_[static_cast<std::size_t>(id)];
    if (node.left < 0) {
      for (int i = node.begin; i < node.end; ++i)
        best.offer(squared_distance(q, points_.row(i).data(), d_), original_[static_cast<std::size_t>(i)]);
      return;
    }
    const double dl = box_distance(node.left, q), dr = box_distance(node.right, q);
    if (dl <= dr) {
      search(node.left, q, dl, best);
      search(node.right, q, dr, best);
    } else {
      search(node.right, q, dr, best);
      search(node.left, q, dl, best);
    }
  }

  Eigen::Index d_;
  RowMatrix points_;
  std::vector<int> original_, order_;
  std::vector<Node> nodes_;
  std::vector<double> lo_, hi_;
};

/// Brute force for a block of queries: squared distances from ||q||^2 + ||t||^2 - 2 q.t in
/// GEMM-sized tiles of the training rows, offered to one TopK per query.
inline void brute_block(MatrixRef Q, MatrixRef T, const Eigen::VectorXd& t_norms, std::vector<TopK>& best) {
  constexpr Eigen::Index kTile = 1024;
  const Eigen::VectorXd q_norms = Q.rowwise().squaredNorm();
  RowMatrix cross;
  for (Eigen::Index b = 0; b < T.rows(); b += kTile) {
    const Eigen::Index len = std::min(kTile, T.rows() - b);
    cross.noalias() = Q * T.middleRows(b, len).transpose();
    for (Eigen::Index i = 0; i < Q.rows(); ++i)
      for (Eigen::Index j = 0; j < len; ++j)
        best[static_cast<std::size_t>(i)].offer(std::max(0.0, q_norms[i] + t_norms[b + j] - 2 * cross(i, j)), static_cast<int>(b + j));
  }
}

}  // namespace crmine::detail
