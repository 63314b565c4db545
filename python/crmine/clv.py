# SPDX-License-Identifier: Apache-2.0
"""Customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD, BG/BB and Gamma-Gamma models.

Start from a transaction log::

    import crmine as cm
    data = cm.clv.summary(log, customer="customer_id", time="date", amount="amount", freq="W")
    bgf = cm.clv.BetaGeo().fit(data["frequency"], data["recency"], data["T"])
    bgf.params_                                   # {'r': ..., 'alpha': ..., 'a': ..., 'b': ...}
    bgf.conditional_probability_alive(data["frequency"], data["recency"], data["T"])

Method names follow the ``lifetimes`` package; the fits run in C++ on identical customers
collapsed with weights, with exact gradients and standard errors from the Hessian.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from . import _core
from .exceptions import NotFittedError
from .transactions import log_of

__all__ = ["summary", "BetaGeo", "ModifiedBetaGeo", "ParetoNBD", "ParetoNBDCovariates", "BetaGeoCovariates",
           "BetaGeoBetaBinom", "GammaGamma",
           "calibration_holdout_table", "expected_cumulative_transactions", "plot_calibration_holdout",
           "plot_tracking", "ConvergenceWarning"]

_NS_PER_DAY = 86_400_000_000_000
_UNIT_DAYS = {"D": 1.0, "W": 7.0}
# Model time units per month, as lifetimes' customer_lifetime_value counts them.
_PERIODS_PER_MONTH = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 30.0 * 24.0}


class ConvergenceWarning(UserWarning):
    """A maximum-likelihood fit stopped before its convergence criterion was met."""


def _n_jobs(n_jobs: int | None) -> int:
    if n_jobs is None or n_jobs == -1:
        return 0
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ValueError(f"n_jobs: must be a positive int, -1 or None, got {n_jobs!r}")
    return int(n_jobs)


def _column(values: Any, name: str) -> np.ndarray:
    """A float64 C-contiguous 1-d copy-free view where possible; NaN is left for C++ to name."""
    if values is None:
        raise TypeError(f"{name}: a column is required, got None")
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d column, got shape {arr.shape}")
    if arr.dtype.kind not in "iufb":
        raise TypeError(f"{name}: must be numeric, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _counts(n: Any) -> np.ndarray:
    """Purchase counts as int64, refusing fractions and negatives (the C++ side also checks n >= 0)."""
    arr = np.asarray(n)
    if arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
        raise ValueError(f"n: must be whole numbers of purchases, got {n!r}")
    if np.any(arr < 0):
        raise ValueError(f"n: must be >= 0, got {n!r}")
    return arr.astype(np.int64)


def _like(result: np.ndarray, like: Any) -> Any:
    """Results keep the caller's container: a Series keeps its index, a scalar stays a scalar."""
    if isinstance(like, pd.Series):
        return pd.Series(result, index=like.index, copy=False)  # result is ours: no copy needed
    if np.ndim(like) == 0:
        return float(result[0])
    return result


