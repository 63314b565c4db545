// SPDX-License-Identifier: Apache-2.0
// KMeans: k-means++ / k-means|| seeding, Lloyd, Hamerly and Yinyang iterations, restarts, save/load.
#include <crmine/cluster/kmeans.hpp>
#include <crmine/core/random.hpp>
#include <crmine/core/serialize.hpp>

#include "common.hpp"
#include "kmeans_impl.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

namespace crmine {
namespace detail {
namespace {

/// Index i with probability values[i] / total, given per-chunk sums of `values`.
Eigen::Index draw_weighted(const Eigen::VectorXd& values, const std::vector<double>& chunk_sums, double total, double u) {
  double target = u * total;
  const Eigen::Index n = values.size();
  for (std::size_t c = 0; c < chunk_sums.size(); ++c) {
    if (target < chunk_sums[c] || c + 1 == chunk_sums.size()) {
      const Eigen::Index begin = static_cast<Eigen::Index>(c) * kChunkRows, end = std::min(n, begin + kChunkRows);
      Eigen::Index last_positive = -1;
      for (Eigen::Index i = begin; i < end; ++i) {
        if (values[i] > 0) last_positive = i;
        if (target < values[i]) return i;
        target -= values[i];
      }
      if (last_positive >= 0) return last_positive;  // rounding pushed us past the end of this chunk
    } else {
      target -= chunk_sums[c];
    }
  }
  for (Eigen::Index i = n - 1; i >= 0; --i)
    if (values[i] > 0) return i;
  return 0;
}

/// Weighted squared distances of every row to its closest chosen centre, kept with chunk sums.
struct Potential {
  Eigen::VectorXd closest;          // squared distance to the nearest chosen centre
  Eigen::VectorXd weighted;         // w * closest
  std::vector<double> chunk_sums;   // sums of `weighted` per chunk
  double total = 0;

  void sum_up() {
    total = 0;
    for (double s : chunk_sums) total += s;
  }
};

[[noreturn]] void too_few_distinct(const char* where, int k, Eigen::Index found) {
  throw_invalid(where, "n_clusters", k, " exceeds the number of distinct rows of X with positive weight (", found, ")");
}

}  // namespace

RowMatrix seed_kmeans_plus_plus(MatrixRef X, const Eigen::VectorXd& w, int k, Random& rng, int n_threads, const char* where) {
  const Eigen::Index n = X.rows(), d = X.cols();
  RowMatrix centres(k, d);
  Potential pot{Eigen::VectorXd(n), Eigen::VectorXd(n), std::vector<double>(static_cast<std::size_t>(chunk_count(n))), 0};
  // The first centre is drawn in proportion to weight.
  std::vector<double> w_chunks(pot.chunk_sums.size());
  for (std::size_t c = 0; c < w_chunks.size(); ++c) {
    const Eigen::Index b = static_cast<Eigen::Index>(c) * kChunkRows;
    w_chunks[c] = w.segment(b, std::min(n, b + kChunkRows) - b).sum();
  }
  double w_total = 0;
  for (double s : w_chunks) w_total += s;
  const Eigen::Index first = draw_weighted(w, w_chunks, w_total, rng.uniform());
  centres.row(0) = X.row(first);
  for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    double s = 0;
    for (Eigen::Index i = b; i < e; ++i) {
      pot.closest[i] = squared_distance(X.row(i).data(), centres.row(0).data(), d);
      pot.weighted[i] = w[i] * pot.closest[i];
      s += pot.weighted[i];
    }
    pot.chunk_sums[c] = s;
  });
  pot.sum_up();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::vector<Eigen::Index> candidates(static_cast<std::size_t>(trials));
  std::vector<double> trial_chunk_pot(static_cast<std::size_t>(trials) * pot.chunk_sums.size());
  // Distances of every row to every trial, kept so the winner's need not be measured again.
  const Eigen::Index lanes = DirectDistances(RowMatrix(trials, d)).lanes();
  std::vector<double> trial_dist(static_cast<std::size_t>(n) * static_cast<std::size_t>(lanes));
  RowMatrix trial_rows(trials, d);
  for (int j = 1; j < k; ++j) {
    if (!(pot.total > 0)) too_few_distinct(where, k, j);
    for (auto& cand : candidates) cand = draw_weighted(pot.weighted, pot.chunk_sums, pot.total, rng.uniform());
    for (int t = 0; t < trials; ++t) trial_rows.row(t) = X.row(candidates[static_cast<std::size_t>(t)]);
    const DirectDistances table(trial_rows);
    const std::size_t n_chunks = pot.chunk_sums.size();
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      std::vector<const double*> rows(static_cast<std::size_t>(e - b));
      for (Eigen::Index i = b; i < e; ++i) rows[static_cast<std::size_t>(i - b)] = X.row(i).data();
      table.compute(rows.data(), e - b, trial_dist.data() + b * lanes);
      std::vector<double> s(static_cast<std::size_t>(trials), 0.0);
      for (Eigen::Index i = b; i < e; ++i) {
        const double* out = trial_dist.data() + i * lanes;
        for (int t = 0; t < trials; ++t) s[static_cast<std::size_t>(t)] += w[i] * std::min(pot.closest[i], out[t]);
      }
      for (int t = 0; t < trials; ++t) trial_chunk_pot[static_cast<std::size_t>(t) * n_chunks + static_cast<std::size_t>(c)] = s[static_cast<std::size_t>(t)];
    });
    int best = 0;
    double best_pot = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      double s = 0;
      for (std::size_t c = 0; c < n_chunks; ++c) s += trial_chunk_pot[static_cast<std::size_t>(t) * n_chunks + c];
      if (s < best_pot) best_pot = s, best = t;
    }
    centres.row(j) = X.row(candidates[static_cast<std::size_t>(best)]);
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      double s = 0;
      for (Eigen::Index i = b; i < e; ++i) {
        pot.closest[i] = std::min(pot.closest[i], trial_dist[static_cast<std::size_t>(i * lanes + best)]);
        pot.weighted[i] = w[i] * pot.closest[i];
        s += pot.weighted[i];
      }
      pot.chunk_sums[c] = s;
    });
    pot.sum_up();
  }
  return centres;
}

