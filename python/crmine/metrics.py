# SPDX-License-Identifier: Apache-2.0
"""Evaluation of response and churn scores: ranking, probability and marketing metrics.

``y`` is binary: 0/1, booleans, or any two labels with ``pos_label`` naming the responders.
Scores are any monotone score (probabilities for ``log_loss``, ``brier_score`` and
``calibration_table``).

Example::

    import crmine.metrics as cmm
    cmm.roc_auc_score(y_test, p)             # area under the ROC curve
    cmm.lift_table(y_test, p)                # by decile: response rate, lift, cumulative gains
    cmm.top_decile_lift(y_test, p)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _core

__all__ = ["roc_auc_score", "average_precision_score", "pr_auc_score", "log_loss", "brier_score",
           "confusion_matrix", "lift_table", "top_decile_lift", "calibration_table", "gains_curve"]


def _y(y: Any, pos_label: Any, caller: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{caller}: y must be 1-d, got shape {arr.shape}")
    if pos_label is not None:
        return np.ascontiguousarray(arr == pos_label, dtype=np.int32)
    if arr.dtype == bool:
        return arr.astype(np.int32)
    values = set(np.unique(arr).tolist())
    if not values <= {0, 1}:
        raise ValueError(f"{caller}: y must be 0/1 or boolean, got labels {sorted(values, key=str)[:5]}; "
                         "pass pos_label to name the responders")
    return np.ascontiguousarray(arr, dtype=np.int32)


def _s(score: Any, n: int, caller: str, name: str = "score") -> np.ndarray:
    s = np.ascontiguousarray(score, dtype=np.float64)
    if s.ndim == 2 and s.shape[1] == 2:
        s = np.ascontiguousarray(s[:, 1])
    if s.ndim != 1 or len(s) != n:
        raise ValueError(f"{caller}: {name} has shape {s.shape}, expected ({n},)")
    return s


def _w(sample_weight: Any, n: int) -> np.ndarray:
    return np.empty(0) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)


def roc_auc_score(y: Any, score: Any, *, sample_weight: Any = None, pos_label: Any = None) -> float:
    """Area under the ROC curve; tied scores count one half."""
    yy = _y(y, pos_label, "roc_auc_score")
    return float(_core.roc_auc(yy, _s(score, len(yy), "roc_auc_score"), _w(sample_weight, len(yy))))


def average_precision_score(y: Any, score: Any, *, sample_weight: Any = None, pos_label: Any = None) -> float:
    """Area under the precision-recall curve as average precision (step interpolation)."""
    yy = _y(y, pos_label, "average_precision_score")
    return float(_core.pr_auc(yy, _s(score, len(yy), "average_precision_score"), _w(sample_weight, len(yy))))


pr_auc_score = average_precision_score


def log_loss(y: Any, proba: Any, *, sample_weight: Any = None, pos_label: Any = None) -> float:
    """Mean negative log-likelihood of P(y=1) (clipped to machine epsilon)."""
    yy = _y(y, pos_label, "log_loss")
    return float(_core.log_loss(yy, _s(proba, len(yy), "log_loss", "proba"), _w(sample_weight, len(yy))))


def brier_score(y: Any, proba: Any, *, sample_weight: Any = None, pos_label: Any = None) -> float:
    """Mean squared error of P(y=1)."""
    yy = _y(y, pos_label, "brier_score")
    return float(_core.brier_score(yy, _s(proba, len(yy), "brier_score", "proba"), _w(sample_weight, len(yy))))


def confusion_matrix(y: Any, score: Any, threshold: float = 0.5, *, sample_weight: Any = None,
                     pos_label: Any = None) -> pd.DataFrame:
    """2 x 2 counts at ``threshold`` (predicted 1 when score >= threshold): rows actual, columns predicted."""
    yy = _y(y, pos_label, "confusion_matrix")
    m = _core.confusion_matrix(yy, _s(score, len(yy), "confusion_matrix"), float(threshold), _w(sample_weight, len(yy)))
    return pd.DataFrame([[m.tn, m.fp], [m.fn, m.tp]], index=pd.Index([0, 1], name="actual"),
                        columns=pd.Index([0, 1], name="predicted"))


def lift_table(y: Any, score: Any, n_bins: int = 10, *, pos_label: Any = None) -> pd.DataFrame:
    """Rows ranked by score (best first) in ``n_bins`` equal groups (deciles by default).

    Columns: ``n``, ``responders``, ``min_score``, ``max_score``, ``response_rate``, ``lift``
    (rate / overall rate), ``cumulative_response_rate``, ``cumulative_lift`` and
    ``cumulative_gain`` (share of all responders reached by contacting bins 1..k).
    """
    yy = _y(y, pos_label, "lift_table")
    t = _core.lift_table(yy, _s(score, len(yy), "lift_table"), int(n_bins))
    table = pd.DataFrame({
        "n": t.n, "responders": t.responders, "min_score": t.min_score, "max_score": t.max_score,
        "response_rate": t.response_rate, "lift": t.lift, "cumulative_response_rate": t.cumulative_response_rate,
        "cumulative_lift": t.cumulative_lift, "cumulative_gain": t.cumulative_gain,
    }, index=pd.RangeIndex(1, int(n_bins) + 1, name="bin"))
    table.attrs["overall_rate"] = t.overall_rate
    return table


def top_decile_lift(y: Any, score: Any, *, pos_label: Any = None) -> float:
    """Response rate of the best-scored 10% divided by the overall rate."""
    return float(lift_table(y, score, 10, pos_label=pos_label)["lift"].iloc[0])


def gains_curve(y: Any, score: Any, n_points: int = 100, *, pos_label: Any = None) -> pd.DataFrame:
    """Cumulative gains: share of responders reached against share of customers contacted."""
    t = lift_table(y, score, n_points, pos_label=pos_label)
    contacted = t["n"].cumsum() / t["n"].sum()
    return pd.DataFrame({"contacted": np.r_[0.0, contacted], "responders_reached": np.r_[0.0, t["cumulative_gain"]]})


def calibration_table(y: Any, proba: Any, n_bins: int = 10, *, pos_label: Any = None) -> pd.DataFrame:
    """Mean predicted probability against the observed rate in equal-width bins of [0, 1]."""
    yy = _y(y, pos_label, "calibration_table")
    t = _core.calibration_table(yy, _s(proba, len(yy), "calibration_table", "proba"), int(n_bins))
    return pd.DataFrame({"lower": t.lower, "upper": t.upper, "n": t.n, "mean_predicted": t.mean_predicted,
                         "observed_rate": t.observed_rate})
