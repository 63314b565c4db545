// SPDX-License-Identifier: Apache-2.0
// Bindings of the classify area: options field by field, models method by method, metrics.
// Dense inputs bind as Eigen::Ref, so C-contiguous float64 (int32 labels/codes) never copies.
#include "common.hpp"

#include <crmine/classify.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <sstream>

namespace crmine::python {
namespace {


/// Methods every classifier shares.
template <typename Model, typename Class>
void add_common(Class& cls) {
  cls.def("fit", py::overload_cast<MatrixRef, LabelRef, VectorRef>(&Model::fit), py::arg("X"), py::arg("y"),
          py::arg("sample_weight"), Release(), py::return_value_policy::reference)
      .def("predict_proba", py::overload_cast<MatrixRef>(&Model::predict_proba, py::const_), py::arg("X"), Release())
      .def("predict", &Model::predict, py::arg("X"), Release())
      .def_property_readonly("is_fitted", &Model::is_fitted)
      .def_property_readonly("options", &Model::options)
      .def_property("feature_names", &Model::feature_names, &Model::set_feature_names)
      .def("to_bytes", &to_bytes<Model>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<Model>, py::arg("data"));
}

/// Accessors of the gradient boosting models (detail::BoostedTrees).
template <typename Model, typename Class>
void add_boosted(Class& cls) {
  cls.def_property_readonly("n_trees", &Model::n_trees)
      .def_property_readonly("init_score", &Model::init_score)
      .def_property_readonly("feature_importances", &Model::feature_importances)
      .def_property_readonly("validation_loss", &Model::validation_loss)
      .def_property_readonly("trees", &Model::trees, "The fitted trees in boosting order, each a list of TreeNode");
}

template <typename Model, typename Class>
void add_tree(Class& cls) {
  cls.def("apply", &Model::apply, py::arg("X"), Release())
      .def_property_readonly("feature_importances", &Model::feature_importances)
      .def_property_readonly("depth", &Model::depth)
      .def_property_readonly("n_leaves", &Model::n_leaves)
      .def_property_readonly("n_features", &Model::n_features)
      .def_property_readonly("nodes", &Model::nodes)
      .def("export_rules", &Model::export_rules, py::arg("names") = std::vector<std::string>{}, py::arg("precision") = 4,
           py::arg("categories") = std::vector<std::vector<std::string>>{});
}

}  // namespace

void bind_classify(py::module_& m) {
  py::class_<LogisticRegressionOptions>(m, "LogisticRegressionOptions")
      .def(py::init<>())
      .def_readwrite("C", &LogisticRegressionOptions::C)
      .def_readwrite("l1_ratio", &LogisticRegressionOptions::l1_ratio)
      .def_readwrite("fit_intercept", &LogisticRegressionOptions::fit_intercept)
      .def_readwrite("standardize", &LogisticRegressionOptions::standardize)
      .def_readwrite("class_weight", &LogisticRegressionOptions::class_weight)
      .def_readwrite("max_iter", &LogisticRegressionOptions::max_iter)
      .def_readwrite("tol", &LogisticRegressionOptions::tol)
      .def_readwrite("n_threads", &LogisticRegressionOptions::n_threads);
  py::class_<LogisticRegression> logistic(m, "LogisticRegression");
  logistic.def(py::init<LogisticRegressionOptions>(), py::arg("options"))
      .def("decision_function", &LogisticRegression::decision_function, py::arg("X"), Release())
      .def_property_readonly("coef", &LogisticRegression::coef)
      .def_property_readonly("coef_standardized", &LogisticRegression::coef_standardized)
      .def_property_readonly("intercept", &LogisticRegression::intercept)
      .def_property_readonly("report", &LogisticRegression::report);
  add_common<LogisticRegression>(logistic);

  py::class_<LinearRegressionOptions>(m, "LinearRegressionOptions")
      .def(py::init<>())
      .def_readwrite("alpha", &LinearRegressionOptions::alpha)
      .def_readwrite("fit_intercept", &LinearRegressionOptions::fit_intercept);
  py::class_<LinearRegression>(m, "LinearRegression")
      .def(py::init<LinearRegressionOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, VectorRef, VectorRef>(&LinearRegression::fit), py::arg("X"), py::arg("y"),
           py::arg("sample_weight"), Release(), py::return_value_policy::reference)
      .def("predict", &LinearRegression::predict, py::arg("X"), Release())
      .def_property_readonly("coef", &LinearRegression::coef)
      .def_property_readonly("intercept", &LinearRegression::intercept)
      .def_property_readonly("rank", &LinearRegression::rank)
      .def_property_readonly("options", &LinearRegression::options)
      .def_property("feature_names", &LinearRegression::feature_names, &LinearRegression::set_feature_names)
      .def("to_bytes", &to_bytes<LinearRegression>)
      .def_static("from_bytes", &from_bytes<LinearRegression>, py::arg("data"));

  py::enum_<TreeCriterion>(m, "TreeCriterion").value("gini", TreeCriterion::gini).value("entropy", TreeCriterion::entropy);
  py::class_<DecisionTreeOptions>(m, "DecisionTreeOptions")
      .def(py::init<>())
      .def_readwrite("criterion", &DecisionTreeOptions::criterion)
      .def_readwrite("max_depth", &DecisionTreeOptions::max_depth)
      .def_readwrite("min_samples_split", &DecisionTreeOptions::min_samples_split)
      .def_readwrite("min_samples_leaf", &DecisionTreeOptions::min_samples_leaf)
      .def_readwrite("min_impurity_decrease", &DecisionTreeOptions::min_impurity_decrease)
      .def_readwrite("ccp_alpha", &DecisionTreeOptions::ccp_alpha)
      .def_readwrite("class_weight", &DecisionTreeOptions::class_weight)
      .def_readwrite("n_threads", &DecisionTreeOptions::n_threads)
      .def_readwrite("categorical_features", &DecisionTreeOptions::categorical_features);
  py::class_<DecisionTreeRegressorOptions>(m, "DecisionTreeRegressorOptions")
      .def(py::init<>())
      .def_readwrite("max_depth", &DecisionTreeRegressorOptions::max_depth)
      .def_readwrite("min_samples_split", &DecisionTreeRegressorOptions::min_samples_split)
      .def_readwrite("min_samples_leaf", &DecisionTreeRegressorOptions::min_samples_leaf)
      .def_readwrite("min_impurity_decrease", &DecisionTreeRegressorOptions::min_impurity_decrease)
      .def_readwrite("ccp_alpha", &DecisionTreeRegressorOptions::ccp_alpha)
      .def_readwrite("n_threads", &DecisionTreeRegressorOptions::n_threads)
      .def_readwrite("categorical_features", &DecisionTreeRegressorOptions::categorical_features);
  py::class_<TreeNode>(m, "TreeNode")
      .def_readonly("feature", &TreeNode::feature)
      .def_readonly("threshold", &TreeNode::threshold)
      .def_readonly("left", &TreeNode::left)
      .def_readonly("right", &TreeNode::right)
      .def_readonly("missing_left", &TreeNode::missing_left)
      .def_readonly("value", &TreeNode::value)
      .def_readonly("impurity", &TreeNode::impurity)
      .def_readonly("weight", &TreeNode::weight)
      .def_readonly("n_samples", &TreeNode::n_samples)
      .def_readonly("categories", &TreeNode::categories);
  py::class_<DecisionTreeClassifier> tree(m, "DecisionTreeClassifier");
  tree.def(py::init<DecisionTreeOptions>(), py::arg("options"));
  add_common<DecisionTreeClassifier>(tree);
  add_tree<DecisionTreeClassifier>(tree);
  py::class_<DecisionTreeRegressor> reg(m, "DecisionTreeRegressor");
  reg.def(py::init<DecisionTreeRegressorOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, VectorRef, VectorRef>(&DecisionTreeRegressor::fit), py::arg("X"), py::arg("y"),
           py::arg("sample_weight"), Release(), py::return_value_policy::reference)
      .def("predict", &DecisionTreeRegressor::predict, py::arg("X"), Release())
      .def_property_readonly("options", &DecisionTreeRegressor::options)
      .def_property("feature_names", &DecisionTreeRegressor::feature_names, &DecisionTreeRegressor::set_feature_names)
      .def("to_bytes", &to_bytes<DecisionTreeRegressor>)
      .def_static("from_bytes", &from_bytes<DecisionTreeRegressor>, py::arg("data"));
  add_tree<DecisionTreeRegressor>(reg);

  py::class_<GradientBoostingOptions>(m, "GradientBoostingOptions")
      .def(py::init<>())
      .def_readwrite("n_estimators", &GradientBoostingOptions::n_estimators)
      .def_readwrite("learning_rate", &GradientBoostingOptions::learning_rate)
      .def_readwrite("num_leaves", &GradientBoostingOptions::num_leaves)
      .def_readwrite("max_depth", &GradientBoostingOptions::max_depth)
      .def_readwrite("min_child_samples", &GradientBoostingOptions::min_child_samples)
      .def_readwrite("min_child_weight", &GradientBoostingOptions::min_child_weight)
      .def_readwrite("reg_lambda", &GradientBoostingOptions::reg_lambda)
      .def_readwrite("min_split_gain", &GradientBoostingOptions::min_split_gain)
      .def_readwrite("subsample", &GradientBoostingOptions::subsample)
      .def_readwrite("colsample_bytree", &GradientBoostingOptions::colsample_bytree)
      .def_readwrite("max_bins", &GradientBoostingOptions::max_bins)
      .def_readwrite("validation_fraction", &GradientBoostingOptions::validation_fraction)
      .def_readwrite("n_iter_no_change", &GradientBoostingOptions::n_iter_no_change)
      .def_readwrite("seed", &GradientBoostingOptions::seed)
      .def_readwrite("n_threads", &GradientBoostingOptions::n_threads)
      .def_readwrite("growth", &GradientBoostingOptions::growth)
      .def_readwrite("categorical_features", &GradientBoostingOptions::categorical_features)
      .def_readwrite("max_cat_to_onehot", &GradientBoostingOptions::max_cat_to_onehot)
      .def_readwrite("max_cat_threshold", &GradientBoostingOptions::max_cat_threshold)
      .def_readwrite("cat_smooth", &GradientBoostingOptions::cat_smooth)
      .def_readwrite("cat_l2", &GradientBoostingOptions::cat_l2)
      .def_readwrite("min_data_per_group", &GradientBoostingOptions::min_data_per_group);
  py::enum_<GrowthPolicy>(m, "GrowthPolicy").value("leafwise", GrowthPolicy::leafwise).value("depthwise", GrowthPolicy::depthwise);
  py::class_<GradientBoostingClassifier> gbm(m, "GradientBoostingClassifier");
  gbm.def(py::init<GradientBoostingOptions>(), py::arg("options"))
      .def("decision_function", &GradientBoostingClassifier::decision_function, py::arg("X"), Release());
  add_boosted<GradientBoostingClassifier>(gbm);
  add_common<GradientBoostingClassifier>(gbm);
  py::class_<GradientBoostingRegressor> gbr(m, "GradientBoostingRegressor");
  gbr.def(py::init<GradientBoostingOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, VectorRef, VectorRef>(&GradientBoostingRegressor::fit), py::arg("X"), py::arg("y"),
           py::arg("sample_weight"), Release(), py::return_value_policy::reference)
      .def("predict", &GradientBoostingRegressor::predict, py::arg("X"), Release())
      .def_property_readonly("is_fitted", &GradientBoostingRegressor::is_fitted)
      .def_property_readonly("options", &GradientBoostingRegressor::options)
      .def_property("feature_names", &GradientBoostingRegressor::feature_names, &GradientBoostingRegressor::set_feature_names)
      .def("to_bytes", &to_bytes<GradientBoostingRegressor>)
      .def_static("from_bytes", &from_bytes<GradientBoostingRegressor>, py::arg("data"));
  add_boosted<GradientBoostingRegressor>(gbr);

  py::class_<NaiveBayesOptions>(m, "NaiveBayesOptions")
      .def(py::init<>())
      .def_readwrite("var_smoothing", &NaiveBayesOptions::var_smoothing)
      .def_readwrite("alpha", &NaiveBayesOptions::alpha)
      .def_readwrite("fit_prior", &NaiveBayesOptions::fit_prior);
  py::class_<NaiveBayes>(m, "NaiveBayes")
      .def(py::init<NaiveBayesOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, MatrixXiRef, LabelRef, VectorRef>(&NaiveBayes::fit), py::arg("X"), py::arg("codes"),
           py::arg("y"), py::arg("sample_weight"), Release(), py::return_value_policy::reference)
      .def("predict_proba", py::overload_cast<MatrixRef, MatrixXiRef>(&NaiveBayes::predict_proba, py::const_), py::arg("X"),
           py::arg("codes"), Release())
      .def("joint_log_likelihood", &NaiveBayes::joint_log_likelihood, py::arg("X"), py::arg("codes"), Release())
      .def_property_readonly("is_fitted", &NaiveBayes::is_fitted)
      .def_property_readonly("options", &NaiveBayes::options)
      .def_property_readonly("class_log_prior", &NaiveBayes::class_log_prior)
      .def_property_readonly("theta", &NaiveBayes::theta)
      .def_property_readonly("var", &NaiveBayes::var)
      .def_property_readonly("category_log_prob", &NaiveBayes::category_log_prob)
      .def_property("feature_names", &NaiveBayes::feature_names, &NaiveBayes::set_feature_names)
      .def("to_bytes", &to_bytes<NaiveBayes>)
      .def_static("from_bytes", &from_bytes<NaiveBayes>, py::arg("data"));

  py::enum_<MLPActivation>(m, "MLPActivation")
      .value("identity", MLPActivation::identity)
      .value("logistic", MLPActivation::logistic)
      .value("tanh", MLPActivation::tanh)
      .value("relu", MLPActivation::relu);
  py::class_<MLPOptions>(m, "MLPOptions")
      .def(py::init<>())
      .def_readwrite("hidden_layer_sizes", &MLPOptions::hidden_layer_sizes)
      .def_readwrite("activation", &MLPOptions::activation)
      .def_readwrite("alpha", &MLPOptions::alpha)
      .def_readwrite("batch_size", &MLPOptions::batch_size)
      .def_readwrite("learning_rate_init", &MLPOptions::learning_rate_init)
      .def_readwrite("max_iter", &MLPOptions::max_iter)
      .def_readwrite("tol", &MLPOptions::tol)
      .def_readwrite("n_iter_no_change", &MLPOptions::n_iter_no_change)
      .def_readwrite("early_stopping", &MLPOptions::early_stopping)
      .def_readwrite("validation_fraction", &MLPOptions::validation_fraction)
      .def_readwrite("beta_1", &MLPOptions::beta_1)
      .def_readwrite("beta_2", &MLPOptions::beta_2)
      .def_readwrite("epsilon", &MLPOptions::epsilon)
      .def_readwrite("shuffle", &MLPOptions::shuffle)
      .def_readwrite("standardize", &MLPOptions::standardize)
      .def_readwrite("warm_start", &MLPOptions::warm_start)
      .def_readwrite("seed", &MLPOptions::seed)
      .def_readwrite("n_threads", &MLPOptions::n_threads);
  py::class_<detail::MLPNetwork>(m, "MLPNetwork")
      .def_readonly("coefs", &detail::MLPNetwork::coefs)
      .def_readonly("intercepts", &detail::MLPNetwork::intercepts)
      .def_readonly("mean", &detail::MLPNetwork::mean)
      .def_readonly("scale", &detail::MLPNetwork::scale)
      .def_readonly("loss_curve", &detail::MLPNetwork::loss_curve)
      .def_readonly("validation_scores", &detail::MLPNetwork::validation_scores)
      .def_readonly("best_loss", &detail::MLPNetwork::best_loss)
      .def_readonly("best_validation_score", &detail::MLPNetwork::best_validation_score)
      .def_readonly("report", &detail::MLPNetwork::report);
  py::class_<MLPClassifier> mlp(m, "MLPClassifier");
  mlp.def(py::init<MLPOptions>(), py::arg("options"))
      .def("set_options", &MLPClassifier::set_options, py::arg("options"))
      .def_property_readonly("n_classes", &MLPClassifier::n_classes)
      .def_property_readonly("network", &MLPClassifier::network, py::return_value_policy::reference_internal);
  add_common<MLPClassifier>(mlp);
  py::class_<MLPRegressor>(m, "MLPRegressor")
      .def(py::init<MLPOptions>(), py::arg("options"))
      .def("fit", py::overload_cast<MatrixRef, VectorRef, VectorRef>(&MLPRegressor::fit), py::arg("X"), py::arg("y"),
           py::arg("sample_weight"), Release(), py::return_value_policy::reference)
      .def("predict", &MLPRegressor::predict, py::arg("X"), Release())
      .def_property_readonly("is_fitted", &MLPRegressor::is_fitted)
      .def_property_readonly("options", &MLPRegressor::options)
      .def("set_options", &MLPRegressor::set_options, py::arg("options"))
      .def_property_readonly("network", &MLPRegressor::network, py::return_value_policy::reference_internal)
      .def_property("feature_names", &MLPRegressor::feature_names, &MLPRegressor::set_feature_names)
      .def("to_bytes", &to_bytes<MLPRegressor>)
      .def_static("from_bytes", &from_bytes<MLPRegressor>, py::arg("data"));

  const auto none = Eigen::VectorXd();
  m.def("roc_auc", &roc_auc, py::arg("y"), py::arg("score"), py::arg("sample_weight") = none, Release());
  m.def("pr_auc", &pr_auc, py::arg("y"), py::arg("score"), py::arg("sample_weight") = none, Release());
  m.def("log_loss", &log_loss, py::arg("y"), py::arg("proba"), py::arg("sample_weight") = none, Release());
  m.def("brier_score", &brier_score, py::arg("y"), py::arg("proba"), py::arg("sample_weight") = none, Release());
  py::class_<ConfusionMatrix>(m, "ConfusionMatrix")
      .def_readonly("tn", &ConfusionMatrix::tn)
      .def_readonly("fp", &ConfusionMatrix::fp)
      .def_readonly("fn", &ConfusionMatrix::fn)
      .def_readonly("tp", &ConfusionMatrix::tp);
  m.def("confusion_matrix", &confusion_matrix, py::arg("y"), py::arg("score"), py::arg("threshold"),
        py::arg("sample_weight") = none, Release());
  py::class_<LiftTable>(m, "LiftTable")
      .def_readonly("n", &LiftTable::n)
      .def_readonly("responders", &LiftTable::responders)
      .def_readonly("min_score", &LiftTable::min_score)
      .def_readonly("max_score", &LiftTable::max_score)
      .def_readonly("response_rate", &LiftTable::response_rate)
      .def_readonly("lift", &LiftTable::lift)
      .def_readonly("cumulative_response_rate", &LiftTable::cumulative_response_rate)
      .def_readonly("cumulative_lift", &LiftTable::cumulative_lift)
      .def_readonly("cumulative_gain", &LiftTable::cumulative_gain)
      .def_readonly("overall_rate", &LiftTable::overall_rate);
  m.def("lift_table", &lift_table, py::arg("y"), py::arg("score"), py::arg("n_bins"), Release());
  py::class_<CalibrationTable>(m, "CalibrationTable")
      .def_readonly("lower", &CalibrationTable::lower)
      .def_readonly("upper", &CalibrationTable::upper)
      .def_readonly("n", &CalibrationTable::n)
      .def_readonly("mean_predicted", &CalibrationTable::mean_predicted)
      .def_readonly("observed_rate", &CalibrationTable::observed_rate);
  m.def("calibration_table", &calibration_table, py::arg("y"), py::arg("proba"), py::arg("n_bins"), Release());
  m.def("stratified_kfold", &stratified_kfold, py::arg("y"), py::arg("n_splits"), py::arg("seed"), Release());
  m.def("stratified_split", &stratified_split, py::arg("y"), py::arg("test_fraction"), py::arg("seed"), Release());
  m.def("rank_by_score", &rank_by_score, py::arg("score"), Release());
  py::class_<ProfitCurve>(m, "ProfitCurve")
      .def_readonly("profit", &ProfitCurve::profit)
      .def_readonly("best_n", &ProfitCurve::best_n)
      .def_readonly("best_profit", &ProfitCurve::best_profit);
  m.def("profit_curve", &profit_curve, py::arg("proba"), py::arg("value_per_response"), py::arg("cost_per_contact"), Release());
}

}  // namespace crmine::python