RowMatrix seed_kmeans_parallel(MatrixRef X, const Eigen::VectorXd& w, int k, Random& rng, std::uint64_t seed,
                               int n_threads, const char* where) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const Eigen::Index n_chunks = chunk_count(n);
  constexpr int kRounds = 5;
  const double oversample = 2.0 * k;
  std::vector<Eigen::Index> chosen;
  // First centre: in proportion to weight, with the restart's stream.
  std::vector<double> w_chunks(static_cast<std::size_t>(n_chunks));
  for (Eigen::Index c = 0; c < n_chunks; ++c) w_chunks[c] = w.segment(c * kChunkRows, std::min(n, (c + 1) * kChunkRows) - c * kChunkRows).sum();
  double w_total = 0;
  for (double s : w_chunks) w_total += s;
  chosen.push_back(draw_weighted(w, w_chunks, w_total, rng.uniform()));
  Eigen::VectorXd closest = Eigen::VectorXd::Constant(n, std::numeric_limits<double>::infinity());
  std::vector<double> chunk_pot(static_cast<std::size_t>(n_chunks));
  std::size_t scanned = 0;
  const std::uint64_t round_seed = seed;
  for (int round = 0; round <= kRounds; ++round) {
    // Fold the centres added last round into `closest`.
    const std::vector<Eigen::Index> fresh(chosen.begin() + static_cast<std::ptrdiff_t>(scanned), chosen.end());
    scanned = chosen.size();
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      double s = 0;
      for (Eigen::Index i = b; i < e; ++i) {
        for (Eigen::Index f : fresh) closest[i] = std::min(closest[i], squared_distance(X.row(i).data(), X.row(f).data(), d));
        s += w[i] * closest[i];
      }
      chunk_pot[c] = s;
    });
    if (round == kRounds) break;
    double phi = 0;
    for (double s : chunk_pot) phi += s;
    if (!(phi > 0)) break;
    // Every row joins independently with probability l * w * d^2 / phi; streams are per chunk.
    std::vector<std::vector<Eigen::Index>> picked(static_cast<std::size_t>(n_chunks));
    for_each_chunk(n, n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
      Random chunk_rng(derive_seed(round_seed, static_cast<std::uint64_t>(round)), static_cast<std::uint64_t>(c));
      for (Eigen::Index i = b; i < e; ++i)
        if (chunk_rng.uniform() < oversample * w[i] * closest[i] / phi) picked[c].push_back(i);
    });
    for (const auto& p : picked) chosen.insert(chosen.end(), p.begin(), p.end());
  }
  // Weight each candidate by the weight of the rows closest to it, then recluster the candidates.
  RowMatrix cand(static_cast<Eigen::Index>(chosen.size()), d);
  for (Eigen::Index r = 0; r < cand.rows(); ++r) cand.row(r) = X.row(chosen[static_cast<std::size_t>(r)]);
  const Assignment a = assign_nearest(X, cand, n_threads);
  Eigen::VectorXd cand_w = Eigen::VectorXd::Zero(cand.rows());
  for (Eigen::Index i = 0; i < n; ++i) cand_w[a.labels[i]] += w[i];
  if (cand.rows() < k || (cand_w.array() > 0).count() < k) too_few_distinct(where, k, (cand_w.array() > 0).count());
  Random sub_rng(rng());
  RowMatrix centres = seed_kmeans_plus_plus(cand, cand_w, k, sub_rng, 1, where);
  KMeansOptions sub;
  sub.n_clusters = k;
  sub.max_iter = 30;
  return run_kmeans(cand, cand_w, std::move(centres), sub, KMeansAlgorithm::lloyd, 1).centres;
}