def _day_number(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot interpret {value!r} as a date") from exc
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return int(ts.value // _NS_PER_DAY)


def summary(data: Any, *, customer: str | None = None, time: str | None = None, amount: str | None = None,
            order: str | None = None, cost: str | None = None, quantity: str | None = None, price: str | None = None,
            time_unit: str | None = None, freq: str = "W", calibration_end: Any = None, observation_end: Any = None,
            missing_customer: str = "drop", returns: str = "net", n_jobs: int | None = None) -> pd.DataFrame:
    """The per-customer input of the CLV models, indexed by customer id.

    Columns: ``frequency`` (purchase occasions after the first: distinct days, or orders when the
    log has them), ``recency`` (last - first purchase), ``T`` (calibration end - first purchase),
    both in units of ``freq`` ('W' = weeks, 'D' = days), ``monetary_value`` (mean revenue of the
    repeat occasions, 0 without any). With ``calibration_end`` (a date, or a day number for logs
    with integer day times), purchases after it up to ``observation_end`` (default: the last
    day in the log) give ``frequency_holdout``, ``monetary_value_holdout`` and
    ``duration_holdout``. Customers whose first purchase is after calibration_end are left out.
    """
    if freq not in _UNIT_DAYS:
        raise ValueError(f"freq: must be one of {sorted(_UNIT_DAYS)}, got {freq!r}")
    if returns not in ("net", "drop", "error"):
        raise ValueError(f"returns: must be 'net', 'drop' or 'error', got {returns!r}")
    cal = _day_number(calibration_end, "calibration_end")
    obs = _day_number(observation_end, "observation_end")
    if obs is not None and cal is None:
        raise ValueError("observation_end: needs calibration_end too")
    log = log_of(
        data, customer=customer, time=time, amount=amount, order=order, cost=cost, quantity=quantity, price=price,
        time_unit=time_unit, missing_customer=missing_customer)
    core = _core.clv_summary(log.customer, log.time, log.ticks_per_day, log.amount, log.order, log.cost,
                             _UNIT_DAYS[freq], cal, obs, returns, _n_jobs(n_jobs))
    cols = core.columns()
    index = log.customer_index(cols.pop("customer"))
    cols.pop("first_day")
    frame = pd.DataFrame(cols, index=index)
    if core.has_holdout:
        frame["duration_holdout"] = core.duration_holdout
    return frame


class _Model:
    """Shared estimator plumbing: keyword-only options, fitted attributes, lifetimes-style names."""

    _core_class: Any = None
    _param_names: tuple[str, ...] = ()

    def __init__(self, *, penalizer_coef: float = 0.0, max_iter: int = 1000, tol: float = 1e-8,
                 initial_params: Any = None, n_jobs: int | None = None) -> None:
        self.penalizer_coef = penalizer_coef
        self.max_iter = max_iter
        self.tol = tol
        self.initial_params = initial_params
        self.n_jobs = n_jobs

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("penalizer_coef", "max_iter", "tol", "initial_params", "n_jobs")}

    def set_params(self, **params: Any) -> "_Model":
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"{k}: not a parameter of {type(self).__name__}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _options(self) -> Any:
        o = _core.ClvFitOptions()
        if not isinstance(self.penalizer_coef, (int, float, np.number)) or isinstance(self.penalizer_coef, bool):
            raise TypeError(f"penalizer_coef: must be a number, got {type(self.penalizer_coef).__name__}")
        o.penalizer_coef = float(self.penalizer_coef)
        o.max_iter = int(self.max_iter)
        o.tol = float(self.tol)
        if self.initial_params is not None:
            init = self.initial_params
            if isinstance(init, dict):
                missing = [n for n in self._param_names if n not in init]
                if missing:
                    raise ValueError(f"initial_params: missing {missing}")
                init = [init[n] for n in self._param_names]
            o.initial_params = [float(v) for v in init]
        o.n_jobs = _n_jobs(self.n_jobs)
        return o

    def _store(self, core: Any) -> None:
        self._restore(core)
        report = core.report
        if not self.converged_:
            warnings.warn(f"{type(self).__name__}.fit did not converge: {report.message} "
                          f"(n_iter={report.n_iter}, gradient norm={report.gradient_norm:.3g})",
                          ConvergenceWarning, stacklevel=3)

    def _fitted(self) -> Any:
        model = getattr(self, "_model", None)
        if model is None:
            raise NotFittedError(f"{type(self).__name__}: call fit (or set params_ with from_params) first")
        return model

    # Pickling and to_bytes: the compiled model travels as its versioned bytes
    # (docs/developer/model-format.md); the fitted attributes are rebuilt from it.
    def to_bytes(self) -> bytes:
        """The fitted model in crmine's versioned binary format (options, fit report, parameters)."""
        return self._fitted().to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "_Model":
        """A model from ``to_bytes`` output; ``crmine.ModelFormatError`` when the bytes are not one."""
        core = cls._core_class.from_bytes(bytes(data))
        o = core.options
        self = cls(penalizer_coef=o.penalizer_coef, max_iter=o.max_iter, tol=o.tol,
                   initial_params=list(o.initial_params) or None, n_jobs=o.n_jobs or None)
        self._restore(core)
        return self

    def _restore(self, core: Any) -> None:
        self._model = core
        names = list(getattr(self, "_names", None) or core.param_names)
        self.params_ = dict(zip(names, map(float, core.params)))
        self.standard_errors_ = dict(zip(names, map(float, core.standard_errors)))
        report = core.report
        self.fit_report_ = report
        self.log_likelihood_ = float(report.log_likelihood)
        self.converged_ = bool(report.converged)
        self.n_iter_ = int(report.n_iter)

    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k in self.get_params()}
        model = self.__dict__.get("_model")
        if model is not None:
            state["_model_bytes"] = model.to_bytes()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            self._restore(self._core_class.from_bytes(data))

    @classmethod
    def from_params(cls, params: dict[str, float], **options: Any) -> "_Model":
        """A model with the given parameters (e.g. published values), ready to predict."""
        self = cls(**options)
        core = self._core_class(self._options())
        missing = [n for n in cls._param_names if n not in params]
        if missing:
            raise ValueError(f"params: missing {missing}")
        core.set_params(np.array([float(params[n]) for n in cls._param_names]))
        self._model = core
        self.params_ = {n: float(params[n]) for n in cls._param_names}
        self.standard_errors_ = {n: float("nan") for n in cls._param_names}
        return self


