# SPDX-License-Identifier: Apache-2.0
"""The estimator protocol shared by crmine's model areas, without requiring scikit-learn.

``Estimator`` gives ``get_params``/``set_params``/``__repr__`` from the keyword arguments of
``__init__`` (which only stores them), pickling through the compiled model's versioned bytes,
and scikit-learn tags when scikit-learn is installed. ``check_array`` and friends validate input
the way scikit-learn users expect (``ValueError`` for NaN, empty or 1-d input).
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from typing import Any

import numpy as np

from .exceptions import NotFittedError

__all__ = ["Estimator", "ConvergenceWarning", "check_array", "check_sample_weight", "seed_from", "check_is_fitted"]

try:  # scikit-learn's class when present, so ``warnings.filterwarnings`` on it catches ours.
    from sklearn.exceptions import ConvergenceWarning
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    class ConvergenceWarning(UserWarning):
        """An iterative fit stopped at max_iter before reaching its tolerance."""


try:  # Also scikit-learn's NotFittedError when present, so sklearn's checks and users catch it.
    from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

    class EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
        """crmine's NotFittedError that is also scikit-learn's."""
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    EstimatorNotFittedError = NotFittedError  # type: ignore[misc]


class Estimator:
    """Base of crmine's Python estimators: parameters are the keyword arguments of ``__init__``."""

    #: scikit-learn's estimator type ("clusterer", "classifier", ...); set by subclasses.
    _estimator_type: str | None = None
    #: The attribute holding the compiled model; pickled as its bytes.
    _model_attr = "_model"

    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = [p.name for p in sig.parameters.values()
                 if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (and with ``deep`` those of nested estimators, as ``a__b``)."""
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
            out[name] = value
        return out

    def set_params(self, **params: Any) -> Estimator:
        """Sets constructor arguments; unknown names raise ``ValueError``. Returns ``self``."""
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(f"{type(self).__name__}.set_params: invalid parameter {name!r}; "
                                 f"valid parameters are {valid}")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        changed = []
        for name in self._get_param_names():
            default = sig.parameters[name].default
            value = getattr(self, name, default)
            try:
                same = value is default or bool(value == default)
            except Exception:  # arrays and other ambiguous comparisons
                same = False
            if not same:
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    # Pickling: the compiled model travels as its versioned bytes (docs/developer/model-format.md).
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        model = state.pop(self._model_attr, None)
        if model is not None:
            state["_model_bytes"] = model.to_bytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            setattr(self, self._model_attr, self._model_class().from_bytes(data))

    @classmethod
    def _model_class(cls) -> Any:  # pragma: no cover - overridden by every subclass with a model
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        tags = Tags(estimator_type=self._estimator_type, target_tags=TargetTags(required=False),
                    input_tags=InputTags(two_d_array=True))
        if hasattr(self, "transform"):
            tags.transformer_tags = TransformerTags(preserves_dtype=["float64"])
        return tags


def check_is_fitted(estimator: Estimator, attribute: str) -> None:
    """Raises NotFittedError unless ``attribute`` (set by ``fit``) exists."""
    if not hasattr(estimator, attribute):
        raise EstimatorNotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. "
                             "Call 'fit' with appropriate arguments before using this estimator.")


def _is_sparse(X: Any) -> bool:
    return hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse")


def check_array(X: Any, *, caller: str, name: str = "X", ensure_finite: bool = True,
                min_samples: int = 1) -> np.ndarray:
    """``X`` as a 2-d C-contiguous float64 array (no copy when it already is one)."""
    if _is_sparse(X):
        raise TypeError(f"{caller}: {name} is a sparse matrix; sparse input is not supported, pass a dense array")
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # DataFrame: numeric columns only
        X = X.to_numpy(dtype=np.float64) if all(np.issubdtype(t, np.number) or t == bool for t in X.dtypes) else X.to_numpy()
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError(f"{caller}: {name}: Complex data not supported")
    if arr.dtype.kind in "OUS":
        arr = arr.astype(np.float64)  # numpy's TypeError/ValueError say which value is not a number
    if arr.ndim != 2:
        raise ValueError(f"{caller}: Expected 2D array, got {arr.ndim}D array instead. Reshape your data with "
                         "X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single sample.")
    if arr.shape[0] < min_samples:
        raise ValueError(f"{caller}: {name}: Found array with {arr.shape[0]} sample(s) (shape={arr.shape}) while a "
                         f"minimum of {min_samples} is required.")
    if arr.shape[1] < 1:
        raise ValueError(f"{caller}: {name}: Found array with 0 feature(s) (shape={arr.shape}) while a minimum "
                         "of 1 is required.")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if ensure_finite and not np.isfinite(arr).all():
        raise ValueError(f"{caller}: Input {name} contains NaN or infinity")
    return arr


def check_sample_weight(sample_weight: Any, n: int, *, caller: str) -> np.ndarray:
    """Sample weights as a float64 vector of length ``n``; ``None`` gives an empty vector (all ones)."""
    if sample_weight is None:
        return np.empty(0, dtype=np.float64)
    if isinstance(sample_weight, numbers.Number):
        return np.full(n, float(sample_weight))
    w = np.ascontiguousarray(sample_weight, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"{caller}: sample_weight has shape {w.shape}, expected ({n},)")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{caller}: sample_weight must be finite and >= 0")
    if not w.sum() > 0:
        raise ValueError(f"{caller}: sample_weight: all weights are zero; at least one must be positive")
    return w


def seed_from(random_state: Any) -> int:
    """A 64-bit seed: ints as given, ``None`` drawn from numpy's global state, Generators and
    RandomStates drawn from."""
    if random_state is None:
        return int(np.random.randint(0, 2**31 - 1))
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be None, an int, a numpy Generator or RandomState, got {random_state!r}")


def feature_names_of(X: Any) -> np.ndarray | None:
    """Column names of a DataFrame whose column names are all strings, else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray(list(columns), dtype=object)
    if len(names) and all(isinstance(c, str) for c in names):
        return names
    return None


def check_feature_names(estimator: Estimator, X: Any, *, reset: bool) -> None:
    """Records (``reset``) or checks the DataFrame column names like scikit-learn does."""
    names = feature_names_of(X)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    cls = type(estimator).__name__
    if fitted is None and names is not None:
        warnings.warn(f"X has feature names, but {cls} was fitted without feature names", UserWarning, stacklevel=3)
    elif fitted is not None and names is None:
        warnings.warn(f"X does not have valid feature names, but {cls} was fitted with feature names", UserWarning,
                      stacklevel=3)
    elif fitted is not None and names is not None and (len(fitted) != len(names) or (fitted != names).any()):
        raise ValueError(f"{cls}: The feature names should match those that were passed during fit; "
                         f"fitted with {list(fitted)}, got {list(names)}")


def check_n_features(estimator: Estimator, X: np.ndarray) -> None:
    """Raises ValueError when X's width differs from the fitted ``n_features_in_``."""
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input.")