namespace {

/// Weighted sums of the rows of each cluster per chunk, added by the assignment passes as soon as
/// a chunk's labels are final, so the centre update needs no pass of its own over X; reduced in
/// chunk order, so the same bits at any thread count and for every iteration variant.
class ClusterSums {
 public:
  ClusterSums(MatrixRef X, const Eigen::VectorXd& w, Eigen::Index k)
      : X_(X), w_(w), k_(k), stride_(k * (X.cols() + 1)), partial_(static_cast<std::size_t>(chunk_count(X.rows()) * stride_)) {}

  /// Sums of the rows [b, e) of chunk c by their labels.
  void add_chunk(Eigen::Index c, const Eigen::VectorXi& labels, Eigen::Index b, Eigen::Index e) {
    const Eigen::Index d = X_.cols();
    double* acc = partial_.data() + c * stride_;
    std::fill(acc, acc + stride_, 0.0);
    for (Eigen::Index i = b; i < e; ++i) {
      double* slot = acc + static_cast<Eigen::Index>(labels[i]) * (d + 1);
      const double wi = w_[i];
      const double* x = X_.row(i).data();
      for (Eigen::Index f = 0; f < d; ++f) slot[f] += wi * x[f];
      slot[d] += wi;
    }
  }

  /// Weighted means of the clusters; a cluster that lost all its rows keeps its `old` centre.
  RowMatrix means(const RowMatrix& old) const {
    const Eigen::Index d = X_.cols();
    std::vector<double> total(static_cast<std::size_t>(stride_), 0.0);
    for (std::size_t at = 0; at < partial_.size(); at += static_cast<std::size_t>(stride_))
      for (Eigen::Index t = 0; t < stride_; ++t) total[t] += partial_[at + static_cast<std::size_t>(t)];
    RowMatrix centres = old;
    for (Eigen::Index j = 0; j < k_; ++j) {
      const double* slot = total.data() + j * (d + 1);
      if (slot[d] > 0)
        for (Eigen::Index f = 0; f < d; ++f) centres(j, f) = slot[f] / slot[d];
    }
    return centres;
  }

 private:
  MatrixRef X_;
  const Eigen::VectorXd& w_;
  Eigen::Index k_, stride_;
  std::vector<double> partial_;  // chunks x k x (d + 1): feature sums, then the weight
};

double weighted_inertia(MatrixRef X, const Eigen::VectorXd& w, const RowMatrix& centres, const Eigen::VectorXi& labels,
                        int n_threads) {
  std::vector<double> partial(static_cast<std::size_t>(chunk_count(X.rows())));
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    double s = 0;
    for (Eigen::Index i = b; i < e; ++i) s += w[i] * squared_distance(X.row(i).data(), centres.row(labels[i]).data(), X.cols());
    partial[c] = s;
  });
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

/// Lloyd E-step: returns whether any label changed; adds the new clusters to `sums` if given.
bool lloyd_assign(MatrixRef X, const RowMatrix& centres, Eigen::VectorXi& labels, ClusterSums* sums, int n_threads) {
  const NearestCentre shared(centres);
  std::vector<char> changed(static_cast<std::size_t>(chunk_count(X.rows())), 0);
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    NearestCentre nearest = shared;
    nearest.scan_range<false>(X, b, e, [&](Eigen::Index i, int best, double, double) {
      if (labels[i] != best) changed[c] = 1, labels[i] = best;
    });
    if (sums) sums->add_chunk(c, labels, b, e);
  });
  return std::find(changed.begin(), changed.end(), 1) != changed.end();
}

/// How far every centre moved in the last update (Euclidean), for the bounds.
struct Shift {
  Eigen::VectorXd by_centre;
  Eigen::Index largest = 0;  // the centre that moved most
  double max1 = 0;           // its shift
  double max2 = 0;           // the largest shift among the others
};

Shift measure_shift(const RowMatrix& next, const RowMatrix& old) {
  Shift s;
  s.by_centre = (next - old).rowwise().norm();
  s.max1 = s.by_centre.maxCoeff(&s.largest);
  for (Eigen::Index j = 0; j < s.by_centre.size(); ++j)
    if (j != s.largest) s.max2 = std::max(s.max2, s.by_centre[j]);
  return s;
}

/// Half the distance from each centre to its nearest other centre: a row closer than that to its
/// own centre cannot be closer to any other (Elkan 2003, lemma 1).
Eigen::VectorXd half_separation(const RowMatrix& centres) {
  const Eigen::Index k = centres.rows(), d = centres.cols();
  Eigen::VectorXd s = Eigen::VectorXd::Constant(k, std::numeric_limits<double>::infinity());
  for (Eigen::Index a = 0; a < k; ++a)
    for (Eigen::Index b = a + 1; b < k; ++b) {
      const double half = 0.5 * std::sqrt(squared_distance(centres.row(a).data(), centres.row(b).data(), d));
      s[a] = std::min(s[a], half);
      s[b] = std::min(s[b], half);
    }
  return s;
}

