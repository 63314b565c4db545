# SPDX-License-Identifier: Apache-2.0
"""Golden model files: IsolationForest models saved by earlier builds (tests/data/deviation, written
by make_models.py there; schema 1 with double thresholds, schema 2 with float32 ones) must still load
with today's code and score the recorded rows as they did then."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

import crmine.deviation as cd
from crmine import _core

DATA = Path(__file__).resolve().parents[1] / "data" / "deviation"
GOLDEN = json.loads((DATA / "golden.json").read_text())
X = np.ascontiguousarray(GOLDEN["X"], dtype=np.float64)
NAMES = sorted(GOLDEN["models"])


def test_every_schema_has_a_golden_file():
    assert NAMES == ["isolation_forest_schema1", "isolation_forest_schema2"]
    for name in NAMES:
        data = (DATA / f"{name}.crm").read_bytes()
        assert struct.unpack_from("<I", data, 16)[0] == int(name[-1])


@pytest.mark.parametrize("name", NAMES)
def test_saved_isolation_forest_still_loads_and_gives_the_recorded_scores(name):
    model = _core.IsolationForest.from_bytes((DATA / f"{name}.crm").read_bytes())
    recorded = GOLDEN["models"][name]
    # The path sums are exact (same trees, same compares, same order); the score goes through exp2.
    assert model.mean_path_length(X).tolist() == recorded["mean_path_length"]
    np.testing.assert_allclose(model.score_samples(X), recorded["score_samples"], rtol=1e-13, atol=0)
    assert model.offset == recorded["offset"]


@pytest.mark.parametrize("name", NAMES)
def test_a_golden_file_saved_again_keeps_its_schema(name):
    data = (DATA / f"{name}.crm").read_bytes()
    again = _core.IsolationForest.from_bytes(data).to_bytes()
    # Schema 1 thresholds are doubles that four bytes cannot hold; both re-save byte for byte.
    assert again == data


def test_a_golden_file_loaded_as_another_detector_is_rejected():
    with pytest.raises(ValueError):
        _core.HBOS.from_bytes((DATA / "isolation_forest_schema1.crm").read_bytes())


def test_a_refitted_forest_splits_at_float32_thresholds():
    rng = np.random.default_rng(3)
    model = cd.IsolationForest(n_estimators=5, random_state=0).fit(rng.standard_normal((200, 3)))
    data = model.to_bytes()
    assert struct.unpack_from("<I", data, 16)[0] == 2
