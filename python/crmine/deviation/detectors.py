# SPDX-License-Identifier: Apache-2.0
"""Outlier detectors over a customer feature table, scikit-learn compatible."""

from __future__ import annotations

__all__: list[str] = []