/// Rows gathered from X into contiguous blocks for the product kernel; `on_row(i, table, r)` sees
/// each row i with its block row r after the block's distances are computed.
template <typename OnRow>
void scan_rows(MatrixRef X, const std::vector<Eigen::Index>& rows, BlockDistances& table, RowMatrix& buffer,
               OnRow&& on_row) {
  const auto count = static_cast<Eigen::Index>(rows.size());
  for (Eigen::Index s = 0; s < count; s += BlockDistances::kBlockRows) {
    const Eigen::Index m = std::min(BlockDistances::kBlockRows, count - s);
    for (Eigen::Index r = 0; r < m; ++r) buffer.row(r) = X.row(rows[static_cast<std::size_t>(s + r)]);
    table.compute(buffer.topRows(m));
    for (Eigen::Index r = 0; r < m; ++r) on_row(rows[static_cast<std::size_t>(s + r)], r, buffer.row(r).data());
  }
}

/// Hamerly (2010): u = upper bound on the distance to the own centre, l = lower bound on the
/// distance to every other centre (Euclidean, not squared).
struct HamerlyBounds {
  Eigen::VectorXd upper, lower;
};

/// One Hamerly pass: moves the bounds by `shift`, then measures all centres (by blocked products)
/// only for rows whose bounds cannot rule out a change. `all`: the first pass, every row measured.
bool hamerly_assign(MatrixRef X, const RowMatrix& centres, const Shift& shift, Eigen::VectorXi& labels,
                    HamerlyBounds& bounds, bool all, ClusterSums* sums, int n_threads, long long& n_dist) {
  const Eigen::Index k = centres.rows(), d = X.cols();
  const Eigen::VectorXd s = half_separation(centres);
  const NearestCentre shared(centres);
  const Eigen::Index n_chunks = chunk_count(X.rows());
  std::vector<char> changed(static_cast<std::size_t>(n_chunks), 0);
  std::vector<long long> evals(static_cast<std::size_t>(n_chunks), 0);
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    std::vector<Eigen::Index> pending;
    pending.reserve(static_cast<std::size_t>(e - b));
    long long count = 0;
    // The chunk's rows are all read for `sums` afterwards: stream them in now, a few rows ahead,
    // so the rows whose bounds fail are not each a wait on memory.
    constexpr Eigen::Index kAhead = 8;
    if (sums)
      for (Eigen::Index i = b; i < std::min(e, b + kAhead); ++i) prefetch_row(X, i);
    for (Eigen::Index i = b; i < e; ++i) {
      if (sums && i + kAhead < e) prefetch_row(X, i + kAhead);
      if (!all) {
        const int a = labels[i];
        // Own centre moved by shift[a]: the upper bound grows by it; the others moved by at most
        // the largest shift among them, so the lower bound shrinks by that.
        double u = bounds.upper[i] + shift.by_centre[a];
        const double l = bounds.lower[i] - (a == shift.largest ? shift.max2 : shift.max1);
        bounds.lower[i] = l;
        const double z = std::max(l, s[a]);
        if (u > z) {
          u = std::sqrt(squared_distance_split(X.row(i).data(), centres.row(a).data(), d));
          ++count;
        }
        bounds.upper[i] = u;
        if (u <= z) continue;
      }
      pending.push_back(i);
    }
    if (!pending.empty()) {
      NearestCentre nearest = shared;
      nearest.scan<true>(X, static_cast<Eigen::Index>(pending.size()), [&](Eigen::Index t) { return pending[static_cast<std::size_t>(t)]; },
                         [&](Eigen::Index i, int best, double exact, double second) {
                           if (labels[i] != best) changed[c] = 1, labels[i] = best;
                           bounds.upper[i] = std::sqrt(exact);
                           bounds.lower[i] = std::sqrt(second);
                         });
      count += static_cast<long long>(pending.size()) * k;
    }
    if (sums) sums->add_chunk(c, labels, b, e);
    evals[c] = count;
  });
  for (long long v : evals) n_dist += v;
  return std::find(changed.begin(), changed.end(), 1) != changed.end();
}

/// Yinyang k-means (Ding et al. 2015): the centres are split once into t ~ k / 10 groups of nearby
/// centres; each row keeps an upper bound on the distance to its own centre and, per group, a lower
/// bound on the distance to the group's other centres. A group is only measured when its bound
/// falls below the upper bound, so at large k a row that must be re-checked usually measures the
/// one or two groups around it instead of all k centres (Hamerly's single bound, the minimum over
/// all groups, fails as soon as any neighbour moves).
struct YinyangGroups {
  Eigen::Index t = 1;
  std::vector<int> group_of;  // k
  std::vector<int> start;     // t + 1 offsets into members
  std::vector<int> members;   // centre indices, by group, increasing within a group
};

