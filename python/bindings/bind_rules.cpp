// SPDX-License-Identifier: Apache-2.0
// Bindings of the cross-sell area: baskets, frequent itemsets, rules, recommendations,
// sequential patterns and the affinity graph. Thin: the DataFrame shaping lives in rules.py.
#include "common.hpp"

#include <crmine/rules.hpp>

#include <pybind11/stl.h>

#include <algorithm>
#include <bit>
#include <cstring>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <new>
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

/// Hands memory that mining freed back to the system when it was large. glibc keeps freed
/// blocks of its heap mapped, and the Python objects built next from the result come from other
/// mappings (pymalloc arenas), so the mining's scratch would otherwise stay resident while they are
/// built: on Groceries at min support 0.0002 the peak of a repeated call was 272 MiB, 245 MiB
/// with this (0.5-5 ms). Small results skip it.
void release_freed_memory(std::int64_t peak_bytes) {
#ifdef __GLIBC__
  if (peak_bytes >= (std::int64_t{16} << 20)) malloc_trim(0);
#else
  (void)peak_bytes;
#endif
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

// CPython's set lookup (Objects/setobject.c, unchanged from 3.7 to 3.13): a probe starts at
// hash & mask, scans up to kLinearProbes following slots when they lie inside the table, then
// jumps by i = i * 5 + 1 + (perturb >>= kPerturbShift). Lookups stop at the first empty slot, so
// an entry placed at the first empty slot of that sequence is found by every lookup.
constexpr std::size_t kLinearProbes = 9;
constexpr int kPerturbShift = 5;

/// Places (key, hash) at the first empty slot of its probe sequence in `table` (CPython's
/// set_insert_clean). Returns false, placing nothing, when a slot on the way holds an entry of
/// the same hash (possibly an equal key, which only CPython's comparison may decide).
bool insert_clean(setentry* table, std::size_t mask, PyObject* key, Py_hash_t hash) {
  std::size_t perturb = static_cast<std::size_t>(hash);
  std::size_t i = static_cast<std::size_t>(hash) & mask;
  while (true) {
    setentry* entry = &table[i];
    if (entry->key == nullptr) {
      entry->key = key;
      entry->hash = hash;
      return true;
    }
    if (entry->hash == hash) return false;
    if (i + kLinearProbes <= mask) {
      for (std::size_t j = 0; j < kLinearProbes; ++j) {
        ++entry;
        if (entry->key == nullptr) {
          entry->key = key;
          entry->hash = hash;
          return true;
        }
        if (entry->hash == hash) return false;
      }
    }
    perturb >>= kPerturbShift;
    i = (i * 5 + 1 + perturb) & mask;
  }
}

/// A frozenset of keys[0..n) (distinct hashable objects, hashes given) with the smallest table
/// that holds them with one slot left empty: 8 slots (the object's own small table) up to 7 items,
/// 16 up to 15, and so on. CPython keeps a set's table at most 60 % full so that adding stays
/// cheap (8 slots hold 4 items, 16 hold 9), and building a frozenset item by item or as a copy
/// leaves it at 32 slots for 5 items, or 16: 728 or 472 bytes where 216 do. A frozenset is never
/// added to; lookups in a fuller table take a few more probes and stop at the empty slot. Copies
/// (set(fs)) and everything else go through CPython's own code. nullptr when two keys share a
/// hash (the caller then builds the set through the C API, which compares them).
PyObject* dense_frozenset(PyObject* const* keys, const Py_hash_t* hashes, std::size_t n) {
  PyObject* set = PyFrozenSet_New(nullptr);
  if (set == nullptr) throw py::error_already_set();
  auto* so = reinterpret_cast<PySetObject*>(set);
  std::size_t slots = PySet_MINSIZE;
  while (slots <= n) slots <<= 1;
  setentry* table = so->smalltable;
  if (slots > PySet_MINSIZE) {
    table = PyMem_New(setentry, slots);
    if (table == nullptr) {
      Py_DECREF(set);
      throw std::bad_alloc();
    }
    std::memset(static_cast<void*>(table), 0, slots * sizeof(setentry));
  }
  for (std::size_t k = 0; k < n; ++k) {
    if (!insert_clean(table, slots - 1, keys[k], hashes[k])) {
      if (table != so->smalltable) PyMem_Free(table);
      else std::memset(static_cast<void*>(table), 0, slots * sizeof(setentry));
      Py_DECREF(set);
      return nullptr;
    }
  }
  for (std::size_t k = 0; k < n; ++k) Py_INCREF(keys[k]);
  so->table = table;
  so->mask = static_cast<Py_ssize_t>(slots - 1);
  so->fill = so->used = static_cast<Py_ssize_t>(n);
  return set;
}

/// Whether dense_frozenset's sets behave exactly as CPython's own in this interpreter: checked
/// once per process on sets of colliding ints (every probe step taken) and of strings, against
/// sets built through the C API (membership of members and non-members, equality, hash, copies
/// and iteration). If the interpreter's set layout or probing ever differs, frozensets are built
/// through the C API instead. Needs the GIL (which also guards the cache).
bool dense_frozensets_work() {
#if PY_VERSION_HEX < 0x03070000 || PY_VERSION_HEX >= 0x030E0000 || defined(Py_GIL_DISABLED) || defined(Py_LIMITED_API)
  return false;  // set layout or locking not checked for this interpreter
#endif
  static int known = -1;
  if (known >= 0) return known == 1;
  known = 0;
  try {
    const py::module_ builtins = py::module_::import("builtins");
    for (int trial = 0; trial < 64; ++trial) {
      const std::size_t n = 1 + static_cast<std::size_t>(trial % 40);
      std::vector<py::object> owned;
      std::vector<PyObject*> keys;
      std::vector<Py_hash_t> hashes;
      for (std::size_t k = 0; k < n; ++k) {
        // Multiples of 8 collide in the small table; the others are strings.
        owned.push_back(trial % 2 == 0 ? py::object(py::int_(static_cast<long>(k * 8 * (trial + 1))))
                                       : py::object(py::str(detail::concat("item ", trial, "/", k))));
        keys.push_back(owned.back().ptr());
        hashes.push_back(PyObject_Hash(keys.back()));
        if (hashes.back() == -1) throw py::error_already_set();
      }
      PyObject* raw = dense_frozenset(keys.data(), hashes.data(), n);
      if (raw == nullptr) return false;
      const py::object dense = py::reinterpret_steal<py::object>(raw);
      const py::object reference = builtins.attr("frozenset")(py::list(py::cast(owned)));
      if (!dense.equal(reference) || py::hash(dense) != py::hash(reference) || py::len(dense) != n) return false;
      for (const auto& o : owned)
        if (PySet_Contains(dense.ptr(), o.ptr()) != 1) return false;
      for (long miss = 1; miss < 64; ++miss)
        if (PySet_Contains(dense.ptr(), py::int_(miss * 8 * (trial + 1) + 1).ptr()) != 0) return false;
      const py::object copy = builtins.attr("set")(dense);
      copy.attr("add")(py::str("one more"));
      if (py::len(copy) != n + 1 || !builtins.attr("frozenset")(copy).attr("issuperset")(reference).cast<bool>()) return false;
    }
  } catch (const py::error_already_set&) {
    PyErr_Clear();
    return false;
  }
  known = 1;
  return true;
}

/// A numpy object array whose element s is the frozenset (or with `tuples` the tuple, in item
/// order) of labels[items[indptr[s]:indptr[s+1]]] (codes themselves as ints when labels is
/// None). Each label object is shared, not copied. Frozensets get the smallest table that holds
/// them (dense_frozenset) where this interpreter allows it, else the smaller of CPython's two
/// layouts (copy_is_smaller). Containers holding only untracked objects (str, int, ...) cannot
/// be part of a reference cycle, so they are untracked as CPython untracks such tuples: later
/// collections skip them.
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
  const bool dense = !tuples && dense_frozensets_work();
  std::vector<Py_hash_t> hash;  // of the labels used, computed once (a str caches its own)
  if (dense) {
    hash.assign(label.size(), -1);
    for (const std::int32_t v : items) {
      auto& h = hash[static_cast<std::size_t>(v)];
      if (h == -1 && (h = PyObject_Hash(label[static_cast<std::size_t>(v)])) == -1) throw py::error_already_set();
    }
  }
  const py::object scratch = py::reinterpret_steal<py::object>(PySet_New(nullptr));
  if (!scratch) throw py::error_already_set();
  std::vector<PyObject*> keys;
  std::vector<Py_hash_t> key_hash;

  const auto n_sets = static_cast<py::ssize_t>(indptr.size() - 1);
  // numpy.empty fills object arrays with None and makes them writeable.
  py::array out = py::module_::import("numpy").attr("empty")(n_sets, "object");
  auto** slots = static_cast<PyObject**>(out.mutable_data());
  const GcPause pause;
  for (py::ssize_t s = 0; s < n_sets; ++s) {
    const std::int64_t b = indptr[static_cast<std::size_t>(s)], e = indptr[static_cast<std::size_t>(s) + 1];
    const auto len = static_cast<std::size_t>(e - b);
    bool untrack = true;
    for (std::int64_t k = b; k < e; ++k) untrack = untrack && atomic[static_cast<std::size_t>(items[static_cast<std::size_t>(k)])];
    PyObject* set = nullptr;
    if (tuples) {
      set = PyTuple_New(static_cast<Py_ssize_t>(len));
      if (set == nullptr) throw py::error_already_set();
      for (std::int64_t k = b; k < e; ++k) {
        PyObject* v = label[static_cast<std::size_t>(items[static_cast<std::size_t>(k)])];
        Py_INCREF(v);
        PyTuple_SET_ITEM(set, static_cast<Py_ssize_t>(k - b), v);
      }
    }
    if (dense) {
      keys.clear();
      key_hash.clear();
      for (std::int64_t k = b; k < e; ++k) {
        const auto c = static_cast<std::size_t>(items[static_cast<std::size_t>(k)]);
        keys.push_back(label[c]);
        key_hash.push_back(hash[c]);
      }
      set = dense_frozenset(keys.data(), key_hash.data(), len);
    }
    if (set == nullptr) {
      const bool via_copy = copy_is_smaller(len);
      // Filled in place: PySet_Add may fill a frozenset no other code has seen.
      PyObject* target = via_copy ? scratch.ptr() : PyFrozenSet_New(nullptr);
      if (target == nullptr) throw py::error_already_set();
      for (std::int64_t k = b; k < e; ++k) {
        if (PySet_Add(target, label[static_cast<std::size_t>(items[static_cast<std::size_t>(k)])]) != 0) {
          if (!via_copy) Py_DECREF(target);
          throw py::error_already_set();
        }
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

/// Whether a str's characters are in place (always from CPython 3.12 on).
inline bool unicode_ready(PyObject* s) {
#if PY_VERSION_HEX < 0x030C0000
  return PyUnicode_IS_READY(s);
#else
  (void)s;
  return true;
#endif
}

/// Labels of a list of baskets coded in order of first appearance, with Python's equality (5 and
/// 5.0 share a code, as they would as dict keys). Exact str labels, the common case, are looked up
/// by their characters in a table of their own: a list of lists read from a file holds a new str
/// object per item, and CPython's dict would compute each one's SipHash and compare it with the
/// stored key through the generic path (about 30 ns an item under load, more than mining
/// Groceries at min support 0.01); a multiply-rotate hash over the characters and a memcmp take a
/// third of that. Every other label, and every str not in that table yet, goes through a dict
/// holding all labels, so mixed label types keep Python's semantics.
class LabelCoder {
 public:
  /// The code of `item` (item `j` of basket `b`, for messages), assigning the next one when new.
  std::int32_t code(PyObject* item, Py_ssize_t b, Py_ssize_t j) {
    if (PyUnicode_CheckExact(item) && unicode_ready(item)) {
      const int kind = PyUnicode_KIND(item);
      const Py_ssize_t n = PyUnicode_GET_LENGTH(item);
      const auto* data = static_cast<const unsigned char*>(PyUnicode_DATA(item));
      const std::size_t bytes = static_cast<std::size_t>(n) * static_cast<std::size_t>(kind);
      const std::uint64_t h = hash_chars(data, bytes) ^ static_cast<std::uint64_t>(kind);
      std::size_t slot = h & mask_;
      for (; slots_[slot] >= 0; slot = (slot + 1) & mask_) {
        const Entry& e = entries_[static_cast<std::size_t>(slots_[slot])];
        if (e.hash == h && e.kind == kind && e.bytes == bytes && same_bytes(e.data, data, bytes)) return e.code;
      }
      const std::int32_t c = dict_code(item, b, j);
      // The table keeps a pointer to the characters: the label list holds a str equal to this
      // one, but perhaps not this object, so a reference to it is kept.
      strings_.push_back(py::reinterpret_borrow<py::object>(item));
      entries_.push_back({h, data, bytes, kind, c});
      slots_[slot] = static_cast<std::int64_t>(entries_.size() - 1);
      if (entries_.size() * 2 > mask_) grow();
      return c;
    }
    // Small non-negative ints (FIMI files, product numbers) are looked up in an array.
    if (PyLong_CheckExact(item)) {
      int overflow = 0;
      const long v = PyLong_AsLongAndOverflow(item, &overflow);
      if (overflow == 0 && v >= 0 && v < kSmallLabels) {
        const auto u = static_cast<std::size_t>(v);
        if (u < small_code_.size() && small_code_[u] >= 0) return small_code_[u];
        const std::int32_t c = dict_code(item, b, j);
        if (small_code_.size() <= u) small_code_.resize(u + 1, -1);
        small_code_[u] = c;
        return c;
      }
    }
    return dict_code(item, b, j);
  }

  py::list& labels() { return labels_; }

 private:
  struct Entry {
    std::uint64_t hash;
    const unsigned char* data;
    std::size_t bytes;
    int kind;
    std::int32_t code;
  };
  static constexpr long kSmallLabels = 1L << 24;

  static std::uint64_t hash_chars(const unsigned char* p, std::size_t n) {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    std::size_t k = 0;
    for (; k + 8 <= n; k += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + k, 8);
      h = (std::rotl(h, 23) ^ w) * 0xBF58476D1CE4E5B9ull;
    }
    const std::size_t r = n - k;  // 0-7 bytes left: overlapping fixed-size loads, no memcpy call
    if (r >= 4) {
      std::uint32_t lo, hi;
      std::memcpy(&lo, p + k, 4);
      std::memcpy(&hi, p + n - 4, 4);
      h = (std::rotl(h, 23) ^ (lo | (static_cast<std::uint64_t>(hi) << 32))) * 0xBF58476D1CE4E5B9ull;
    } else if (r > 0) {
      const std::uint64_t w = p[k] | (static_cast<std::uint64_t>(p[k + r / 2]) << 8) | (static_cast<std::uint64_t>(p[n - 1]) << 16);
      h = (std::rotl(h, 23) ^ w) * 0xBF58476D1CE4E5B9ull;
    }
    return h ^ (h >> 29);
  }

  /// memcmp(a, b, n) == 0 for the short strings of labels, inline: fixed-size loads that may
  /// overlap, never past n bytes (the call to memcmp was a tenth of coding Groceries' labels).
  static bool same_bytes(const unsigned char* a, const unsigned char* b, std::size_t n) {
    auto load8 = [](const unsigned char* p) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      return w;
    };
    auto load4 = [](const unsigned char* p) {
      std::uint32_t w;
      std::memcpy(&w, p, 4);
      return w;
    };
    if (n >= 8) {
      std::size_t k = 0;
      for (; k + 8 < n; k += 8)
        if (load8(a + k) != load8(b + k)) return false;
      return load8(a + n - 8) == load8(b + n - 8);
    }
    if (n >= 4) return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    for (std::size_t k = 0; k < n; ++k)
      if (a[k] != b[k]) return false;
    return true;
  }

  void grow() {
    mask_ = mask_ * 2 + 1;
    slots_.assign(mask_ + 1, -1);
    for (std::size_t e = 0; e < entries_.size(); ++e) {
      std::size_t slot = entries_[e].hash & mask_;
      while (slots_[slot] >= 0) slot = (slot + 1) & mask_;
      slots_[slot] = static_cast<std::int64_t>(e);
    }
  }

  std::int32_t dict_code(PyObject* item, Py_ssize_t b, Py_ssize_t j) {
    if (item == Py_None || (PyFloat_Check(item) && PyFloat_AS_DOUBLE(item) != PyFloat_AS_DOUBLE(item)))
      throw InvalidArgument(detail::concat("baskets: basket ", b, " has a missing item (None/NaN)"));
    if (PyObject_Hash(item) == -1) {
      PyErr_Clear();
      throw InvalidType(detail::concat("baskets: item ", j, " of basket ", b, " is not hashable (",
                                       Py_TYPE(item)->tp_name, "); items must be labels such as str or int"));
    }
    PyObject* found = PyDict_GetItemWithError(index_.ptr(), item);
    if (found != nullptr) return static_cast<std::int32_t>(PyLong_AsLong(found));
    if (PyErr_Occurred()) throw py::error_already_set();
    const auto c = static_cast<std::int32_t>(PyList_GET_SIZE(labels_.ptr()));
    const py::object value = py::int_(c);
    if (PyDict_SetItem(index_.ptr(), item, value.ptr()) != 0) throw py::error_already_set();
    labels_.append(py::reinterpret_borrow<py::object>(item));
    return c;
  }

  py::dict index_;
  py::list labels_;
  std::vector<py::object> strings_;
  std::vector<Entry> entries_;
  std::size_t mask_ = 255;
  std::vector<std::int64_t> slots_ = std::vector<std::int64_t>(256, -1);
  std::vector<std::int32_t> small_code_;  // int label -> code, -1 when not seen yet
};

py::tuple encode_baskets(py::handle data) {
  const py::object outer = py::reinterpret_steal<py::object>(PySequence_Fast(data.ptr(), "baskets: expected an iterable of baskets"));
  if (!outer) throw py::error_already_set();
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(outer.ptr());
  std::vector<std::int64_t> indptr;
  indptr.reserve(static_cast<std::size_t>(n) + 1);
  indptr.push_back(0);
  std::vector<std::int32_t> codes;
  codes.reserve(static_cast<std::size_t>(n) * 4);
  LabelCoder coder;
  for (Py_ssize_t b = 0; b < n; ++b) {
    PyObject* basket = PySequence_Fast_GET_ITEM(outer.ptr(), b);
    if (PyUnicode_Check(basket) || PyBytes_Check(basket))
      throw InvalidType(detail::concat("baskets: basket ", b, " is a string; each basket must be an iterable of items"));
    py::object inner;
    if (!PyList_CheckExact(basket) && !PyTuple_CheckExact(basket)) {
      inner = py::reinterpret_steal<py::object>(PySequence_Fast(basket, "not iterable"));
      if (!inner) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError)) throw py::error_already_set();
        PyErr_Clear();
        throw InvalidType(detail::concat("baskets: basket ", b, " is a ", Py_TYPE(basket)->tp_name,
                                         "; each basket must be an iterable of items"));
      }
      basket = inner.ptr();
    }
    const Py_ssize_t m_items = PySequence_Fast_GET_SIZE(basket);
    PyObject** at = PySequence_Fast_ITEMS(basket);
    for (Py_ssize_t j = 0; j < m_items; ++j) codes.push_back(coder.code(at[j], b, j));
    indptr.push_back(static_cast<std::int64_t>(codes.size()));
  }
  return py::make_tuple(copy_out(std::move(indptr)), copy_out(std::move(codes)), coder.labels());
}

}  // namespace

