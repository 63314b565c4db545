# SPDX-License-Identifier: Apache-2.0
"""Look-alike prospecting: score prospects by their similarity to the best customers."""

from __future__ import annotations

__all__: list[str] = []
