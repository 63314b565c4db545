# SPDX-License-Identifier: Apache-2.0
"""Deviations from a customer's own history and peers, churn early warning, explanations."""

from __future__ import annotations

__all__: list[str] = []
