# SPDX-License-Identifier: Apache-2.0
"""Uplift modelling: incremental response from randomised campaigns, Qini and uplift curves."""

from __future__ import annotations

__all__: list[str] = []