YinyangGroups make_groups(const RowMatrix& centres) {
  const Eigen::Index k = centres.rows(), d = centres.cols();
  YinyangGroups g;
  g.t = std::max<Eigen::Index>(1, k / 10);
  // A few Lloyd iterations over the centres, started from evenly spaced ones (deterministic).
  RowMatrix gc(g.t, d);
  for (Eigen::Index q = 0; q < g.t; ++q) gc.row(q) = centres.row(q * k / g.t);
  g.group_of.assign(static_cast<std::size_t>(k), 0);
  for (int it = 0; it < 5; ++it) {
    for (Eigen::Index j = 0; j < k; ++j) {
      int best = 0;
      double best_d = std::numeric_limits<double>::infinity();
      for (Eigen::Index q = 0; q < g.t; ++q) {
        const double dq = squared_distance(centres.row(j).data(), gc.row(q).data(), d);
        if (dq < best_d) best_d = dq, best = static_cast<int>(q);
      }
      g.group_of[static_cast<std::size_t>(j)] = best;
    }
    RowMatrix sums = RowMatrix::Zero(g.t, d);
    Eigen::VectorXd sizes = Eigen::VectorXd::Zero(g.t);
    for (Eigen::Index j = 0; j < k; ++j) {
      sums.row(g.group_of[static_cast<std::size_t>(j)]) += centres.row(j);
      sizes[g.group_of[static_cast<std::size_t>(j)]] += 1;
    }
    for (Eigen::Index q = 0; q < g.t; ++q)
      if (sizes[q] > 0) gc.row(q) = sums.row(q) / sizes[q];
  }
  g.start.assign(static_cast<std::size_t>(g.t) + 1, 0);
  for (int q : g.group_of) ++g.start[static_cast<std::size_t>(q) + 1];
  for (Eigen::Index q = 0; q < g.t; ++q) g.start[q + 1] += g.start[q];
  g.members.resize(static_cast<std::size_t>(k));
  std::vector<int> fill(g.start.begin(), g.start.end() - 1);
  for (Eigen::Index j = 0; j < k; ++j) g.members[static_cast<std::size_t>(fill[g.group_of[j]]++)] = static_cast<int>(j);
  return g;
}

/// Centres of each group stored feature-major, so the distances from a row to a whole group are
/// one pass vectorised across the group's centres; every distance is summed feature by feature
/// exactly like squared_distance, so it has the same bits.
struct GroupTables {
  Eigen::Index d;
  std::vector<double> values;  // group q occupies d x size(q) from start[q] * d

  GroupTables(const RowMatrix& centres, const YinyangGroups& g) : d(centres.cols()), values(static_cast<std::size_t>(centres.size())) {
    for (Eigen::Index q = 0; q < g.t; ++q) {
      const int begin = g.start[q], size = g.start[q + 1] - begin;
      double* table = values.data() + static_cast<Eigen::Index>(begin) * d;
      for (int r = 0; r < size; ++r)
        for (Eigen::Index f = 0; f < d; ++f) table[f * size + r] = centres(g.members[begin + r], f);
    }
  }

  /// out[r] = squared distance of x to the r-th centre of group q.
  void distances(const YinyangGroups& g, Eigen::Index q, const double* x, double* out) const {
    const int begin = g.start[q], size = g.start[q + 1] - begin;
    const double* table = values.data() + static_cast<Eigen::Index>(begin) * d;
    for (int r = 0; r < size; ++r) out[r] = 0;
    for (Eigen::Index f = 0; f < d; ++f) {
      const double v = x[f];
      const double* row = table + f * size;
      for (int r = 0; r < size; ++r) {
        const double t = v - row[r];
        out[r] += t * t;
      }
    }
  }
};

struct YinyangBounds {
  Eigen::VectorXd upper;      // n
  std::vector<double> lower;  // n x t
};

