// SPDX-License-Identifier: Apache-2.0
// Detectors of deviating customers: robust z, Mahalanobis (MCD), IsolationForest, LOF, HBOS.
// Options bind field by field and every detector exposes the Detector interface method by method.
#include "common.hpp"

#include <crmine/deviation.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <algorithm>

namespace crmine::python {
namespace {

/// The Detector interface, bound on the concrete class (no virtual dispatch needed from Python).
template <typename Model, typename Class>
void add_detector(Class& cls) {
  cls.def("fit", &Model::fit, py::arg("X"), Release(), py::return_value_policy::reference_internal)
      .def("score_samples", &Model::score_samples, py::arg("X"), Release())
      .def("decision_function", &Model::decision_function, py::arg("X"), Release())
      .def("predict", &Model::predict, py::arg("X"), Release())
      .def("deviation_score", &Model::deviation_score, py::arg("X"), Release())
      .def_property_readonly("offset", &Model::offset)
      .def_property_readonly("n_features", &Model::n_features)
      .def_property_readonly("is_fitted", &Model::is_fitted)
      .def_property_readonly("options", &Model::options)
      .def("to_bytes", &to_bytes<Model>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<Model>, py::arg("data"));
}

/// detector_contributions through the compiled model when `detector` is one of Models (GIL released),
/// else through `detector` called as a Python scorer of a block of rows (GIL held while it runs).
template <typename... Models>
RowMatrix contributions_of(const py::object& detector, MatrixRef X, MatrixRef reference) {
  RowMatrix out;
  const bool compiled = ((py::isinstance<Models>(detector) && [&] {
    const auto& model = detector.cast<const Models&>();
    py::gil_scoped_release release;
    out = detector_contributions(model, X, reference);
    return true;
  }()) || ...);
  if (compiled) return out;
  if (!PyCallable_Check(detector.ptr()))
    throw InvalidType("detector_contributions: detector must be a compiled crmine detector or a callable scorer");
  return detector_contributions([&](MatrixRef block) { return detector(RowMatrix(block)).cast<Eigen::VectorXd>(); }, X,
                                reference);
}

}  // namespace

void bind_deviation(py::module_& m) {
  m.attr("AUTO_CONTAMINATION") = kAutoContamination;

  py::class_<IsolationForestOptions>(m, "IsolationForestOptions")
      .def(py::init<>())
      .def_readwrite("n_estimators", &IsolationForestOptions::n_estimators)
      .def_readwrite("max_samples", &IsolationForestOptions::max_samples)
      .def_readwrite("max_features", &IsolationForestOptions::max_features)
      .def_readwrite("contamination", &IsolationForestOptions::contamination)
      .def_readwrite("seed", &IsolationForestOptions::seed)
      .def_readwrite("n_threads", &IsolationForestOptions::n_threads);
  py::class_<IsolationForest> iforest(m, "IsolationForest");
  iforest.def(py::init<IsolationForestOptions>(), py::arg("options"))
      .def("mean_path_length", &IsolationForest::mean_path_length, py::arg("X"), Release())
      .def_property_readonly("max_samples_used", &IsolationForest::max_samples_used)
      .def_property_readonly("n_nodes", &IsolationForest::n_nodes);
  add_detector<IsolationForest>(iforest);

  py::class_<HBOSOptions>(m, "HBOSOptions")
      .def(py::init<>())
      .def_readwrite("n_bins", &HBOSOptions::n_bins)
      .def_readwrite("alpha", &HBOSOptions::alpha)
      .def_readwrite("tol", &HBOSOptions::tol)
      .def_readwrite("contamination", &HBOSOptions::contamination)
      .def_readwrite("n_threads", &HBOSOptions::n_threads);
  py::class_<HBOS> hbos(m, "HBOS");
  hbos.def(py::init<HBOSOptions>(), py::arg("options"))
      .def("feature_scores", &HBOS::feature_scores, py::arg("X"), Release())
      .def_property_readonly("bin_edges", &HBOS::bin_edges)
      .def_property_readonly("densities", &HBOS::densities);
  add_detector<HBOS>(hbos);

  py::enum_<RobustZAggregate>(m, "RobustZAggregate")
      .value("max_abs", RobustZAggregate::max_abs)
      .value("rms", RobustZAggregate::rms);
  py::class_<RobustZOptions>(m, "RobustZOptions")
      .def(py::init<>())
      .def_readwrite("aggregate", &RobustZOptions::aggregate)
      .def_readwrite("contamination", &RobustZOptions::contamination)
      .def_readwrite("n_threads", &RobustZOptions::n_threads);
  py::class_<RobustZ> robust_z(m, "RobustZ");
  robust_z.def(py::init<RobustZOptions>(), py::arg("options"))
      .def("z_scores", &RobustZ::z_scores, py::arg("X"), Release())
      .def_property_readonly("center", &RobustZ::center)
      .def_property_readonly("scale", &RobustZ::scale);
  add_detector<RobustZ>(robust_z);

  py::class_<MahalanobisOptions>(m, "MahalanobisOptions")
      .def(py::init<>())
      .def_readwrite("support_fraction", &MahalanobisOptions::support_fraction)
      .def_readwrite("n_trials", &MahalanobisOptions::n_trials)
      .def_readwrite("contamination", &MahalanobisOptions::contamination)
      .def_readwrite("seed", &MahalanobisOptions::seed)
      .def_readwrite("n_threads", &MahalanobisOptions::n_threads);
  py::class_<Mahalanobis> mahalanobis(m, "Mahalanobis");
  mahalanobis.def(py::init<MahalanobisOptions>(), py::arg("options"))
      .def("mahalanobis", &Mahalanobis::mahalanobis, py::arg("X"), Release())
      .def_property_readonly("location", &Mahalanobis::location)
      .def_property_readonly("covariance", &Mahalanobis::covariance)
      .def_property_readonly("raw_location", &Mahalanobis::raw_location)
      .def_property_readonly("raw_covariance", &Mahalanobis::raw_covariance)
      .def_property_readonly("support_size", &Mahalanobis::support_size);
  add_detector<Mahalanobis>(mahalanobis);
  m.def("chi2_quantile", &chi2_quantile, py::arg("p"), py::arg("dof"));

  py::enum_<NeighborAlgorithm>(m, "NeighborAlgorithm")
      .value("automatic", NeighborAlgorithm::automatic)
      .value("brute", NeighborAlgorithm::brute)
      .value("kd_tree", NeighborAlgorithm::kd_tree)
      .value("approximate", NeighborAlgorithm::approximate);
  py::class_<LocalOutlierFactorOptions>(m, "LocalOutlierFactorOptions")
      .def(py::init<>())
      .def_readwrite("n_neighbors", &LocalOutlierFactorOptions::n_neighbors)
      .def_readwrite("algorithm", &LocalOutlierFactorOptions::algorithm)
      .def_readwrite("leaf_size", &LocalOutlierFactorOptions::leaf_size)
      .def_readwrite("n_trees", &LocalOutlierFactorOptions::n_trees)
      .def_readwrite("n_refine", &LocalOutlierFactorOptions::n_refine)
      .def_readwrite("seed", &LocalOutlierFactorOptions::seed)
      .def_readwrite("contamination", &LocalOutlierFactorOptions::contamination)
      .def_readwrite("novelty", &LocalOutlierFactorOptions::novelty)
      .def_readwrite("n_threads", &LocalOutlierFactorOptions::n_threads);
  py::class_<LocalOutlierFactor> lof(m, "LocalOutlierFactor");
  lof.def(py::init<LocalOutlierFactorOptions>(), py::arg("options"))
      .def_property_readonly("negative_outlier_factor", &LocalOutlierFactor::negative_outlier_factor)
      .def("training_labels", &LocalOutlierFactor::training_labels)
      .def_property_readonly("n_neighbors_used", &LocalOutlierFactor::n_neighbors_used)
      .def_property_readonly("algorithm_used", &LocalOutlierFactor::algorithm_used)
      .def(
          "kneighbors",
          [](const LocalOutlierFactor& model, MatrixRef X) {
            RowMatrix distances;
            RowMatrixXi indices;
            {
              py::gil_scoped_release release;
              model.kneighbors(X, distances, indices);
            }
            return py::make_tuple(py::cast(std::move(distances)), py::cast(std::move(indices)));
          },
          py::arg("X"));
  add_detector<LocalOutlierFactor>(lof);

  m.def("robust_contributions", &robust_contributions, py::arg("X"), py::arg("reference"), py::arg("scale"), Release(),
        "(X - reference) / scale per cell, NaN where scale is not > 0; reference and scale 1 x d or n x d");
  m.def("detector_contributions", &contributions_of<IsolationForest, LocalOutlierFactor, RobustZ, Mahalanobis, HBOS>,
        py::arg("detector"), py::arg("X"), py::arg("reference"),
        "score_samples(row with feature j at its reference) - score_samples(row), n x d");
  m.def(
      "top_contributions",
      [](MatrixRef X, MatrixRef reference, MatrixRef contribution, MatrixRef strength, int top) {
        Explanation e;
        {
          py::gil_scoped_release release;
          e = top_contributions(X, reference, contribution, strength, top);
        }
        std::vector<std::int8_t> direction(e.direction.size());
        std::transform(e.direction.begin(), e.direction.end(), direction.begin(),
                       [](Direction v) { return static_cast<std::int8_t>(v); });
        py::dict out;
        out["row"] = to_numpy(std::move(e.row));
        out["rank"] = to_numpy(std::move(e.rank));
        out["feature"] = to_numpy(std::move(e.feature));
        out["value"] = to_numpy(std::move(e.value));
        out["reference"] = to_numpy(std::move(e.reference));
        out["contribution"] = to_numpy(std::move(e.contribution));
        out["direction"] = to_numpy(std::move(direction));
        return out;
      },
      py::arg("X"), py::arg("reference"), py::arg("contribution"), py::arg("strength"), py::arg("top"),
      "The top features of every row in long form: dict of row, rank, feature, value, reference, contribution, "
      "direction (+1 above, -1 below, 0 at)");
}

}  // namespace crmine::python
