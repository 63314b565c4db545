# SPDX-License-Identifier: Apache-2.0
"""Writes a golden IsolationForest model file next to this script, named after the schema the
installed build writes (isolation_forest_schema<N>.crm), and records in golden.json the rows it was
asked to score with the scores and mean path lengths it gave. Files of older schemas are kept, so
golden.json collects one entry per schema.

tests/python/test_deviation_golden.py loads every committed file with today's code and checks the
recorded scores, so a change that stops old files from loading (or changes what they score) fails.
Run this again only on purpose, when the IsolationForest schema is raised on purpose:

    PYTHONPATH=<installed crmine> python tests/data/deviation/make_models.py
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from crmine import _core

HERE = Path(__file__).resolve().parent


def query_rows(rng: np.random.Generator) -> np.ndarray:
    """Rows around the data plus values that test the comparisons: signed zeros, values far below
    float32 resolution, magnitudes beyond float32's range."""
    Xq = rng.standard_normal((40, 4))
    Xq[0] = [0.0, -0.0, 1e-300, -1e-300]
    Xq[1] = [1e39, -1e39, 1e300, -1e300]
    Xq[2] = [1e-45, -1e-45, 3e-39, -3e-39]
    return np.ascontiguousarray(Xq)


def main() -> None:
    rng = np.random.default_rng(2026)
    X = rng.standard_normal((300, 4))
    X[:, 1] *= 1e-3
    X[:5] += 6.0
    X = np.ascontiguousarray(X)
    Xq = query_rows(rng)

    o = _core.IsolationForestOptions()
    o.n_estimators, o.max_samples, o.seed, o.contamination = 25, 64, 7, 0.05
    model = _core.IsolationForest(o)
    model.fit(X)
    data = model.to_bytes()
    schema = struct.unpack_from("<I", data, 16)[0]
    name = f"isolation_forest_schema{schema}"
    (HERE / f"{name}.crm").write_bytes(data)

    path = HERE / "golden.json"
    golden = json.loads(path.read_text()) if path.exists() else {"X": Xq.tolist(), "models": {}}
    Xg = np.ascontiguousarray(golden["X"], dtype=np.float64)
    golden["models"][name] = {"score_samples": model.score_samples(Xg).tolist(),
                              "mean_path_length": model.mean_path_length(Xg).tolist(),
                              "offset": model.offset}
    path.write_text(json.dumps(golden) + "\n")


if __name__ == "__main__":
    main()