void bind_rules(py::module_& m) {
  m.def("rules_itemset_column", &itemset_column, py::arg("indptr"), py::arg("items"), py::arg("labels"),
        py::arg("tuples") = false);

  // Codes for a list of baskets of hashable labels, in order of first appearance. In C because
  // for lists of lists this conversion otherwise costs more than the mining.
  m.def("rules_encode_baskets", &encode_baskets, py::arg("baskets"));

  // (indptr, indices) of a 2-d bool table (a one-hot frame's values), read in place whatever its
  // memory order.
  m.def(
      "rules_baskets_from_indicators",
      [](const py::array& table) {
        if (table.ndim() != 2) throw py::value_error(detail::concat("table: must be 2-d (baskets x items), got ", table.ndim(), "-d"));
        if (table.dtype().kind() != 'b') throw py::type_error("table: must hold bools (a one-hot table)");
        const IndicatorView view{static_cast<const std::uint8_t*>(table.data()), table.shape(0), table.shape(1),
                                 table.strides(0), table.strides(1)};
        Baskets b;
        {
          py::gil_scoped_release release;
          b = baskets_from_indicators(view);
        }
        return py::make_tuple(copy_out(std::move(b.indptr)), copy_out(std::move(b.indices)));
      },
      py::arg("table"));

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
          release_freed_memory(s.peak_memory);
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