class _TransactionModel(_Model):
    def fit(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> "_TransactionModel":
        """Fits by maximum likelihood. ``weights``: customers per row, for grouped data."""
        core = self._core_class(self._options())
        core.fit(_column(frequency, "frequency"), _column(recency, "recency"), _column(T, "T"),
                 None if weights is None else _column(weights, "weights"))
        self._store(core)
        return self

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(alive at the end of calibration | frequency, recency, T)."""
        out = self._fitted().conditional_probability_alive(_column(frequency, "frequency"),
                                                           _column(recency, "recency"), _column(T, "T"))
        return _like(out, frequency)

    def conditional_expected_number_of_purchases_up_to_time(self, t: float, frequency: Any, recency: Any,
                                                            T: Any) -> Any:
        """Expected purchases in the next ``t`` time units, per customer."""
        out = self._fitted().conditional_expected_number_of_purchases_up_to_time(
            float(t), _column(frequency, "frequency"), _column(recency, "recency"), _column(T, "T"))
        return _like(out, frequency)

    predict = conditional_expected_number_of_purchases_up_to_time

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        """Expected purchases in (0, t] of a newly acquired customer; t scalar or array."""
        model = self._fitted()
        ts = _column(t, "t")
        out = np.array([model.expected_number_of_purchases_up_to_time(float(v)) for v in ts])
        return _like(out, t)

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """P(X(t) = n): probability that a newly acquired customer makes exactly ``n`` repeat
        purchases in (0, t]. ``t`` and ``n`` are scalars or arrays (broadcast together)."""
        model = self._fitted()
        ts, ns = np.broadcast_arrays(np.asarray(t, dtype=np.float64), _counts(n))
        out = np.array([model.probability_of_n_purchases_up_to_time(float(a), int(b))
                        for a, b in zip(ts.ravel(), ns.ravel())]).reshape(ts.shape)
        return float(out) if out.ndim == 0 else out

    def conditional_probability_of_n_purchases_up_to_time(self, n: int, t: float, frequency: Any, recency: Any,
                                                          T: Any) -> Any:
        """P(exactly ``n`` purchases in the next ``t`` time units | frequency, recency, T), per customer."""
        out = self._fitted().conditional_probability_of_n_purchases_up_to_time(
            int(_counts(n)), float(t), _column(frequency, "frequency"), _column(recency, "recency"), _column(T, "T"))
        return _like(out, frequency)

    def log_likelihood(self, frequency: Any, recency: Any, T: Any, weights: Any = None) -> tuple[float, np.ndarray]:
        """Total log-likelihood at the current parameters and its gradient in the parameters."""
        return self._fitted().log_likelihood(_column(frequency, "frequency"), _column(recency, "recency"),
                                             _column(T, "T"), None if weights is None else _column(weights, "weights"))


class BetaGeo(_TransactionModel):
    """BG/NBD (Fader, Hardie & Lee 2005). Parameters r, alpha (purchase rate), a, b (dropout)."""

    _core_class = _core.BetaGeo
    _param_names = ("r", "alpha", "a", "b")


class ModifiedBetaGeo(_TransactionModel):
    """MBG/NBD (Batislam et al. 2007): BG/NBD where customers can also drop out at time 0."""

    _core_class = _core.ModifiedBetaGeo
    _param_names = ("r", "alpha", "a", "b")


class ParetoNBD(_TransactionModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987). Parameters r, alpha, s, beta."""

    _core_class = _core.ParetoNBD
    _param_names = ("r", "alpha", "s", "beta")


class BetaGeoBetaBinom(_TransactionModel):
    """BG/BB (Fader, Hardie & Shang 2010) for discrete purchase opportunities.

    ``frequency``, ``recency`` and ``T`` (= n, the number of opportunities) are whole numbers;
    horizons ``t`` count opportunities. Parameters alpha, beta, gamma, delta.
    """

    _core_class = _core.BetaGeoBetaBinom
    _param_names = ("alpha", "beta", "gamma", "delta")


class _CovariateModel(_Model):
    """Static covariates as CLVTools parameterises them (see the subclasses for which parameter
    each group scales). ``params_`` holds the four base parameters, then ``trans_<column>`` and
    ``life_<column>``. Predictions need the same covariate columns."""

    @staticmethod
    def _matrix(z: Any, n: int, name: str) -> tuple[np.ndarray, list[str]]:
        if z is None:
            return np.zeros((n, 0)), []
        names = [str(c) for c in z.columns] if isinstance(z, pd.DataFrame) else None
        arr = np.asarray(z, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise ValueError(f"{name}: expected a 2-d array of covariates, got shape {arr.shape}")
        return np.ascontiguousarray(arr), names or [str(k) for k in range(arr.shape[1])]

    def fit(self, frequency: Any, recency: Any, T: Any, *, z_trans: Any = None, z_life: Any = None,
            weights: Any = None) -> "_CovariateModel":
        """Fits by maximum likelihood; ``z_trans`` / ``z_life``: n x k covariates (arrays or DataFrames)."""
        x = _column(frequency, "frequency")
        zt, trans_names = self._matrix(z_trans, len(x), "z_trans")
        zl, life_names = self._matrix(z_life, len(x), "z_life")
        core = self._core_class(self._options())
        core.fit(x, _column(recency, "recency"), _column(T, "T"),
                 None if weights is None else _column(weights, "weights"), zt, zl)
        self._names = list(self._param_names) + [f"trans_{c}" for c in trans_names] + [f"life_{c}" for c in life_names]
        self._store(core)
        self.params_ = dict(zip(self._names, map(float, core.params)))
        self.standard_errors_ = dict(zip(self._names, map(float, core.standard_errors)))
        return self

    def _z(self, z_trans: Any, z_life: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        return self._matrix(z_trans, n, "z_trans")[0], self._matrix(z_life, n, "z_life")[0]

    def conditional_probability_alive(self, frequency: Any, recency: Any, T: Any, *, z_trans: Any = None,
                                      z_life: Any = None) -> Any:
        """P(alive at the end of calibration | frequency, recency, T, covariates)."""
        x = _column(frequency, "frequency")
        out = self._fitted().conditional_probability_alive(x, _column(recency, "recency"), _column(T, "T"),
                                                           *self._z(z_trans, z_life, len(x)))
        return _like(out, frequency)

    def conditional_expected_number_of_purchases_up_to_time(self, t: float, frequency: Any, recency: Any, T: Any, *,
                                                            z_trans: Any = None, z_life: Any = None) -> Any:
        """Expected purchases in the next ``t`` time units, per customer, at its covariates."""
        x = _column(frequency, "frequency")
        out = self._fitted().conditional_expected_number_of_purchases_up_to_time(
            float(t), x, _column(recency, "recency"), _column(T, "T"), *self._z(z_trans, z_life, len(x)))
        return _like(out, frequency)

    predict = conditional_expected_number_of_purchases_up_to_time

    def expected_number_of_purchases_up_to_time(self, t: float, *, z_trans: Any = None, z_life: Any = None) -> np.ndarray:
        """Expected purchases in (0, t] of a newly acquired customer with these covariates (one per row)."""
        model = self._fitted()
        n = max(len(np.asarray(z)) if z is not None else 0 for z in (z_trans, z_life))
        if n == 0:
            n = 1  # no covariates at all: the population's new customer
        return np.asarray(model.expected_number_of_purchases_up_to_time(float(t), *self._z(z_trans, z_life, n)))

    def log_likelihood(self, frequency: Any, recency: Any, T: Any, *, z_trans: Any = None, z_life: Any = None,
                       weights: Any = None) -> tuple[float, np.ndarray]:
        """Total log-likelihood at the current parameters and its gradient in the parameters."""
        x = _column(frequency, "frequency")
        return self._fitted().log_likelihood(x, _column(recency, "recency"), _column(T, "T"),
                                             None if weights is None else _column(weights, "weights"),
                                             *self._z(z_trans, z_life, len(x)))

    def _restore(self, core: Any) -> None:
        if not getattr(self, "_names", None):  # from_bytes: column names are not in the record
            self._names = (list(self._param_names) + [f"trans_{k}" for k in range(core.n_trans)]
                           + [f"life_{k}" for k in range(core.n_life)])
        super()._restore(core)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_names"] = getattr(self, "_names", None)
        return state


class ParetoNBDCovariates(_CovariateModel):
    """Pareto/NBD with static customer covariates, as CLVTools parameterises them.

    alpha_i = alpha * exp(-z_trans_i . gamma_trans) and beta_i = beta * exp(-z_life_i . gamma_life):
    a positive ``trans_`` coefficient raises the purchase rate, a positive ``life_`` coefficient
    raises the dropout rate. ``params_`` holds r, alpha, s, beta, then ``trans_<column>`` and
    ``life_<column>``. Predictions need the same covariate columns.
    """

    _core_class = _core.ParetoNBDCovariates
    _param_names = ("r", "alpha", "s", "beta")


class BetaGeoCovariates(_CovariateModel):
    """BG/NBD with static customer covariates, as CLVTools parameterises them.

    alpha_i = alpha * exp(-z_trans_i . gamma_trans) (a positive ``trans_`` coefficient raises the
    purchase rate), a_i = a * exp(z_life_i . gamma_life) and b_i = b * exp(z_life_i . gamma_life)
    (a ``life_`` coefficient keeps the mean dropout probability a / (a + b) and changes its
    spread across customers). ``params_`` holds r, alpha, a, b, then ``trans_<column>`` and
    ``life_<column>``. Without covariates it is ``BetaGeo``.
    """

    _core_class = _core.BetaGeoCovariates
    _param_names = ("r", "alpha", "a", "b")


class GammaGamma(_Model):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005). Parameters p, q, gamma.

    Fit on repeat customers only (frequency >= 1, monetary_value > 0).
    """

    _core_class = _core.GammaGamma
    _param_names = ("p", "q", "gamma")

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None) -> "GammaGamma":
        core = _core.GammaGamma(self._options())
        core.fit(_column(frequency, "frequency"), _column(monetary_value, "monetary_value"),
                 None if weights is None else _column(weights, "weights"))
        self._store(core)
        return self

    def log_likelihood(self, frequency: Any, monetary_value: Any, weights: Any = None) -> tuple[float, np.ndarray]:
        """Total log-likelihood (every term of the density) and its gradient in (p, q, gamma)."""
        return self._fitted().log_likelihood(_column(frequency, "frequency"), _column(monetary_value, "monetary_value"),
                                             None if weights is None else _column(weights, "weights"))

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Any:
        """E[spend per transaction | frequency, mean repeat spend]; the population mean for x = 0."""
        out = self._fitted().conditional_expected_average_profit(_column(frequency, "frequency"),
                                                                 _column(monetary_value, "monetary_value"))
        return _like(out, frequency)

    def customer_lifetime_value(self, transaction_prediction_model: _Model, frequency: Any, recency: Any,
                                T: Any, monetary_value: Any, time: int = 12, discount_rate: float = 0.01,
                                freq: str = "D", margin: float = 1.0, *, z_trans: Any = None,
                                z_life: Any = None) -> Any:
        """Discounted value over ``time`` months, as lifetimes computes it.

        ``freq`` is the time unit of the transaction model ('D', 'W', 'M', 'H'); a month is 30
        days, 4.345 weeks or 720 hours. Month i's expected purchases times the expected spend
        are divided by (1 + discount_rate)^i and multiplied by ``margin``. For a covariate model
        (``BetaGeoCovariates``, ``ParetoNBDCovariates``) pass the customers' ``z_trans`` / ``z_life``.
        """
        if freq not in _PERIODS_PER_MONTH:
            raise ValueError(f"freq: must be one of {sorted(_PERIODS_PER_MONTH)}, got {freq!r}")
        if not isinstance(time, (int, np.integer)) or time < 1:
            raise ValueError(f"time: must be a whole number of months >= 1, got {time!r}")
        spend = np.ascontiguousarray(np.asarray(self.conditional_expected_average_profit(frequency, monetary_value),
                                                dtype=np.float64).reshape(-1))
        model = transaction_prediction_model
        x, tx, t_cal = _column(frequency, "frequency"), _column(recency, "recency"), _column(T, "T")
        horizon = (int(time), _PERIODS_PER_MONTH[freq], float(discount_rate), float(margin))
        if isinstance(model, _CovariateModel):
            out = _core.customer_lifetime_value_covariates(model._fitted(), x, tx, t_cal,
                                                           *model._z(z_trans, z_life, len(x)), spend, *horizon)
        else:
            if z_trans is not None or z_life is not None:
                raise ValueError("z_trans: covariates need a covariate model (BetaGeoCovariates, ParetoNBDCovariates)")
            out = _core.customer_lifetime_value(model._fitted(), x, tx, t_cal, spend, *horizon)
        return _like(out, frequency)


def calibration_holdout_table(model: _TransactionModel, summary_frame: pd.DataFrame, *,
                              max_frequency: int = 7) -> pd.DataFrame:
    """Actual vs expected holdout purchases by calibration frequency (censored at max_frequency).

    ``summary_frame`` is the output of ``summary(..., calibration_end=...)``. Returns one row per
    calibration frequency (index ``frequency``; the last row holds every customer with
    frequency >= max_frequency) with ``n_customers``, ``actual`` and ``predicted`` mean holdout
    purchases, as in figure 4 of Fader, Hardie & Lee (2005).
    """
    needed = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")
    missing = [c for c in needed if c not in summary_frame.columns]
    if missing:
        raise ValueError(f"summary_frame: missing columns {missing}; pass calibration_end to summary()")
    if not isinstance(max_frequency, (int, np.integer)) or isinstance(max_frequency, bool) or max_frequency < 1:
        raise ValueError(f"max_frequency: must be an int >= 1, got {max_frequency!r}")
    if len(summary_frame) == 0:
        raise ValueError("summary_frame: is empty")
    cols = _core.calibration_holdout_table(
        model._fitted(), _column(summary_frame["frequency"], "frequency"), _column(summary_frame["recency"], "recency"),
        _column(summary_frame["T"], "T"), _column(summary_frame["frequency_holdout"], "frequency_holdout"),
        float(summary_frame["duration_holdout"].iloc[0]), int(max_frequency))
    index = pd.Index(cols.pop("frequency").astype(np.int64), name="frequency")
    frame = pd.DataFrame(cols, index=index)
    frame["n_customers"] = frame["n_customers"].astype(np.int64)
    return frame


_PERIOD_DAYS = {"D": 1, "W": 7}


def expected_cumulative_transactions(model: _TransactionModel, data: Any, *, customer: str | None = None,
                                     time: str | None = None, amount: str | None = None, order: str | None = None,
                                     time_unit: str | None = None, freq: str = "W", period: Any = "W",
                                     end: Any = None, missing_customer: str = "drop") -> pd.DataFrame:
    """Cumulative actual vs expected repeat purchases over time: the data of a tracking plot.

    ``model`` was fitted in time unit ``freq`` ('W' or 'D'). From the first day of the log, at the
    end of every ``period`` ('D', 'W' or a number of days) up to ``end`` (a date or day number;
    default the last day in the log), ``actual`` counts repeat purchase occasions so far the way
    ``summary`` counts them (a customer's distinct orders when ``order`` is given, each dated by
    its earliest row, else distinct purchase days, after the first one; rows with negative
    amounts are ignored) and ``predicted`` sums the model's expected purchases of a new customer over every customer
    acquired so far, at their age. Index: period number 1..K; column ``date`` is the period's
    last day. Same as lifetimes' ``expected_cumulative_transactions`` with daily data.
    """
    if freq not in _UNIT_DAYS:
        raise ValueError(f"freq: must be one of {sorted(_UNIT_DAYS)}, got {freq!r}")
    if isinstance(period, str):
        if period not in _PERIOD_DAYS:
            raise ValueError(f"period: must be 'D', 'W' or a whole number of days, got {period!r}")
        period_days = _PERIOD_DAYS[period]
    elif isinstance(period, (int, np.integer)) and not isinstance(period, bool) and period >= 1:
        period_days = int(period)
    else:
        raise ValueError(f"period: must be 'D', 'W' or a whole number of days >= 1, got {period!r}")
    log = log_of(
        data, customer=customer, time=time, amount=amount, order=order, time_unit=time_unit,
        missing_customer=missing_customer)
    cols = _core.expected_cumulative_transactions(model._fitted(), log.customer, log.time, log.ticks_per_day,
                                                  log.amount, log.order, _UNIT_DAYS[freq], period_days,
                                                  _day_number(end, "end"))
    last_day = cols.pop("period_end") - 1
    frame = pd.DataFrame({"date": log.day_to_timestamp(last_day), **cols},
                         index=pd.RangeIndex(1, len(last_day) + 1, name="period"))
    return frame


def plot_calibration_holdout(table: pd.DataFrame, *, title: str = "Holdout purchases: actual vs model",
                             width: float = 640, height: float = 400) -> str:
    """SVG line chart of ``calibration_holdout_table``: mean holdout purchases by calibration frequency."""
    from . import plot

    for c in ("actual", "predicted"):
        if c not in table.columns:
            raise ValueError(f"table: missing column {c!r}; pass the output of calibration_holdout_table")
    return plot.line_chart(np.asarray(table.index, dtype=np.float64),
                           {"Actual": table["actual"].to_numpy(), "Model": table["predicted"].to_numpy()},
                           title=title, x_label="Purchases in the calibration period (last = that many or more)",
                           y_label="Mean purchases in the holdout period", width=width, height=height)


def plot_tracking(table: pd.DataFrame, *, calibration_end: Any = None,
                  title: str = "Cumulative repeat purchases: actual vs model", width: float = 640,
                  height: float = 400) -> str:
    """SVG line chart of ``expected_cumulative_transactions``: cumulative repeat purchases by period.

    With ``calibration_end`` (a date), the title says which periods were used for fitting.
    """
    from . import plot

    for c in ("actual", "predicted"):
        if c not in table.columns:
            raise ValueError(f"table: missing column {c!r}; pass the output of expected_cumulative_transactions")
    if calibration_end is not None:
        title = f"{title} (calibration to {pd.Timestamp(calibration_end).date()})"
    return plot.line_chart(np.asarray(table.index, dtype=np.float64),
                           {"Actual": table["actual"].to_numpy(), "Model": table["predicted"].to_numpy()},
                           title=title, x_label="Period", y_label="Cumulative repeat purchases",
                           width=width, height=height)