bool yinyang_assign(MatrixRef X, const RowMatrix& centres, const Shift& shift, const YinyangGroups& g,
                    Eigen::VectorXi& labels, YinyangBounds& bounds, bool all, ClusterSums* sums, int n_threads,
                    long long& n_dist) {
  const Eigen::Index k = centres.rows(), d = X.cols(), t = g.t;
  const Eigen::VectorXd s = half_separation(centres);
  Eigen::VectorXd group_shift = Eigen::VectorXd::Zero(t);
  if (!all)
    for (Eigen::Index j = 0; j < k; ++j) group_shift[g.group_of[j]] = std::max(group_shift[g.group_of[j]], shift.by_centre[j]);
  const BlockDistances shared(centres);
  const GroupTables tables(centres, g);
  const Eigen::Index n_chunks = chunk_count(X.rows());
  std::vector<char> changed(static_cast<std::size_t>(n_chunks), 0);
  std::vector<long long> evals(static_cast<std::size_t>(n_chunks), 0);
  for_each_chunk(X.rows(), n_threads, [&](Eigen::Index c, Eigen::Index b, Eigen::Index e) {
    long long count = 0;
    if (all) {
      std::vector<Eigen::Index> rows(static_cast<std::size_t>(e - b));
      for (Eigen::Index i = b; i < e; ++i) rows[static_cast<std::size_t>(i - b)] = i;
      BlockDistances table = shared;
      RowMatrix buffer(BlockDistances::kBlockRows, d);
      scan_rows(X, rows, table, buffer, [&](Eigen::Index i, Eigen::Index r, const double* x) {
        double exact = 0;
        const int best = table.nearest(r, x, exact);
        double* lb = bounds.lower.data() + i * t;
        for (Eigen::Index q = 0; q < t; ++q) lb[q] = std::numeric_limits<double>::infinity();
        for (Eigen::Index j = 0; j < k; ++j)
          if (j != best) lb[g.group_of[j]] = std::min(lb[g.group_of[j]], table.lower(r, j));
        for (Eigen::Index q = 0; q < t; ++q) lb[q] = std::sqrt(lb[q]);
        if (labels[i] != best) changed[c] = 1, labels[i] = best;
        bounds.upper[i] = std::sqrt(exact);
      });
      evals[c] = (e - b) * k;
      if (sums) sums->add_chunk(c, labels, b, e);
      return;
    }
    std::vector<double> dist(static_cast<std::size_t>(k));
    std::vector<double> m1(static_cast<std::size_t>(t)), m2(static_cast<std::size_t>(t));
    std::vector<int> j1(static_cast<std::size_t>(t));
    std::vector<char> examined(static_cast<std::size_t>(t));
    for (Eigen::Index i = b; i < e; ++i) {
      const int a = labels[i];
      double* lb = bounds.lower.data() + i * t;
      double u = bounds.upper[i] + shift.by_centre[a];
      double lowest = std::numeric_limits<double>::infinity();
      for (Eigen::Index q = 0; q < t; ++q) {
        lb[q] -= group_shift[q];
        lowest = std::min(lowest, lb[q]);
      }
      const double z = std::max(lowest, s[a]);
      if (u <= z) {
        bounds.upper[i] = u;
        continue;
      }
      const double* x = X.row(i).data();
      u = std::sqrt(squared_distance_split(x, centres.row(a).data(), d));
      ++count;
      bounds.upper[i] = u;
      if (u <= z) continue;
      // Measure every group whose bound does not exclude a centre closer than the own one.
      int best = a;
      double best_d = u;
      for (Eigen::Index q = 0; q < t; ++q) {
        examined[q] = lb[q] < u;
        if (!examined[q]) continue;
        tables.distances(g, q, x, dist.data());
        const int begin = g.start[q], size = g.start[q + 1] - begin;
        count += size;
        double first = std::numeric_limits<double>::infinity(), second = first;
        int first_j = -1;
        for (int r = 0; r < size; ++r) {
          const int j = g.members[begin + r];
          if (j == a) continue;
          const double dj = std::sqrt(dist[r]);
          if (dj < first) {
            second = first, first = dj, first_j = j;
          } else if (dj < second) {
            second = dj;
          }
        }
        m1[q] = first, m2[q] = second, j1[q] = first_j;
        if (first_j >= 0 && (first < best_d || (first == best_d && first_j < best))) best = first_j, best_d = first;
      }
      // New group bounds: the nearest centre of each measured group other than the new label;
      // the old own centre becomes an "other" centre of its group when the label changes.
      const int best_group = g.group_of[best];
      for (Eigen::Index q = 0; q < t; ++q)
        if (examined[q]) lb[q] = (best != a && q == best_group) ? m2[q] : m1[q];
      if (best != a) {
        const int own_group = g.group_of[a];
        lb[own_group] = std::min(lb[own_group], u);
        changed[c] = 1;
        labels[i] = best;
        bounds.upper[i] = best_d;
      }
    }
    if (sums) sums->add_chunk(c, labels, b, e);
    evals[c] = count;
  });
  for (long long v : evals) n_dist += v;
  return std::find(changed.begin(), changed.end(), 1) != changed.end();
}

}  // namespace

