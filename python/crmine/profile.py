# SPDX-License-Identifier: Apache-2.0
"""The 7P customer profile: one row per customer gathering every fitted model's view."""

from __future__ import annotations

__all__: list[str] = []
