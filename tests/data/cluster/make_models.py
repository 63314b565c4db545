# SPDX-License-Identifier: Apache-2.0
"""Writes the golden cluster model files next to this script: small fitted KMeans, KPrototypes,
KModes and GaussianMixture models in crmine's versioned binary format, and golden.json with the
rows they were asked to predict and the labels they gave.

tests/python/test_cluster_golden.py loads the committed files with today's code and checks the
labels, so a change that stops old files from loading (or changes what they predict) fails.
Run this again only on purpose, when the format version is raised on purpose:

    PYTHONPATH=<installed crmine> python tests/data/cluster/make_models.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from crmine import _core

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(2026)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 1.0], [0.0, 6.0, -1.0]])
    X = np.ascontiguousarray(centres[np.arange(60) % 3] + rng.standard_normal((60, 3)))
    cats = np.ascontiguousarray(np.stack([np.arange(60) % 3, (np.arange(60) // 3) % 4], axis=1).astype(np.int32))
    Xq = np.ascontiguousarray(centres[np.arange(12) % 3] + 0.8 * rng.standard_normal((12, 3)))
    cats_q = np.ascontiguousarray(np.stack([np.arange(12) % 3, np.arange(12) % 4], axis=1).astype(np.int32))

    o = _core.KMeansOptions()
    o.n_clusters, o.n_init, o.seed = 3, 2, 7
    kmeans = _core.KMeans(o)
    kmeans.fit(X, np.empty(0))

    po = _core.KPrototypesOptions()
    po.n_clusters, po.n_init, po.seed = 3, 2, 7
    kproto = _core.KPrototypes(po)
    kproto.fit(X, cats, np.empty(0))
    kmodes = _core.KModes(po)
    kmodes.fit(cats, np.empty(0))

    go = _core.GaussianMixtureOptions()
    go.n_components, go.seed = 3, 7
    gmm = _core.GaussianMixture(go)
    gmm.fit(X, np.empty(0))

    models = {"kmeans": kmeans, "kprototypes": kproto, "kmodes": kmodes, "gaussian_mixture": gmm}
    for name, model in models.items():
        (HERE / f"{name}.crm").write_bytes(model.to_bytes())
    golden = {
        "X": Xq.tolist(),
        "X_cat": cats_q.tolist(),
        "labels": {
            "kmeans": kmeans.predict(Xq).tolist(),
            "kprototypes": kproto.predict(Xq, cats_q).tolist(),
            "kmodes": kmodes.predict(cats_q).tolist(),
            "gaussian_mixture": gmm.predict(Xq).tolist(),
        },
        "gaussian_mixture_score": gmm.score(Xq),
    }
    (HERE / "golden.json").write_text(json.dumps(golden) + "\n")


if __name__ == "__main__":
    main()
