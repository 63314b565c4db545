// SPDX-License-Identifier: Apache-2.0
// Bindings of the cluster area: options structs field by field, estimators method by method.
// Dense inputs bind as Eigen::Ref, so C-contiguous float64 (int32 for categories) never copies.
#include "common.hpp"

#include <crmine/cluster.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <sstream>

namespace crmine::python {
namespace {


template <typename Model, typename Class>
void add_io(Class& cls) {
  cls.def("to_bytes", &to_bytes<Model>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<Model>, py::arg("data"));
}

}  // namespace

void bind_cluster(py::module_& m) {
  py::class_<FitReport>(m, "FitReport")
      .def_readonly("n_iter", &FitReport::n_iter)
      .def_readonly("converged", &FitReport::converged)
      .def_readonly("objective", &FitReport::objective)
      .def_readonly("best_init", &FitReport::best_init)
      .def_readonly("n_distance_evaluations", &FitReport::n_distance_evaluations);

  py::enum_<KMeansInit>(m, "KMeansInit")
      .value("kmeans_plus_plus", KMeansInit::kmeans_plus_plus)
      .value("kmeans_parallel", KMeansInit::kmeans_parallel);
  py::enum_<KMeansAlgorithm>(m, "KMeansAlgorithm")
      .value("automatic", KMeansAlgorithm::automatic)
      .value("lloyd", KMeansAlgorithm::lloyd)
      .value("hamerly", KMeansAlgorithm::hamerly)
      .value("yinyang", KMeansAlgorithm::yinyang);
  py::enum_<KPrototypesInit>(m, "KPrototypesInit")
      .value("kmeans_plus_plus", KPrototypesInit::kmeans_plus_plus)
      .value("random", KPrototypesInit::random);
  py::enum_<CovarianceType>(m, "CovarianceType").value("full", CovarianceType::full).value("diag", CovarianceType::diag);
  py::enum_<MixtureInit>(m, "MixtureInit").value("kmeans", MixtureInit::kmeans).value("random", MixtureInit::random);
  py::enum_<ScaleMethod>(m, "ScaleMethod")
      .value("none", ScaleMethod::none)
      .value("standard", ScaleMethod::standard)
      .value("robust", ScaleMethod::robust);

  py::class_<KMeansOptions>(m, "KMeansOptions")
      .def(py::init<>())
      .def_readwrite("n_clusters", &KMeansOptions::n_clusters)
      .def_readwrite("init", &KMeansOptions::init)
      .def_readwrite("n_init", &KMeansOptions::n_init)
      .def_readwrite("max_iter", &KMeansOptions::max_iter)
      .def_readwrite("tol", &KMeansOptions::tol)
      .def_readwrite("algorithm", &KMeansOptions::algorithm)
      .def_readwrite("seed", &KMeansOptions::seed)
      .def_readwrite("n_threads", &KMeansOptions::n_threads);
  py::class_<KMeans> kmeans(m, "KMeans");
  kmeans.def(py::init<KMeansOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, VectorRef>(&KMeans::fit), py::arg("X"), py::arg("sample_weight"), Release(),
           py::return_value_policy::reference_internal)
      .def("predict", &KMeans::predict, py::arg("X"), Release())
      .def("transform", &KMeans::transform, py::arg("X"), Release())
      .def("inertia_of", &KMeans::inertia_of, py::arg("X"), py::arg("sample_weight"), Release())
      .def_property_readonly("centroids", &KMeans::centroids)
      .def_property_readonly("labels", &KMeans::labels)
      .def_property_readonly("inertia", &KMeans::inertia)
      .def_property_readonly("report", &KMeans::report)
      .def_property_readonly("algorithm_used", &KMeans::algorithm_used)
      .def_property_readonly("is_fitted", &KMeans::is_fitted);
  add_io<KMeans>(kmeans);

  py::class_<MiniBatchKMeansOptions>(m, "MiniBatchKMeansOptions")
      .def(py::init<>())
      .def_readwrite("n_clusters", &MiniBatchKMeansOptions::n_clusters)
      .def_readwrite("batch_size", &MiniBatchKMeansOptions::batch_size)
      .def_readwrite("max_iter", &MiniBatchKMeansOptions::max_iter)
      .def_readwrite("max_no_improvement", &MiniBatchKMeansOptions::max_no_improvement)
      .def_readwrite("init_size", &MiniBatchKMeansOptions::init_size)
      .def_readwrite("n_init", &MiniBatchKMeansOptions::n_init)
      .def_readwrite("seed", &MiniBatchKMeansOptions::seed)
      .def_readwrite("n_threads", &MiniBatchKMeansOptions::n_threads);
  py::class_<MiniBatchKMeans> minibatch(m, "MiniBatchKMeans");
  minibatch.def(py::init<MiniBatchKMeansOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, VectorRef>(&MiniBatchKMeans::fit), py::arg("X"), py::arg("sample_weight"),
           Release(), py::return_value_policy::reference_internal)
      .def("predict", &MiniBatchKMeans::predict, py::arg("X"), Release())
      .def("transform", &MiniBatchKMeans::transform, py::arg("X"), Release())
      .def_property_readonly("centroids", &MiniBatchKMeans::centroids)
      .def_property_readonly("labels", &MiniBatchKMeans::labels)
      .def_property_readonly("inertia", &MiniBatchKMeans::inertia)
      .def_property_readonly("report", &MiniBatchKMeans::report)
      .def_property_readonly("is_fitted", &MiniBatchKMeans::is_fitted);
  add_io<MiniBatchKMeans>(minibatch);

  py::class_<KPrototypesOptions>(m, "KPrototypesOptions")
      .def(py::init<>())
      .def_readwrite("n_clusters", &KPrototypesOptions::n_clusters)
      .def_readwrite("gamma", &KPrototypesOptions::gamma)
      .def_readwrite("init", &KPrototypesOptions::init)
      .def_readwrite("n_init", &KPrototypesOptions::n_init)
      .def_readwrite("max_iter", &KPrototypesOptions::max_iter)
      .def_readwrite("seed", &KPrototypesOptions::seed)
      .def_readwrite("n_threads", &KPrototypesOptions::n_threads);
  py::class_<KPrototypes> kproto(m, "KPrototypes");
  kproto.def(py::init<KPrototypesOptions>(), py::arg("options"))
      .def("fit", &KPrototypes::fit, py::arg("X_num"), py::arg("X_cat"), py::arg("sample_weight"), Release(),
           py::return_value_policy::reference_internal)
      .def("predict", &KPrototypes::predict, py::arg("X_num"), py::arg("X_cat"), Release())
      .def("transform", &KPrototypes::transform, py::arg("X_num"), py::arg("X_cat"), Release())
      .def("cost_of", &KPrototypes::cost_of, py::arg("X_num"), py::arg("X_cat"), py::arg("sample_weight"), Release())
      .def_property_readonly("numeric_centroids", &KPrototypes::numeric_centroids)
      .def_property_readonly("categorical_centroids", &KPrototypes::categorical_centroids)
      .def_property_readonly("n_categories", &KPrototypes::n_categories)
      .def_property_readonly("gamma", &KPrototypes::gamma)
      .def_property_readonly("labels", &KPrototypes::labels)
      .def_property_readonly("cost", &KPrototypes::cost)
      .def_property_readonly("report", &KPrototypes::report)
      .def_property_readonly("is_fitted", &KPrototypes::is_fitted);
  add_io<KPrototypes>(kproto);
  py::class_<KModes> kmodes(m, "KModes");
  kmodes.def(py::init<KPrototypesOptions>(), py::arg("options"))
      .def("fit", &KModes::fit, py::arg("X"), py::arg("sample_weight"), Release(), py::return_value_policy::reference_internal)
      .def("predict", &KModes::predict, py::arg("X"), Release())
      .def("transform", &KModes::transform, py::arg("X"), Release())
      .def_property_readonly("centroids", &KModes::centroids)
      .def_property_readonly("n_categories", &KModes::n_categories)
      .def_property_readonly("labels", &KModes::labels)
      .def_property_readonly("cost", &KModes::cost)
      .def_property_readonly("report", &KModes::report)
      .def_property_readonly("is_fitted", &KModes::is_fitted);
  add_io<KModes>(kmodes);

  py::class_<GaussianMixtureOptions>(m, "GaussianMixtureOptions")
      .def(py::init<>())
      .def_readwrite("n_components", &GaussianMixtureOptions::n_components)
      .def_readwrite("covariance_type", &GaussianMixtureOptions::covariance_type)
      .def_readwrite("tol", &GaussianMixtureOptions::tol)
      .def_readwrite("reg_covar", &GaussianMixtureOptions::reg_covar)
      .def_readwrite("max_iter", &GaussianMixtureOptions::max_iter)
      .def_readwrite("n_init", &GaussianMixtureOptions::n_init)
      .def_readwrite("init", &GaussianMixtureOptions::init)
      .def_readwrite("seed", &GaussianMixtureOptions::seed)
      .def_readwrite("n_threads", &GaussianMixtureOptions::n_threads);
  py::class_<GaussianMixture> gmm(m, "GaussianMixture");
  gmm.def(py::init<GaussianMixtureOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, VectorRef>(&GaussianMixture::fit), py::arg("X"), py::arg("sample_weight"),
           Release(), py::return_value_policy::reference_internal)
      .def("predict", &GaussianMixture::predict, py::arg("X"), Release())
      .def("predict_proba", &GaussianMixture::predict_proba, py::arg("X"), Release())
      .def("transform", &GaussianMixture::transform, py::arg("X"), Release())
      .def("score_samples", &GaussianMixture::score_samples, py::arg("X"), Release())
      .def("score", &GaussianMixture::score, py::arg("X"), Release())
      .def("bic", &GaussianMixture::bic, py::arg("X"), Release())
      .def("aic", &GaussianMixture::aic, py::arg("X"), Release())
      .def("covariance", &GaussianMixture::covariance, py::arg("j"))
      .def_property_readonly("n_parameters", &GaussianMixture::n_parameters)
      .def_property_readonly("weights", &GaussianMixture::weights)
      .def_property_readonly("means", &GaussianMixture::means)
      .def_property_readonly("lower_bound", &GaussianMixture::lower_bound)
      .def_property_readonly("report", &GaussianMixture::report)
      .def_property_readonly("is_fitted", &GaussianMixture::is_fitted);
  add_io<GaussianMixture>(gmm);

  py::class_<ScalerOptions>(m, "ScalerOptions")
      .def(py::init<>())
      .def_readwrite("method", &ScalerOptions::method)
      .def_readwrite("log1p", &ScalerOptions::log1p);
  py::class_<FeatureScaler> scaler(m, "FeatureScaler");
  scaler.def(py::init<ScalerOptions>(), py::arg("options"))
      .def("fit", &FeatureScaler::fit, py::arg("X"), Release(), py::return_value_policy::reference_internal)
      .def("transform", &FeatureScaler::transform, py::arg("X"), Release())
      .def("inverse_transform", &FeatureScaler::inverse_transform, py::arg("X"), Release())
      .def_property_readonly("center", &FeatureScaler::center)
      .def_property_readonly("scale", &FeatureScaler::scale)
      .def_property_readonly("is_fitted", &FeatureScaler::is_fitted);
  add_io<FeatureScaler>(scaler);

  m.def("silhouette_samples", &silhouette_samples, py::arg("X"), py::arg("labels"), py::arg("n_threads") = 0, Release());
  m.def("silhouette_score", &silhouette_score, py::arg("X"), py::arg("labels"), py::arg("sample_size") = 0,
        py::arg("seed") = 1234, py::arg("n_threads") = 0, Release());
  m.def("davies_bouldin_score", &davies_bouldin_score, py::arg("X"), py::arg("labels"), Release());
  m.def("calinski_harabasz_score", &calinski_harabasz_score, py::arg("X"), py::arg("labels"), Release());

  py::class_<KSweepOptions>(m, "KSweepOptions")
      .def(py::init<>())
      .def_readwrite("ks", &KSweepOptions::ks)
      .def_readwrite("kmeans", &KSweepOptions::kmeans)
      .def_readwrite("silhouette_sample_size", &KSweepOptions::silhouette_sample_size);
  py::class_<KSweepRow>(m, "KSweepRow")
      .def_readonly("k", &KSweepRow::k)
      .def_readonly("inertia", &KSweepRow::inertia)
      .def_readonly("silhouette", &KSweepRow::silhouette)
      .def_readonly("davies_bouldin", &KSweepRow::davies_bouldin)
      .def_readonly("calinski_harabasz", &KSweepRow::calinski_harabasz);
  py::class_<KSweepResult>(m, "KSweepResult")
      .def_readonly("rows", &KSweepResult::rows)
      .def_readonly("suggested_k", &KSweepResult::suggested_k);
  m.def("k_sweep", &k_sweep, py::arg("X"), py::arg("options"), Release());

  py::class_<ProfileOptions>(m, "ProfileOptions")
      .def(py::init<>())
      .def_readwrite("feature_names", &ProfileOptions::feature_names)
      .def_readwrite("high_words", &ProfileOptions::high_words)
      .def_readwrite("low_words", &ProfileOptions::low_words)
      .def_readwrite("name_features", &ProfileOptions::name_features)
      .def_readwrite("min_effect", &ProfileOptions::min_effect);
  py::class_<SegmentProfile>(m, "SegmentProfile")
      .def_readonly("segment", &SegmentProfile::segment)
      .def_readonly("size", &SegmentProfile::size)
      .def_readonly("share", &SegmentProfile::share)
      .def_readonly("mean", &SegmentProfile::mean)
      .def_readonly("median", &SegmentProfile::median)
      .def_readonly("effect", &SegmentProfile::effect)
      .def_readonly("distinguishing", &SegmentProfile::distinguishing)
      .def_readonly("value_share", &SegmentProfile::value_share)
      .def_readonly("value_mean", &SegmentProfile::value_mean)
      .def_readonly("name", &SegmentProfile::name);
  m.def("segment_profiles", &segment_profiles, py::arg("X"), py::arg("labels"), py::arg("value"), py::arg("options"), Release());

  // Test hook: the address a float64 matrix argument is read from (equals the numpy buffer when
  // the argument binds without a copy).
  m.def("_matrix_ref_address", [](MatrixRef X) { return reinterpret_cast<std::uintptr_t>(X.data()); }, py::arg("X"));
}

}  // namespace crmine::python
