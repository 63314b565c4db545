// SPDX-License-Identifier: Apache-2.0
// Uplift models (two-model, class transformation, uplift trees/forests) and Qini/uplift curves.
// Labels bind as int32 Eigen::Ref and scores/features as float64, so prepared numpy input never copies.
#include "common.hpp"

#include <crmine/campaign/uplift.hpp>
#include <crmine/classify/gradient_boosting.hpp>
#include <crmine/classify/logistic.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

namespace crmine::python {
namespace {

py::tuple curve_tuple(UpliftCurve&& c) { return py::make_tuple(to_numpy(std::move(c.x)), to_numpy(std::move(c.y))); }

template <typename Fn>
auto curve_fn(Fn fn) {
  return [fn](LabelRef y, VectorRef uplift, LabelRef treatment) {
    UpliftCurve c;
    {
      py::gil_scoped_release release;
      c = fn(y, uplift, treatment);
    }
    return curve_tuple(std::move(c));
  };
}

/// Option fields shared by the tree and the forest.
template <typename Options, typename Class>
void add_tree_options(Class& cls) {
  cls.def(py::init<>())
      .def_readwrite("criterion", &Options::criterion)
      .def_readwrite("max_depth", &Options::max_depth)
      .def_readwrite("min_samples_leaf", &Options::min_samples_leaf)
      .def_readwrite("min_samples_treatment", &Options::min_samples_treatment)
      .def_readwrite("n_reg", &Options::n_reg)
      .def_readwrite("min_gain", &Options::min_gain)
      .def_readwrite("max_bins", &Options::max_bins)
      .def_readwrite("max_features", &Options::max_features)
      .def_readwrite("seed", &Options::seed)
      .def_readwrite("n_threads", &Options::n_threads);
}

template <typename Model, typename Class>
void add_model(Class& cls) {
  cls.def("fit", &Model::fit, py::arg("X"), py::arg("y"), py::arg("treatment"), Release(), py::return_value_policy::reference)
      .def("predict", &Model::predict, py::arg("X"), Release())
      .def_property_readonly("is_fitted", &Model::is_fitted)
      .def_property_readonly("options", &Model::options)
      .def_property_readonly("feature_importances", &Model::feature_importances)
      .def_property_readonly("n_features", &Model::n_features)
      .def("to_bytes", &to_bytes<Model>, "The model in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<Model>, py::arg("data"));
}

}  // namespace

void bind_uplift(py::module_& m) {
  m.def("qini_curve", curve_fn([](LabelRef y, VectorRef u, LabelRef t) { return qini_curve(y, u, t); }), py::arg("y"),
        py::arg("uplift"), py::arg("treatment"));
  m.def("uplift_curve", curve_fn([](LabelRef y, VectorRef u, LabelRef t) { return uplift_curve(y, u, t); }), py::arg("y"),
        py::arg("uplift"), py::arg("treatment"));
  m.def(
      "perfect_qini_curve",
      [](LabelRef y, LabelRef t, bool negative_effect) {
        UpliftCurve c;
        {
          py::gil_scoped_release release;
          c = perfect_qini_curve(y, t, negative_effect);
        }
        return curve_tuple(std::move(c));
      },
      py::arg("y"), py::arg("treatment"), py::arg("negative_effect"));
  m.def(
      "perfect_uplift_curve",
      [](LabelRef y, LabelRef t) {
        UpliftCurve c;
        {
          py::gil_scoped_release release;
          c = perfect_uplift_curve(y, t);
        }
        return curve_tuple(std::move(c));
      },
      py::arg("y"), py::arg("treatment"));
  m.def("qini_auc_score", &qini_auc_score, py::arg("y"), py::arg("uplift"), py::arg("treatment"), py::arg("negative_effect"),
        Release());
  m.def("uplift_auc_score", &uplift_auc_score, py::arg("y"), py::arg("uplift"), py::arg("treatment"), Release());
  m.def("uplift_at_k", &uplift_at_k, py::arg("y"), py::arg("uplift"), py::arg("treatment"), py::arg("k"), Release());

  // Meta-learners over two (or one) logistic regressions, fitted in place without copying X's groups.
  m.def("fit_two_model_logistic", &fit_two_model_logistic, py::arg("treated"), py::arg("control"), py::arg("X"), py::arg("y"),
        py::arg("treatment"), Release());
  m.def("two_model_logistic_uplift", &two_model_logistic_uplift, py::arg("treated"), py::arg("control"), py::arg("X"), Release());
  m.def("fit_class_transformation_logistic", &fit_class_transformation_logistic, py::arg("model"), py::arg("X"), py::arg("y"),
        py::arg("treatment"), Release());
  m.def("class_transformation_logistic_uplift", &class_transformation_logistic_uplift, py::arg("model"), py::arg("X"), Release());

  // Two gradient boosting classifiers fitted on their groups' rows, at the same time when threads allow.
  m.def("fit_two_model_boosting", &fit_two_model_boosting, py::arg("treated"), py::arg("control"), py::arg("X"), py::arg("y"),
        py::arg("treatment"), Release());

  py::class_<TreatmentChoiceOptions>(m, "TreatmentChoiceOptions")
      .def(py::init<>())
      .def_readwrite("n", &TreatmentChoiceOptions::n)
      .def_readwrite("profitable_only", &TreatmentChoiceOptions::profitable_only)
      .def_readwrite("value_per_response", &TreatmentChoiceOptions::value_per_response)
      .def_readwrite("cost_per_contact", &TreatmentChoiceOptions::cost_per_contact);
  m.def(
      "choose_treatment",
      [](VectorRef uplift, const TreatmentChoiceOptions& o) {
        TreatmentChoice c;
        {
          py::gil_scoped_release release;
          c = choose_treatment(uplift, o);
        }
        // (rows, profit_curve, expected_incremental_responses, expected_profit, best_n)
        return py::make_tuple(to_numpy(std::move(c.rows)), to_numpy(std::move(c.profit_curve)),
                              c.expected_incremental_responses, c.expected_profit, c.best_n);
      },
      py::arg("uplift"), py::arg("options"));

  py::enum_<UpliftCriterion>(m, "UpliftCriterion")
      .value("kl", UpliftCriterion::kl)
      .value("ed", UpliftCriterion::ed)
      .value("chi", UpliftCriterion::chi)
      .value("ddp", UpliftCriterion::ddp);
  py::class_<UpliftTreeOptions> tree_options(m, "UpliftTreeOptions");
  add_tree_options<UpliftTreeOptions>(tree_options);
  py::class_<UpliftForestOptions> forest_options(m, "UpliftForestOptions");
  add_tree_options<UpliftForestOptions>(forest_options);
  forest_options.def_readwrite("n_estimators", &UpliftForestOptions::n_estimators)
      .def_readwrite("max_samples", &UpliftForestOptions::max_samples)
      .def_readwrite("bootstrap", &UpliftForestOptions::bootstrap);

  py::class_<UpliftNode>(m, "UpliftNode")
      .def_readonly("feature", &UpliftNode::feature)
      .def_readonly("threshold", &UpliftNode::threshold)
      .def_readonly("left", &UpliftNode::left)
      .def_readonly("right", &UpliftNode::right)
      .def_readonly("uplift", &UpliftNode::uplift)
      .def_readonly("p_treated", &UpliftNode::p_treated)
      .def_readonly("p_control", &UpliftNode::p_control)
      .def_readonly("n_treated", &UpliftNode::n_treated)
      .def_readonly("n_control", &UpliftNode::n_control)
      .def_readonly("gain", &UpliftNode::gain);
  py::class_<UpliftTree> tree(m, "UpliftTree");
  tree.def(py::init<UpliftTreeOptions>(), py::arg("options"))
      .def("apply", &UpliftTree::apply, py::arg("X"), Release())
      .def_property_readonly("nodes", &UpliftTree::nodes)
      .def_property_readonly("n_leaves", &UpliftTree::n_leaves);
  add_model<UpliftTree>(tree);
  py::class_<UpliftForest> forest(m, "UpliftForest");
  forest.def(py::init<UpliftForestOptions>(), py::arg("options"))
      .def_property_readonly("n_trees", &UpliftForest::n_trees)
      .def("tree", &UpliftForest::tree, py::arg("t"));
  add_model<UpliftForest>(forest);
}

}  // namespace crmine::python