KMeansRun run_kmeans(MatrixRef X, const Eigen::VectorXd& w, RowMatrix centres, const KMeansOptions& options,
                     KMeansAlgorithm algorithm, int n_threads) {
  const Eigen::Index n = X.rows(), k = centres.rows();
  const double tol = options.tol * mean_variance(X, w);
  KMeansRun run;
  Eigen::VectorXi labels = Eigen::VectorXi::Constant(n, -1);
  HamerlyBounds hamerly;
  YinyangBounds yinyang;
  YinyangGroups groups;
  if (algorithm == KMeansAlgorithm::hamerly) {
    hamerly = {Eigen::VectorXd::Zero(n), Eigen::VectorXd::Zero(n)};
  } else if (algorithm == KMeansAlgorithm::yinyang) {
    groups = make_groups(centres);
    yinyang = {Eigen::VectorXd::Zero(n), std::vector<double>(static_cast<std::size_t>(n * groups.t))};
  }
  Shift shift{Eigen::VectorXd::Zero(k)};
  ClusterSums sums(X, w, k);
  // `sums`: nullptr when the new labels' cluster sums are not needed.
  auto assign = [&](bool all, ClusterSums* into) {
    switch (algorithm) {
      case KMeansAlgorithm::hamerly:
        return hamerly_assign(X, centres, shift, labels, hamerly, all, into, n_threads, run.n_dist);
      case KMeansAlgorithm::yinyang:
        return yinyang_assign(X, centres, shift, groups, labels, yinyang, all, into, n_threads, run.n_dist);
      default:
        run.n_dist += static_cast<long long>(n) * k;
        return lloyd_assign(X, centres, labels, into, n_threads);
    }
  };
  assign(true, &sums);
  bool labels_current = true;
  for (int it = 1; it <= options.max_iter; ++it) {
    RowMatrix next = sums.means(centres);
    shift = measure_shift(next, centres);
    centres = std::move(next);
    run.n_iter = it;
    labels_current = false;
    if (shift.by_centre.squaredNorm() <= tol) {
      run.converged = true;
      break;
    }
    const bool changed = assign(false, it < options.max_iter ? &sums : nullptr);
    labels_current = true;
    if (!changed) {
      run.converged = true;
      break;
    }
  }
  if (!labels_current) assign(false, nullptr);
  run.inertia = weighted_inertia(X, w, centres, labels, n_threads);
  run.centres = std::move(centres);
  run.labels = std::move(labels);
  return run;
}
}  // namespace detail

void validate(const KMeansOptions& o) {
  constexpr const char* where = "KMeans";
  if (o.n_clusters < 1) detail::throw_invalid(where, "n_clusters", "must be >= 1, got ", o.n_clusters);
  if (o.n_init < 1) detail::throw_invalid(where, "n_init", "must be >= 1, got ", o.n_init);
  if (o.max_iter < 1) detail::throw_invalid(where, "max_iter", "must be >= 1, got ", o.max_iter);
  if (!(o.tol >= 0) || !std::isfinite(o.tol)) detail::throw_invalid(where, "tol", "must be finite and >= 0, got ", o.tol);
  if (o.n_threads < 0) detail::throw_invalid(where, "n_threads", "must be >= 0, got ", o.n_threads);
  if (static_cast<int>(o.init) > 1) detail::throw_invalid(where, "init", "unknown value ", static_cast<int>(o.init));
  if (static_cast<int>(o.algorithm) > 3) detail::throw_invalid(where, "algorithm", "unknown value ", static_cast<int>(o.algorithm));
}

KMeans::KMeans(KMeansOptions options) : options_(options) {}

KMeans& KMeans::fit(MatrixRef X) { return fit(X, Eigen::VectorXd()); }

KMeans& KMeans::fit(MatrixRef X, VectorRef sample_weight) {
  constexpr const char* where = "KMeans::fit";
  validate(options_);
  detail::check_data(where, "X", X);
  const Eigen::VectorXd w = detail::checked_weights(where, sample_weight, X.rows());
  if (options_.n_clusters > X.rows())
    detail::throw_invalid(where, "n_clusters", options_.n_clusters, " exceeds the number of rows of X (", X.rows(), ")");
  const int k = options_.n_clusters;
  algorithm_used_ = options_.algorithm;
  if (algorithm_used_ == KMeansAlgorithm::automatic)
    algorithm_used_ = X.cols() > 64 || k < 4 ? KMeansAlgorithm::lloyd
                      : k >= 32          ? KMeansAlgorithm::yinyang
                                         : KMeansAlgorithm::hamerly;
  detail::KMeansRun best;
  best.inertia = std::numeric_limits<double>::infinity();
  long long evaluations = 0;
  for (int r = 0; r < options_.n_init; ++r) {
    Random rng(options_.seed, static_cast<std::uint64_t>(r));
    RowMatrix start = options_.init == KMeansInit::kmeans_parallel
                          ? detail::seed_kmeans_parallel(X, w, k, rng, derive_seed(options_.seed, 1000003u + static_cast<std::uint64_t>(r)), options_.n_threads, where)
                          : detail::seed_kmeans_plus_plus(X, w, k, rng, options_.n_threads, where);
    detail::KMeansRun run = detail::run_kmeans(X, w, std::move(start), options_, algorithm_used_, options_.n_threads);
    evaluations += run.n_dist;
    if (run.inertia < best.inertia) {
      best = std::move(run);
      report_.best_init = r;
    }
  }
  centroids_ = std::move(best.centres);
  labels_ = std::move(best.labels);
  report_.n_iter = best.n_iter;
  report_.converged = best.converged;
  report_.objective = best.inertia;
  report_.n_distance_evaluations = evaluations;
  fitted_ = true;
  return *this;
}

const FitReport& KMeans::report() const {
  detail::require_fitted(fitted_, "KMeans::report");
  return report_;
}
const RowMatrix& KMeans::centroids() const {
  detail::require_fitted(fitted_, "KMeans::centroids");
  return centroids_;
}
const Eigen::VectorXi& KMeans::labels() const {
  detail::require_fitted(fitted_, "KMeans::labels");
  return labels_;
}
double KMeans::inertia() const { return report().objective; }

