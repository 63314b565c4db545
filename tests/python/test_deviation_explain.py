# SPDX-License-Identifier: Apache-2.0
"""explain: the compiled contributions and rankings equal the former vectorised numpy computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmine as cm
from crmine import _core


def numpy_explanation(x, ref, contribution, rank_by, top):
    """explain's former numpy ranking, written out again: (row, rank, feature, value, reference,
    contribution, direction) of the top features of every row, skipping non-finite strengths."""
    n, d = x.shape
    ref = np.broadcast_to(ref, (n, d))
    k = min(top, d)
    key = np.where(np.isnan(rank_by), -np.inf, rank_by)
    order = np.argsort(-key, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(n), k)
    cols = order.ravel()
    keep = np.isfinite(key[rows, cols])
    rows, cols = rows[keep], cols[keep]
    rank = np.tile(np.arange(1, k + 1), n)[keep]
    v, r = x[rows, cols], ref[rows, cols]
    direction = np.where(v > r, 1, np.where(v < r, -1, 0))
    return rows, rank, cols, v, r, contribution[rows, cols], direction


def numpy_detector_contributions(score_samples, x, ref):
    """The former one-call computation: every row and its n x d variants scored together."""
    n, d = x.shape
    variants = np.repeat(x[:, None, :], d, axis=1)
    idx = np.arange(d)
    variants[:, idx, idx] = np.broadcast_to(ref, (n, d))
    scores = score_samples(np.concatenate([x, variants.reshape(n * d, d)]))
    return scores[n:].reshape(n, d) - scores[:n, None]


@pytest.fixture
def table(rng):
    x = rng.normal(0, 1, (300, 6))
    x[:, 3] = np.round(x[:, 3])          # ties in strength
    x[5, 1] = 9.0
    return x


@pytest.mark.parametrize("per_row", [False, True], ids=["shared reference", "per-row reference"])
def test_robust_contributions_and_ranking_equal_the_numpy_computation(rng, table, per_row):
    ref = rng.normal(0, 0.2, (len(table) if per_row else 1, table.shape[1]))
    scale = np.abs(rng.normal(1, 0.3, ref.shape))
    scale[:, 2] = 0.0                     # a constant feature: NaN contributions, never ranked
    scale[0, 4] = np.nan
    z = _core.robust_contributions(table, ref, scale)
    expected = (table - ref) / np.where(scale > 0, scale, np.nan)
    np.testing.assert_allclose(z, expected, rtol=1e-12, atol=0, equal_nan=True)
    for top in (1, 3, 10):
        e = _core.top_contributions(table, ref, z, np.abs(z), top)
        got = (e["row"], e["rank"], e["feature"], e["value"], e["reference"], e["contribution"], e["direction"])
        for a, b in zip(got, numpy_explanation(table, ref, z, np.abs(z), top)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@pytest.mark.parametrize("make", [
    lambda: cm.deviation.IsolationForest(random_state=0),
    lambda: cm.deviation.HBOS(),
    lambda: cm.deviation.Mahalanobis(random_state=0),
    lambda: cm.deviation.LocalOutlierFactor(novelty=True),
], ids=["IsolationForest", "HBOS", "Mahalanobis", "LocalOutlierFactor"])
def test_detector_contributions_equal_the_numpy_computation(table, make):
    det = make().fit(table)
    ref = np.median(table, axis=0)[None, :]
    got = _core.detector_contributions(det._model, table, ref)
    np.testing.assert_allclose(got, numpy_detector_contributions(det.score_samples, table, ref), rtol=1e-12,
                               atol=1e-12)


def test_explain_of_a_foreign_detector_goes_through_its_score_samples(rng, table):
    sk = pytest.importorskip("sklearn.ensemble")
    X = pd.DataFrame(table, columns=[f"f{j}" for j in range(table.shape[1])])
    det = sk.IsolationForest(random_state=0).fit(X)
    why = cm.deviation.explain(X.iloc[:20], detector=det, train=X, top=2)
    x = X.iloc[:20].to_numpy()
    ref = X.median().to_numpy()[None, :]
    c = numpy_detector_contributions(lambda a: det.score_samples(pd.DataFrame(a, columns=X.columns)), x, ref)
    rows, rank, cols, *_ = numpy_explanation(x, ref, c, c, 2)
    assert list(why["row"]) == list(rows) and list(why["rank"]) == list(rank)
    assert list(why["feature"]) == [X.columns[j] for j in cols]
    np.testing.assert_allclose(why["contribution"], c[rows, cols], rtol=1e-12, atol=1e-12)


def test_explain_frame_matches_the_numpy_ranking_with_reasons(table):
    X = pd.DataFrame(table, columns=list("abcdef"), index=pd.Index(np.arange(len(table)) * 7, name="customer_id"))
    why = cm.deviation.explain(X, top=2)
    med = X.median().to_numpy()[None, :]
    mad = 1.482602218505602 * np.median(np.abs(table - med), axis=0)
    z = (table - med) / np.where(mad > 0, mad, np.nan)
    rows, rank, cols, v, r, c, direction = numpy_explanation(table, med, z, np.abs(z), 2)
    assert list(why.columns) == ["customer_id", "rank", "feature", "value", "reference", "contribution", "direction",
                                 "reason"]
    assert why["rank"].dtype == np.int64 and list(why["customer_id"]) == list(X.index[rows])
    np.testing.assert_allclose(why["contribution"], c, rtol=1e-12)
    assert list(why["direction"]) == [{1: "above", -1: "below", 0: "at"}[s] for s in direction]
    assert why.loc[0, "reason"].startswith(f"{X.columns[cols[0]]} ")


def test_compiled_explanations_reject_bad_input(table):
    ref = np.zeros((1, table.shape[1]))
    with pytest.raises(ValueError, match="top"):
        _core.top_contributions(table, ref, table, table, 0)
    with pytest.raises(ValueError, match="reference"):
        _core.robust_contributions(table, np.zeros((2, table.shape[1])), ref)
    with pytest.raises(ValueError, match="contribution"):
        _core.top_contributions(table, ref, table[:, :2], table, 1)
    det = cm.deviation.RobustZ().fit(table)
    bad = table[:3].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN at row 1, column 2"):
        _core.detector_contributions(det._model, bad, ref)
    with pytest.raises(ValueError, match="features"):
        _core.detector_contributions(det._model, table[:, :2], ref[:, :2])
    with pytest.raises(TypeError, match="detector"):
        _core.detector_contributions(3, table, ref)
