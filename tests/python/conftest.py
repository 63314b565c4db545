# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: the real data sets in ../shared/data and a small hand-made log."""

import lzma
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_path(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists() and not path.with_suffix(path.suffix + ".xz").exists():
        pytest.skip(f"shared data set {relative} is not available beside the checkout")
    return path


@pytest.fixture(scope="session")
def cdnow_master() -> pd.DataFrame:
    """CDNOW's full transaction log (23,570 customers, 69,659 rows), dates parsed."""
    path = shared_path("cdnow/CDNOW_master.txt")
    opener = lzma.open(path.with_suffix(".txt.xz"), "rt") if not path.exists() else open(path)
    with opener as f:
        frame = pd.read_csv(f, sep=r"\s+", dtype={"customer_id": str, "date": str})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    frame = frame.rename(columns={"dollar_value": "amount", "number_of_cds": "quantity"})
    return frame


@pytest.fixture()
def small_log() -> pd.DataFrame:
    """Three customers: 'b' buys on two days (twice on the first) and returns once; 'a' buys
    once; 'c' only returns."""
    return pd.DataFrame({
        "customer_id": ["b", "a", "b", "b", "b", "c"],
        "date": pd.to_datetime(["2024-01-10", "2024-01-11", "2024-01-10", "2024-01-12", "2024-01-13", "2024-01-12"]),
        "amount": [5.0, 20.0, 7.0, 10.0, -4.0, -1.0],
        "order_id": [100, 101, 100, 102, 103, 104],
        "cost": [2.0, 8.0, 3.0, 4.0, -1.5, -0.5],
    })


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(20241122)