Eigen::VectorXi KMeans::predict(MatrixRef X) const {
  detail::require_fitted(fitted_, "KMeans::predict");
  detail::check_features("KMeans::predict", X, centroids_.cols());
  return detail::assign_nearest(X, centroids_, options_.n_threads).labels;
}

RowMatrix KMeans::transform(MatrixRef X) const {
  detail::require_fitted(fitted_, "KMeans::transform");
  detail::check_features("KMeans::transform", X, centroids_.cols());
  RowMatrix out(X.rows(), centroids_.rows());
  detail::for_each_chunk(X.rows(), options_.n_threads, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i)
      for (Eigen::Index j = 0; j < centroids_.rows(); ++j)
        out(i, j) = std::sqrt(detail::squared_distance(X.row(i).data(), centroids_.row(j).data(), X.cols()));
  });
  return out;
}

double KMeans::inertia_of(MatrixRef X, VectorRef sample_weight) const {
  detail::require_fitted(fitted_, "KMeans::inertia_of");
  detail::check_features("KMeans::inertia_of", X, centroids_.cols());
  const Eigen::VectorXd w = detail::checked_weights("KMeans::inertia_of", sample_weight, X.rows());
  const detail::Assignment a = detail::assign_nearest(X, centroids_, options_.n_threads);
  return w.dot(a.min_sq);
}

KMeans KMeans::from_centroids(RowMatrix centroids, KMeansOptions options) {
  if (centroids.rows() < 1 || centroids.cols() < 1) detail::throw_invalid("KMeans::from_centroids", "centroids", "is empty");
  if (!centroids.allFinite()) detail::throw_invalid("KMeans::from_centroids", "centroids", "contains NaN or infinity");
  options.n_clusters = static_cast<int>(centroids.rows());
  KMeans model(options);
  model.centroids_ = std::move(centroids);
  model.fitted_ = true;
  return model;
}

namespace {
constexpr ModelTag kKMeansTag = model_tag("KMNS");
constexpr std::uint32_t kKMeansSchema = 1;

void write_report(ModelWriter& w, const FitReport& r) {
  w.i32(r.n_iter);
  w.boolean(r.converged);
  w.f64(r.objective);
  w.i32(r.best_init);
  w.i64(r.n_distance_evaluations);
}
}  // namespace

namespace detail {
FitReport read_report(ModelReader& r) {
  FitReport rep;
  rep.n_iter = r.i32("report.n_iter");
  rep.converged = r.boolean("report.converged");
  rep.objective = r.f64("report.objective");
  rep.best_init = r.i32("report.best_init");
  rep.n_distance_evaluations = r.i64("report.n_distance_evaluations");
  return rep;
}
void write_fit_report(ModelWriter& w, const FitReport& r) { write_report(w, r); }
}  // namespace detail

void KMeans::save(std::ostream& out) const {
  detail::require_fitted(fitted_, "KMeans::save");
  ModelWriter w(kKMeansTag, kKMeansSchema);
  w.i32(options_.n_clusters);
  w.u8(static_cast<std::uint8_t>(options_.init));
  w.i32(options_.n_init);
  w.i32(options_.max_iter);
  w.f64(options_.tol);
  w.u8(static_cast<std::uint8_t>(options_.algorithm));
  w.u64(options_.seed);
  w.i32(options_.n_threads);
  w.u8(static_cast<std::uint8_t>(algorithm_used_));
  write_report(w, report_);
  w.matrix(centroids_);
  w.finish(out);
}

KMeans KMeans::load(std::istream& in) {
  ModelReader r(in, kKMeansTag, kKMeansSchema);
  KMeansOptions o;
  o.n_clusters = r.i32("n_clusters");
  o.init = static_cast<KMeansInit>(r.u8("init"));
  o.n_init = r.i32("n_init");
  o.max_iter = r.i32("max_iter");
  o.tol = r.f64("tol");
  o.algorithm = static_cast<KMeansAlgorithm>(r.u8("algorithm"));
  o.seed = r.u64("seed");
  o.n_threads = r.i32("n_threads");
  try {
    validate(o);
  } catch (const InvalidArgument& e) {
    r.fail("options", e.what());
  }
  KMeans model(o);
  model.algorithm_used_ = static_cast<KMeansAlgorithm>(r.u8("algorithm_used"));
  model.report_ = detail::read_report(r);
  model.centroids_ = r.matrix("centroids");
  r.expect_end();
  if (model.centroids_.rows() != o.n_clusters || model.centroids_.cols() < 1)
    r.fail("centroids", detail::concat("shape ", model.centroids_.rows(), " x ", model.centroids_.cols(), " does not match n_clusters ", o.n_clusters));
  model.fitted_ = true;
  return model;
}

}  // namespace crmine
