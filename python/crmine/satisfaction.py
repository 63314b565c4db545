# SPDX-License-Identifier: Apache-2.0
"""Satisfaction: CSAT, NPS with confidence intervals, key-driver analysis."""

from __future__ import annotations

__all__: list[str] = []
