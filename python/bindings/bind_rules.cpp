// SPDX-License-Identifier: Apache-2.0
// Bindings of the cross-sell area: baskets, frequent itemsets, rules, recommendations,
// sequential patterns and the affinity graph. Thin: the DataFrame shaping lives in rules.py.
#include "common.hpp"

#include <crmine/rules.hpp>

#include <pybind11/stl.h>

#include <algorithm>
#include <sstream>

namespace crmine::python {
namespace {

ItemsetAlgorithm parse_algorithm(const std::string& s) {
  if (s == "fpgrowth" || s == "fp_growth") return ItemsetAlgorithm::fp_growth;
  if (s == "eclat") return ItemsetAlgorithm::eclat;
  if (s == "apriori") return ItemsetAlgorithm::apriori;
  throw InvalidArgument("algorithm: must be 'fpgrowth', 'eclat' or 'apriori', got '" + s + "'");
}

ItemsetKind parse_kind(const std::string& s) {
  if (s == "all") return ItemsetKind::all;
  if (s == "closed") return ItemsetKind::closed;
  if (s == "maximal") return ItemsetKind::maximal;
  throw InvalidArgument("kind: must be 'all', 'closed' or 'maximal', got '" + s + "'");
}

BasketKey parse_key(const std::string& s) {
  if (s == "order") return BasketKey::order;
  if (s == "customer_day") return BasketKey::customer_day;
  if (s == "customer") return BasketKey::customer;
  throw InvalidArgument("by: must be 'order', 'customer_day' or 'customer', got '" + s + "'");
}

ItemsetOptions itemset_options(double min_support, std::int64_t min_count, int max_len, const std::string& algorithm,
                               const std::string& kind, std::int64_t max_itemsets, std::int64_t max_memory, int n_threads,
                               std::vector<std::int32_t> contains) {
  ItemsetOptions o;
  o.min_support = min_support;
  o.min_count = min_count;
  o.max_len = max_len;
  o.algorithm = parse_algorithm(algorithm);
  o.kind = parse_kind(kind);
  o.max_itemsets = max_itemsets;
  o.max_memory = max_memory;
  o.n_threads = n_threads;
  o.contains = std::move(contains);
  return o;
}

RuleOptions rule_options(const std::string& metric, double min_threshold, std::int64_t top_k,
                         std::vector<std::int32_t> consequent_items, std::vector<std::int32_t> antecedent_items,
                         int max_antecedent_len, int max_consequent_len, std::int64_t max_rules, int n_threads) {
  RuleOptions o;
  o.metric = parse_rule_metric(metric);
  o.min_threshold = min_threshold;
  o.top_k = top_k;
  o.consequent_items = std::move(consequent_items);
  o.antecedent_items = std::move(antecedent_items);
  o.max_antecedent_len = max_antecedent_len;
  o.max_consequent_len = max_consequent_len;
  o.max_rules = max_rules;
  o.n_threads = n_threads;
  return o;
}

template <typename T>
py::array_t<T> copy_out(std::vector<T> v) {
  return to_numpy(std::move(v));
}

template <typename Class, typename Owner, typename T>
void array_property(Class& cls, const char* name, std::vector<T> Owner::*member) {
  cls.def_property_readonly(name, [member](py::object self) { return view_of(self.cast<const Owner&>().*member, self); });
}

/// Pauses the cyclic garbage collector for a scope: building millions of containers otherwise
/// triggers collections that traverse every object built so far (quadratic in effect).
class GcPause {
 public:
  GcPause() : was_enabled_(PyGC_Disable() == 1) {}
  ~GcPause() {
    if (was_enabled_) PyGC_Enable();
  }
  GcPause(const GcPause&) = delete;
  GcPause& operator=(const GcPause&) = delete;

