# SPDX-License-Identifier: Apache-2.0
"""Campaign scoring: score a customer table, rank it, pick whom to contact.

Example::

    import crmine.campaign as cc
    chosen = cc.select(customers, model=churn_model, id="customer_id", n=500)
    chosen = cc.select(customers, model=model, id="customer_id", value_per_response=120.0,
                       cost_per_contact=4.0, budget=2000.0)   # the profitable N within budget
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import _core

__all__ = ["score", "select", "profit_curve"]


def score(table: pd.DataFrame, model: Any, *, id: str | None = None, features: list[str] | None = None) -> pd.DataFrame:
    """``table``'s ids (or index) with the model's P(y = positive class), ranked best first."""
    X = table[features] if features is not None else (table.drop(columns=[id]) if id is not None else table)
    if hasattr(model, "feature_names_in_") and features is None:
        X = table[list(model.feature_names_in_)]
    p = np.ascontiguousarray(model.predict_proba(X)[:, 1], dtype=np.float64)
    order = np.asarray(_core.rank_by_score(p))
    ids = table[id].to_numpy() if id is not None else table.index.to_numpy()
    return pd.DataFrame({id or "index": ids[order], "score": p[order], "rank": np.arange(1, len(p) + 1)})


def profit_curve(proba: Any, *, value_per_response: float, cost_per_contact: float) -> pd.DataFrame:
    """Expected profit of contacting the k best-scored customers, k = 0..n, with
    ``attrs["best_n"]`` and ``attrs["best_profit"]``. ``proba`` should be calibrated."""
    p = np.ascontiguousarray(proba, dtype=np.float64)
    c = _core.profit_curve(p, float(value_per_response), float(cost_per_contact))
    out = pd.DataFrame({"contacts": np.arange(len(c.profit)), "expected_profit": c.profit})
    out.attrs.update(best_n=int(c.best_n), best_profit=float(c.best_profit))
    return out


def select(table: pd.DataFrame, *, model: Any = None, score_column: str | None = None, id: str | None = None,
           n: int | None = None, budget: float | None = None, cost_per_contact: float | None = None,
           value_per_response: float | None = None, features: list[str] | None = None) -> pd.DataFrame:
    """The customers to contact, best first, with ``score``, ``rank`` and (when values are given)
    ``expected_profit`` (cumulative).

    Scores come from ``model.predict_proba`` or from ``score_column``. How many: ``n``; or as
    many as ``budget / cost_per_contact`` allows; or, given ``value_per_response`` and
    ``cost_per_contact``, the N with the largest expected profit. With several limits the
    smallest N wins.
    """
    if (model is None) == (score_column is None):
        raise ValueError("select: give exactly one of model or score_column")
    if model is not None:
        ranked = score(table, model, id=id, features=features)
    else:
        p = np.ascontiguousarray(table[score_column], dtype=np.float64)
        order = np.asarray(_core.rank_by_score(p))
        ids = table[id].to_numpy() if id is not None else table.index.to_numpy()
        ranked = pd.DataFrame({id or "index": ids[order], "score": p[order], "rank": np.arange(1, len(p) + 1)})
    limit = len(ranked)
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"select: n must be an int >= 0, got {n!r}")
        limit = min(limit, int(n))
    if budget is not None:
        if cost_per_contact is None or not cost_per_contact > 0:
            raise ValueError("select: budget needs cost_per_contact > 0")
        if not budget >= 0:
            raise ValueError(f"select: budget must be >= 0, got {budget!r}")
        limit = min(limit, int(np.floor(budget / cost_per_contact + 1e-9)))
    if value_per_response is not None:
        if cost_per_contact is None:
            raise ValueError("select: value_per_response needs cost_per_contact")
        curve = profit_curve(ranked["score"].to_numpy(), value_per_response=value_per_response,
                             cost_per_contact=cost_per_contact)
        ranked["expected_profit"] = curve["expected_profit"].to_numpy()[1:]
        if n is None and budget is None:
            limit = min(limit, curve.attrs["best_n"])
        else:
            limit = min(limit, int(np.argmax(curve["expected_profit"].to_numpy()[: limit + 1])))
    return ranked.head(limit).reset_index(drop=True)