 private:
  bool was_enabled_;
};

/// The bytes CPython gives a set object (its own size plus an external hash table).
std::int64_t set_bytes(PyObject* set) {
  const py::object size = py::reinterpret_steal<py::object>(PyObject_CallMethod(set, "__sizeof__", nullptr));
  if (!size) throw py::error_already_set();
  return size.cast<std::int64_t>();
}

/// True when a frozenset of n items is smaller made as a copy of a filled set than filled item by
/// item. CPython grows a set filled item by item 4x at a time (a 5-item set gets 32 slots, 512
/// bytes of table) but sizes a copy of a set at twice its length (16 slots for 5 items): on
/// Groceries at min support 0.0002 most of the 790,072 itemsets have 5 or more items, so this is
/// a large share of the result's memory. The answer is measured once per length and process
/// rather than hard-coded, because the growth rules differ between CPython versions (in 3.11 a
/// copy is larger for 16-18 items). Needs the GIL (which also guards the cache).
bool copy_is_smaller(std::size_t n) {
  static std::vector<signed char> known;  // by length: 1 copy smaller, 0 not, -1 not measured yet
  if (n < known.size() && known[n] >= 0) return known[n] == 1;
  const py::object scratch = py::reinterpret_steal<py::object>(PySet_New(nullptr));
  const py::object filled = py::reinterpret_steal<py::object>(PyFrozenSet_New(nullptr));
  if (!scratch || !filled) throw py::error_already_set();
  for (std::size_t k = 0; k < n; ++k) {
    const py::object v = py::int_(k);
    if (PySet_Add(scratch.ptr(), v.ptr()) != 0 || PySet_Add(filled.ptr(), v.ptr()) != 0) throw py::error_already_set();
  }
  const py::object copied = py::reinterpret_steal<py::object>(PyFrozenSet_New(scratch.ptr()));
  if (!copied) throw py::error_already_set();
  const bool smaller = set_bytes(copied.ptr()) < set_bytes(filled.ptr());
  if (known.size() <= n) known.resize(n + 1, -1);
  known[n] = smaller ? 1 : 0;
  return smaller;
}

/// A numpy object array whose element s is the frozenset (or with `tuples` the tuple, in item
/// order) of labels[items[indptr[s]:indptr[s+1]]] (codes themselves as ints when labels is
/// None). Each label object is shared, not copied. Frozensets are built in the smaller of
/// CPython's two table sizes (see copy_is_smaller). Containers holding only untracked objects
/// (str, int, ...) cannot be part of a reference cycle, so they are untracked as CPython
/// untracks such tuples: later collections skip them.
py::array itemset_column(py::handle indptr_obj, py::handle items_obj, py::handle labels_obj, bool tuples) {
  const auto indptr = span_of<std::int64_t>(indptr_obj, "indptr");
  const auto items = span_of<std::int32_t>(items_obj, "items");
  if (indptr.empty() || indptr.front() != 0 || static_cast<std::size_t>(indptr.back()) != items.size())
    throw InvalidArgument("indptr: must start at 0 and end at len(items)");
  std::vector<py::object> owned;  // labels made here (codes as ints) are kept alive in `owned`
  std::vector<PyObject*> label;
  std::int32_t top = -1;
  for (const std::int32_t v : items) top = std::max(top, v);
  if (labels_obj.is_none()) {
    owned.reserve(static_cast<std::size_t>(top) + 1);
    for (std::int32_t c = 0; c <= top; ++c) owned.push_back(py::int_(c));
    for (const auto& o : owned) label.push_back(o.ptr());
  } else {
    const py::object seq = py::reinterpret_steal<py::object>(PySequence_Fast(labels_obj.ptr(), "labels: expected a sequence"));
    if (!seq) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    if (top >= n) throw InvalidArgument(detail::concat("items: code ", top, " has no label (", n, " labels)"));
    owned.push_back(seq);
    PyObject** base = PySequence_Fast_ITEMS(seq.ptr());
    label.assign(base, base + n);
  }
  std::vector<char> atomic(label.size());
  for (std::size_t c = 0; c < label.size(); ++c) atomic[c] = PyObject_GC_IsTracked(label[c]) ? 0 : 1;
  const py::object scratch = py::reinterpret_steal<py::object>(PySet_New(nullptr));
  if (!scratch) throw py::error_already_set();

  const auto n_sets = static_cast<py::ssize_t>(indptr.size() - 1);
  // numpy.empty fills object arrays with None and makes them writeable.
  py::array out = py::module_::import("numpy").attr("empty")(n_sets, "object");
  auto** slots = static_cast<PyObject**>(out.mutable_data());
  const GcPause pause;
  for (py::ssize_t s = 0; s < n_sets; ++s) {
    const std::int64_t b = indptr[static_cast<std::size_t>(s)], e = indptr[static_cast<std::size_t>(s) + 1];
    const auto len = static_cast<std::size_t>(e - b);
    bool untrack = true;
    PyObject* set = nullptr;
    if (tuples) {
      set = PyTuple_New(static_cast<Py_ssize_t>(len));
      if (set == nullptr) throw py::error_already_set();
      for (std::int64_t k = b; k < e; ++k) {
        const auto c = static_cast<std::size_t>(items[static_cast<std::size_t>(k)]);
        Py_INCREF(label[c]);
        PyTuple_SET_ITEM(set, static_cast<Py_ssize_t>(k - b), label[c]);
        untrack = untrack && atomic[c];
      }
    } else {
      const bool via_copy = copy_is_smaller(len);
      // Filled in place: PySet_Add may fill a frozenset no other code has seen.
      PyObject* target = via_copy ? scratch.ptr() : PyFrozenSet_New(nullptr);
      if (target == nullptr) throw py::error_already_set();
      for (std::int64_t k = b; k < e; ++k) {
        const auto c = static_cast<std::size_t>(items[static_cast<std::size_t>(k)]);
        if (PySet_Add(target, label[c]) != 0) {
          if (!via_copy) Py_DECREF(target);
          throw py::error_already_set();
        }
        untrack = untrack && atomic[c];
      }
      set = via_copy ? PyFrozenSet_New(target) : target;
      if (set == nullptr) throw py::error_already_set();
      // Emptied by discarding (not PySet_Clear): its table stays allocated and the dummies are
      // reused, where clearing would free the table and the next fill would grow it again.
      if (via_copy)
        for (std::int64_t k = b; k < e; ++k)
          if (PySet_Discard(target, label[static_cast<std::size_t>(items[static_cast<std::size_t>(k)])]) < 0)
            throw py::error_already_set();
    }
    if (untrack && PyObject_GC_IsTracked(set)) PyObject_GC_UnTrack(set);
    PyObject* old = slots[s];
    slots[s] = set;
    Py_XDECREF(old);
  }
  return out;
}

}  // namespace

void bind_rules(py::module_& m) {
  m.def("rules_itemset_column", &itemset_column, py::arg("indptr"), py::arg("items"), py::arg("labels"),
        py::arg("tuples") = false);

  // Codes for a list of baskets of hashable labels, in order of first appearance. In C because
  // for lists of lists this conversion otherwise costs more than the mining.
  m.def("rules_encode_baskets", [](py::handle data) {
    py::dict index;
    py::list labels;
    std::vector<std::int64_t> indptr{0};
    std::vector<std::int32_t> codes;
    constexpr long kSmallLabels = 1L << 24;  // array lookup for ints below this
    std::vector<std::int32_t> small_code;     // int label -> code, -1 when not seen yet
    const py::object outer = py::reinterpret_steal<py::object>(PySequence_Fast(data.ptr(), "baskets: expected an iterable of baskets"));
    if (!outer) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(outer.ptr());
    for (Py_ssize_t b = 0; b < n; ++b) {
      PyObject* basket = PySequence_Fast_GET_ITEM(outer.ptr(), b);
      if (PyUnicode_Check(basket) || PyBytes_Check(basket))
        throw InvalidType(detail::concat("baskets: basket ", b, " is a string; each basket must be an iterable of items"));
      const py::object inner = py::reinterpret_steal<py::object>(PySequence_Fast(basket, "baskets: each basket must be an iterable of items"));
      if (!inner) throw py::error_already_set();
      const Py_ssize_t m_items = PySequence_Fast_GET_SIZE(inner.ptr());
      for (Py_ssize_t j = 0; j < m_items; ++j) {
        PyObject* item = PySequence_Fast_GET_ITEM(inner.ptr(), j);
        // Small non-negative ints (FIMI files, product numbers) are looked up in an array; the
        // dict still receives every label, so 5 and 5.0 share a code as they would in Python.
        long small = -1;
        if (PyLong_CheckExact(item)) {
          int overflow = 0;
          const long v = PyLong_AsLongAndOverflow(item, &overflow);
          if (overflow == 0 && v >= 0 && v < kSmallLabels) {
            small = v;
            if (static_cast<std::size_t>(v) < small_code.size() && small_code[static_cast<std::size_t>(v)] >= 0) {
              codes.push_back(small_code[static_cast<std::size_t>(v)]);
              continue;
            }
          }
        }
        if (item == Py_None || (PyFloat_Check(item) && PyFloat_AS_DOUBLE(item) != PyFloat_AS_DOUBLE(item)))
          throw InvalidArgument(detail::concat("baskets: basket ", b, " has a missing item (None/NaN)"));
        std::int32_t code = 0;
        PyObject* found = PyDict_GetItemWithError(index.ptr(), item);
        if (found != nullptr) {
          code = static_cast<std::int32_t>(PyLong_AsLong(found));
        } else {
          if (PyErr_Occurred()) throw py::error_already_set();
          code = static_cast<std::int32_t>(PyList_GET_SIZE(labels.ptr()));
          const py::object value = py::int_(code);
          if (PyDict_SetItem(index.ptr(), item, value.ptr()) != 0) throw py::error_already_set();
          labels.append(py::reinterpret_borrow<py::object>(item));
        }
        if (small >= 0) {
          if (small_code.size() <= static_cast<std::size_t>(small)) small_code.resize(static_cast<std::size_t>(small) + 1, -1);
          small_code[static_cast<std::size_t>(small)] = code;
        }
        codes.push_back(code);
      }
      indptr.push_back(static_cast<std::int64_t>(codes.size()));
    }
    return py::make_tuple(copy_out(std::move(indptr)), copy_out(std::move(codes)), labels);
  });

  m.def(
      "rules_make_baskets",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object order, py::object item,
         const std::string& by, int n_threads) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, py::none(), order, py::none(), item);
        const BasketOptions options{parse_key(by), n_threads};
        Baskets b;
        {
          py::gil_scoped_release release;
          b = make_baskets(log, options);
        }
        return py::make_tuple(copy_out(std::move(b.indptr)), copy_out(std::move(b.indices)), copy_out(std::move(b.item_ids)),
                              copy_out(std::move(b.keys)), copy_out(std::move(b.days)));
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("order"), py::arg("item"), py::arg("by"),
      py::arg("n_threads") = 0);

  m.def(
      "rules_frequent_itemsets",
      [](py::object indptr, py::object indices, std::int32_t n_items, double min_support, std::int64_t min_count, int max_len,
         const std::string& algorithm, const std::string& kind, std::int64_t max_itemsets, std::int64_t max_memory,
         int n_threads, std::vector<std::int32_t> contains) {
        const BasketView view{span_of<std::int64_t>(indptr, "indptr"), span_of<std::int32_t>(indices, "indices"), n_items};
        ItemsetOptions o = itemset_options(min_support, min_count, max_len, algorithm, kind, max_itemsets, max_memory,
                                           n_threads, std::move(contains));
        Itemsets s;
        {
          py::gil_scoped_release release;
          s = frequent_itemsets(view, o);
        }
        return py::make_tuple(copy_out(std::move(s.indptr)), copy_out(std::move(s.items)), copy_out(std::move(s.count)),
                              s.n_baskets, s.min_count, s.peak_memory);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n_items"), py::arg("min_support"), py::arg("min_count"),
      py::arg("max_len"), py::arg("algorithm"), py::arg("kind"), py::arg("max_itemsets"), py::arg("max_memory"),
      py::arg("n_threads"), py::arg("contains") = std::vector<std::int32_t>{});

  py::class_<Rules> rules(m, "Rules");
  array_property(rules, "antecedent_indptr", &Rules::antecedent_indptr);
  array_property(rules, "antecedent_items", &Rules::antecedent_items);
  array_property(rules, "consequent_indptr", &Rules::consequent_indptr);
  array_property(rules, "consequent_items", &Rules::consequent_items);
  array_property(rules, "antecedent_support", &Rules::antecedent_support);
  array_property(rules, "consequent_support", &Rules::consequent_support);
  array_property(rules, "support", &Rules::support);
  array_property(rules, "confidence", &Rules::confidence);
  array_property(rules, "lift", &Rules::lift);
  array_property(rules, "leverage", &Rules::leverage);
  array_property(rules, "conviction", &Rules::conviction);
  array_property(rules, "zhangs_metric", &Rules::zhangs_metric);
  array_property(rules, "jaccard", &Rules::jaccard);
  rules.def("__len__", &Rules::size);

  m.def(
      "rules_association_rules",
      [](py::object indptr, py::object items, py::object support, const std::string& metric, double min_threshold,
         std::int64_t top_k, std::vector<std::int32_t> consequent_items, std::vector<std::int32_t> antecedent_items,
         int max_antecedent_len, int max_consequent_len, std::int64_t max_rules, int n_threads) {
        const ItemsetSupportView view{span_of<std::int64_t>(indptr, "indptr"), span_of<std::int32_t>(items, "items"),
                                      span_of<double>(support, "support")};
        const RuleOptions o = rule_options(metric, min_threshold, top_k, std::move(consequent_items), std::move(antecedent_items),
                                           max_antecedent_len, max_consequent_len, max_rules, n_threads);
        py::gil_scoped_release release;
        return association_rules(view, o);
      },
      py::arg("indptr"), py::arg("items"), py::arg("support"), py::arg("metric"), py::arg("min_threshold"), py::arg("top_k"),
      py::arg("consequent_items"), py::arg("antecedent_items"), py::arg("max_antecedent_len"),
      py::arg("max_consequent_len"), py::arg("max_rules"), py::arg("n_threads"));

  m.def(
      "rules_mine_rules",
      [](py::object indptr, py::object indices, std::int32_t n_items, double min_support, std::int64_t min_count, int max_len,
         const std::string& algorithm, std::int64_t max_itemsets, std::int64_t max_memory, const std::string& metric,
         double min_threshold, std::int64_t top_k, std::vector<std::int32_t> consequent_items,
         std::vector<std::int32_t> antecedent_items, int max_antecedent_len, int max_consequent_len, std::int64_t max_rules,
         int n_threads) {
        const BasketView view{span_of<std::int64_t>(indptr, "indptr"), span_of<std::int32_t>(indices, "indices"), n_items};
        const ItemsetOptions io = itemset_options(min_support, min_count, max_len, algorithm, "all", max_itemsets, max_memory,
                                                  n_threads, {});
        const RuleOptions ro = rule_options(metric, min_threshold, top_k, std::move(consequent_items), std::move(antecedent_items),
                                            max_antecedent_len, max_consequent_len, max_rules, n_threads);
        py::gil_scoped_release release;
        return mine_rules(view, io, ro);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n_items"), py::arg("min_support"), py::arg("min_count"),
      py::arg("max_len"), py::arg("algorithm"), py::arg("max_itemsets"), py::arg("max_memory"), py::arg("metric"),
      py::arg("min_threshold"), py::arg("top_k"), py::arg("consequent_items"), py::arg("antecedent_items"),
      py::arg("max_antecedent_len"), py::arg("max_consequent_len"), py::arg("max_rules"), py::arg("n_threads"));

  py::class_<Recommender>(m, "Recommender")
      .def(py::init([](const Rules& r, std::int32_t n_items, const std::string& metric) {
             return Recommender(r, n_items, parse_rule_metric(metric));
           }),
           py::arg("rules"), py::arg("n_items"), py::arg("metric"))
      .def(
          "recommend",
          [](const Recommender& self, py::object indptr, py::object indices, int k, int n_threads) {
            const BasketView view{span_of<std::int64_t>(indptr, "indptr"), span_of<std::int32_t>(indices, "indices"), self.n_items()};
            Recommendations out;
            {
              py::gil_scoped_release release;
              out = self.recommend(view, k, n_threads);
            }
            return py::make_tuple(copy_out(std::move(out.item)), copy_out(std::move(out.score)), copy_out(std::move(out.rule)));
          },
          py::arg("indptr"), py::arg("indices"), py::arg("k"), py::arg("n_threads") = 0)
      .def_property_readonly("n_items", &Recommender::n_items)
      .def_property_readonly("rules", [](const Recommender& self) { return self.rules(); })
      .def("to_bytes", &to_bytes<Recommender>, "The recommender in crmine's versioned binary format")
      .def_static("from_bytes", &from_bytes<Recommender>, py::arg("data"));

  m.def(
      "rules_sequential_patterns",
      [](py::object customer, py::object time, std::int64_t ticks_per_day, py::object item, double min_support,
         std::int64_t min_count, int max_len, std::int64_t max_gap, std::int64_t max_patterns, int n_threads) {
        const TransactionLog log = make_log(customer, time, ticks_per_day, py::none(), py::none(), py::none(), item);
        SequenceOptions o;
        o.min_support = min_support;
        o.min_count = min_count;
        o.max_len = max_len;
        o.max_gap = max_gap;
        o.max_patterns = max_patterns;
        o.n_threads = n_threads;
        SequentialPatterns p;
        std::vector<std::int64_t> item_ids;
        {
          py::gil_scoped_release release;
          SequenceDatabase db = make_sequences(log, n_threads);
          p = sequential_patterns(db, o);
          item_ids = std::move(db.item_ids);
        }
        return py::make_tuple(copy_out(std::move(p.indptr)), copy_out(std::move(p.items)), copy_out(std::move(p.count)),
                              p.n_sequences, copy_out(std::move(item_ids)));
      },
      py::arg("customer"), py::arg("time"), py::arg("ticks_per_day"), py::arg("item"), py::arg("min_support"),
      py::arg("min_count"), py::arg("max_len"), py::arg("max_gap"), py::arg("max_patterns"), py::arg("n_threads"));

  py::class_<AffinityGraph> graph(m, "AffinityGraph");
  array_property(graph, "vertex_item", &AffinityGraph::vertex_item);
  array_property(graph, "source", &AffinityGraph::source);
  array_property(graph, "target", &AffinityGraph::target);
  array_property(graph, "lift", &AffinityGraph::lift);
  array_property(graph, "support", &AffinityGraph::support);
  array_property(graph, "component", &AffinityGraph::component);
  array_property(graph, "pagerank", &AffinityGraph::pagerank);
  array_property(graph, "betweenness", &AffinityGraph::betweenness);
  graph.def_readonly("n_components", &AffinityGraph::n_components)
      .def("edge_list",
           [](const AffinityGraph& g, const std::vector<std::string>& labels) {
             std::ostringstream out;
             g.write_edge_list(out, labels);
             return out.str();
           })
      .def("graphml", [](const AffinityGraph& g, const std::vector<std::string>& labels) {
        std::ostringstream out;
        g.write_graphml(out, labels);
        return out.str();
      });

  m.def(
      "rules_affinity_graph",
      [](py::object a, py::object b, py::object lift, py::object support, double min_lift, double damping, int max_iter,
         double tol) {
        AffinityOptions o;
        o.min_lift = min_lift;
        o.damping = damping;
        o.max_iter = max_iter;
        o.tol = tol;
        const auto sa = span_of<std::int32_t>(a, "a"), sb = span_of<std::int32_t>(b, "b");
        const auto sl = span_of<double>(lift, "lift"), ss = span_of<double>(support, "support");
        py::gil_scoped_release release;
        return affinity_graph(sa, sb, sl, ss, o);
      },
      py::arg("a"), py::arg("b"), py::arg("lift"), py::arg("support"), py::arg("min_lift"), py::arg("damping"),
      py::arg("max_iter"), py::arg("tol"));
}

}  // namespace crmine::python
