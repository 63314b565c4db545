# SPDX-License-Identifier: Apache-2.0
"""Dependency-free SVG charts (line, bar, heatmap, RFM segment map, scatter) for crmine reports."""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "bar_chart",
    "heatmap",
    "line_chart",
    "nice_ticks",
    "scatter",
    "segment_map",
    "tick_labels",
]

_SVG_NS = "http://www.w3.org/2000/svg"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_TEXT = "#1f2933"
_MUTED = "#52606d"
_GRID = "#e4e7eb"
_AXIS = "#9aa5b1"
_DIAGONAL = "#7b8794"
_PAD = 16.0
_TICK_SIZE = 11.0

# Okabe-Ito colours (minus yellow, which vanishes on white): distinguishable
# under the common forms of colour blindness.
_SERIES_COLORS = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#332288",
    "#999933",
)

# Light categorical fills that keep dark labels readable (ColorBrewer Set3).
_PASTELS = (
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
    "#ffffb3",
)

# Sequential ColorBrewer schemes (light to dark). The lightest stop is a
# visible tint rather than white so that the smallest value cannot be
# mistaken for a blank (NaN) cell.
_CMAPS: dict[str, tuple[str, ...]] = {
    "blues": ("#eaf2fb", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"),
    "greens": ("#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"),
    "oranges": ("#feeddc", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603", "#7f2704"),
    "purples": ("#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d"),
    "reds": ("#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"),
    "greys": ("#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525"),
}

# Conventional RFM segment names get colours that carry meaning (green =
# valuable, amber = slipping, red = at risk, grey = gone), so that maps from
# different runs and reports read the same way.
_SEGMENT_COLORS: dict[str, str] = {
    "champions": "#1b7837",
    "loyal": "#5aae61",
    "loyal customers": "#5aae61",
    "potential loyalist": "#a6dba0",
    "potential loyalists": "#a6dba0",
    "new": "#92c5de",
    "new customers": "#92c5de",
    "recent customers": "#92c5de",
    "promising": "#d1e5f0",
    "need attention": "#fee090",
    "needs attention": "#fee090",
    "about to sleep": "#fdb863",
    "at risk": "#f46d43",
    "can't lose them": "#b2182b",
    "cannot lose them": "#b2182b",
    "can't lose": "#b2182b",
    "hibernating": "#bababa",
    "lost": "#878787",
}

_HEX_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


# --------------------------------------------------------------------------
# Small SVG and text helpers
# --------------------------------------------------------------------------


def _n(value: float) -> str:
    """Format a coordinate compactly (two decimals are sub-pixel precise)."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _el(tag: str, content: str | None = None, /, **attrs: Any) -> str:
    """Build one SVG element; ``class_`` and ``font_size`` style keywords map to SVG names."""
    parts = [tag]
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, (float, np.floating)):
            value = _n(value)
        parts.append(f'{name}="{_esc(value)}"')
    opening = "<" + " ".join(parts)
    if content is None:
        return opening + "/>"
    return f"{opening}>{content}</{tag}>"


def _text(x: float, y: float, text: str, **attrs: Any) -> str:
    attrs.setdefault("fill", _TEXT)
    return _el("text", _esc(text), x=float(x), y=float(y), **attrs)


def _tooltip(text: str) -> str:
    return f"<title>{_esc(text)}</title>"


_NARROW = frozenset("iljtfrI1.,:;'!|()[]{} ")
_WIDE = frozenset("mwMW@%")


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimate rendered text width in pixels.

    The per-character widths are those of wide sans-serif fallbacks (DejaVu
    Sans, common on Linux), so the estimate errs towards too wide: labels then
    fit with any of the fonts in the font stack.
    """
    units = 0.0
    for ch in text:
        if ch in _NARROW:
            units += 0.34
        elif ch in _WIDE:
            units += 0.95
        elif ch.isupper():
            units += 0.72
        elif ch.isdigit():
            units += 0.64
        else:
            units += 0.6
    return units * size * (1.1 if bold else 1.0)


def _truncate(text: str, size: float, max_width: float, *, bold: bool = False, force: bool = False) -> str:
    """Shorten ``text`` with an ellipsis so that it fits ``max_width``."""
    if not force and _text_width(text, size, bold) <= max_width:
        return text
    base = text.rstrip(" .…")
    while base and _text_width(base + "…", size, bold) > max_width:
        base = base[:-1].rstrip()
    return base + "…" if base else ""


def _wrap(text: str, size: float, max_width: float, max_lines: int, *, bold: bool = False) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines, ellipsising the overflow."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if not current or _text_width(candidate, size, bold) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], _truncate(rest, size, max_width, bold=bold, force=True)]
    return [line for line in (_truncate(item, size, max_width, bold=bold) for item in lines) if line]


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    if len(color) == 3:
        color = "".join(ch * 2 for ch in color)
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _text_color_on(fill: str) -> str:
    """Pick dark or white text for legibility on ``fill`` (dark for non-hex colours)."""
    if not _HEX_RE.match(fill):
        return _TEXT
    r, g, b = (c / 255.0 for c in _hex_to_rgb(fill))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    # 0.22 is roughly where white and near-black text have equal contrast.
    return _TEXT if luminance > 0.22 else "#ffffff"


def _interpolate(colors: Sequence[str], t: float) -> str:
    t = min(1.0, max(0.0, t))
    pos = t * (len(colors) - 1)
    i = min(int(pos), len(colors) - 2)
    frac = pos - i
    a, b = _hex_to_rgb(colors[i]), _hex_to_rgb(colors[i + 1])
    rgb = (round(a[k] + (b[k] - a[k]) * frac) for k in range(3))
    return "#" + "".join(f"{c:02x}" for c in rgb)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _as_float_array(values: Any, name: str, *, min_len: int = 1, allow_nan: bool = False) -> np.ndarray:
    """Convert ``values`` to a 1-D float array, raising ValueError that names the argument."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of numbers, not a string")
    if isinstance(values, (pd.Series, pd.Index)):
        try:
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must contain only numbers") from exc
    else:
        if not hasattr(values, "__len__"):
            values = list(values)
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must contain only numbers") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.size < min_len:
        raise ValueError(f"{name} needs at least {min_len} values, got {arr.size}")
    if not allow_nan:
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or infinity), which cannot be drawn"
            )
    return arr


def _as_labels(values: Any, name: str) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of labels, not a single string")
    try:
        items = list(values)
    except TypeError as exc:
        raise ValueError(f"{name} must be a sequence of labels") from exc
    if not items:
        raise ValueError(f"{name} is empty")
    return [_label_text(v) for v in items]


def _label_text(value: Any) -> str:
    """Render an axis or category label: dates without a midnight time, whole floats as ints."""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_size(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number of pixels, got {value!r}")
    if not (math.isfinite(value) and 120 <= value <= 20000):
        raise ValueError(f"{name} must be between 120 and 20000 pixels, got {value!r}")
    return float(value)


def _check_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValueError("title must be a non-empty string (it is the chart's accessible name)")
    return title.strip()


def _apply_format(fmt: str, value: float) -> str:
    try:
        return fmt.format(value)
    except ValueError:
        # Integer-only specs such as "{:,d}" are natural for counts.
        if float(value).is_integer():
            return fmt.format(int(value))
        raise


def _check_format(fmt: Any, name: str) -> str:
    if not isinstance(fmt, str):
        raise TypeError(f"{name} must be a str.format pattern such as '{{:,.0f}}', got {fmt!r}")
    try:
        _apply_format(fmt, 1234.0)
        _apply_format(fmt, 0.5)
    except (ValueError, IndexError, KeyError) as exc:
        raise ValueError(f"{name} {fmt!r} cannot format a number: {exc}") from exc
    return fmt


def _is_percent_format(fmt: str) -> bool:
    return _apply_format(fmt, 0.5).strip().endswith("%")


# --------------------------------------------------------------------------
# Ticks
# --------------------------------------------------------------------------


def _snap(ratio: float) -> float:
    """Round away float noise such as 0.3 / 0.1 = 2.9999999999999996 before floor/ceil."""
    nearest = round(ratio)
    # A division is off by at most an ulp or so, hence a tolerance relative to
    # the ratio: a genuinely tiny ratio (-5e-10) must not snap to 0.
    return float(nearest) if abs(ratio - nearest) <= 1e-13 * abs(ratio) else ratio


def nice_ticks(lo: float, hi: float, max_ticks: int = 6) -> list[float]:
    """Return evenly spaced "nice" tick values covering ``[lo, hi]``.

    The step is 1, 2 or 5 times a power of ten and the first and last tick
    enclose the range, so they can double as the axis limits.

    Parameters
    ----------
    lo, hi : float
        Data range; swapped if reversed, widened if equal.
    max_ticks : int, default 6
        Upper bound on the number of ticks returned; at least 3, since a
        range straddling zero needs a tick below, at and above it.

    Returns
    -------
    list of float
        Tick values, ascending, at least two of them.

    Raises
    ------
    ValueError
        If ``lo`` or ``hi`` is not finite or ``max_ticks`` is below 3.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"lo and hi must be finite, got {lo!r} and {hi!r}")
    if max_ticks < 3:
        raise ValueError(f"max_ticks must be at least 3, got {max_ticks!r}")
    lo, hi = (float(lo), float(hi)) if lo <= hi else (float(hi), float(lo))
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    exponent = math.floor(math.log10((hi - lo) / (max_ticks - 1)))
    # Rounding the ends outwards can add a tick, so try ever larger steps
    # until the count fits. Once the step exceeds max(|lo|, |hi|) the ticks
    # are a subset of -1, 0, 1 steps, so with max_ticks >= 3 the loop ends.
    while True:
        for mantissa in (1, 2, 5):
            step = mantissa * 10.0**exponent
            first = math.floor(_snap(lo / step))
            last = math.ceil(_snap(hi / step))
            if last - first + 1 <= max_ticks:
                # Building each tick from its decimal form avoids 0.30000000000000004.
                return [float(f"{k * mantissa}e{exponent}") for k in range(first, last + 1)]
        exponent += 1


def tick_labels(ticks: Sequence[float], *, percent: bool = False) -> list[str]:
    """Format tick values readably with as few decimals as the step needs.

    Parameters
    ----------
    ticks : sequence of float
        Evenly spaced ticks, e.g. from :func:`nice_ticks`.
    percent : bool, default False
        Treat values as fractions and show them as percentages (0.25 -> "25%").

    Returns
    -------
    list of str
        Labels with thousands separators; values of a million or more are
        abbreviated ("2.5M", "1B") to keep the axis narrow.
    """
    values = [float(t) for t in ticks]
    if not values:
        return []
    step = abs(values[1] - values[0]) if len(values) > 1 else (abs(values[0]) or 1.0)
    suffix, scale = "", 1.0
    if percent:
        suffix, scale = "%", 100.0
    else:
        biggest = max(abs(v) for v in values)
        if biggest >= 1e9:
            suffix, scale = "B", 1e-9
        elif biggest >= 1e6:
            suffix, scale = "M", 1e-6
    scaled_step = step * scale
    decimals = max(0, -math.floor(math.log10(scaled_step) + 1e-9)) if scaled_step > 0 else 0
    labels = []
    for v in values:
        if v == 0:
            # A bare zero reads better than "0.0M"; percentages keep their sign.
            labels.append("0%" if percent else "0")
            continue
        text = f"{v * scale:,.{decimals}f}"
        if text.startswith("-") and not text.strip("-0.,"):
            text = text[1:]
        labels.append(text + suffix)
    return labels


# --------------------------------------------------------------------------
# Shared layout pieces
# --------------------------------------------------------------------------


def _svg(width: float, height: float, title: str, body: Iterable[str]) -> str:
    head = (
        f'<svg xmlns="{_SVG_NS}" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
        f'height="{_n(height)}" role="img" font-family="{_esc(_FONT)}" font-size="12" class="crmine-chart">'
    )
    background = _el("rect", x=0, y=0, width=_n(width), height=_n(height), fill="#ffffff", class_="background")
    return head + _tooltip(title) + background + "".join(body) + "</svg>"


def _header(title: str, subtitle: str | None, width: float) -> tuple[list[str], float]:
    """Draw the visible title (and optional subtitle); return parts and the y below them."""
    parts: list[str] = []
    y = _PAD
    for line in _wrap(title, 15, width - 2 * _PAD, 2, bold=True):
        y += 18
        parts.append(_text(_PAD, y, line, font_size=15, font_weight=600, class_="chart-title"))
    if subtitle:
        y += 17
        line = _truncate(subtitle, 12, width - 2 * _PAD)
        parts.append(_text(_PAD, y, line, font_size=12, fill=_MUTED, class_="chart-subtitle"))
    return parts, y + 10


def _legend(entries: Sequence[tuple[str, str, str]], x: float, y: float, max_width: float) -> tuple[str, float]:
    """Lay out legend entries left to right, wrapping rows; return markup and height.

    Each entry is ``(label, colour, kind)`` with kind ``line``, ``dash``, ``rect`` or ``circle``.
    """
    row_h, swatch, size = 18.0, 16.0, 12.0
    cx, cy = x, y
    items = []
    for label, color, kind in entries:
        label = _truncate(label, size, max_width - swatch - 8)
        entry_w = swatch + 6 + _text_width(label, size) + 18
        if cx > x and cx + entry_w > x + max_width:
            cx, cy = x, cy + row_h
        mid = cy + row_h / 2
        if kind in ("line", "dash"):
            mark = _el(
                "line",
                x1=cx,
                y1=mid,
                x2=cx + swatch,
                y2=mid,
                stroke=color,
                stroke_width=2.5,
                stroke_dasharray="4 3" if kind == "dash" else None,
            )
        elif kind == "circle":
            mark = _el("circle", cx=cx + swatch / 2, cy=mid, r=4.5, fill=color)
        else:
            mark = _el("rect", x=cx + 2, y=mid - 6, width=12, height=12, rx=2, fill=color)
        items.append(mark + _text(cx + swatch + 6, mid, label, dy="0.35em", font_size=size))
        cx += entry_w
    return _el("g", "".join(items), class_="legend"), cy + row_h - y


@dataclass(frozen=True)
class _Frame:
    """Plot rectangle in pixels plus the data domain it shows."""

    left: float
    top: float
    right: float
    bottom: float
    x0: float
    x1: float
    y0: float
    y1: float

    def sx(self, v: Any) -> Any:
        return self.left + (np.asarray(v, dtype=float) - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def sy(self, v: Any) -> Any:
        return self.bottom - (np.asarray(v, dtype=float) - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)


def _axis_label_parts(
    x_label: str | None, y_label: str | None, left: float, right: float, top: float, bottom: float, height: float
) -> list[str]:
    parts = []
    if x_label:
        parts.append(
            _text(
                (left + right) / 2,
                height - _PAD + 2,
                _truncate(x_label, 12, right - left),
                text_anchor="middle",
                font_size=12,
                fill=_MUTED,
                class_="axis-label",
            )
        )
    if y_label:
        cx, cy = _PAD + 8, (top + bottom) / 2
        parts.append(
            _text(
                cx,
                cy,
                _truncate(y_label, 12, bottom - top),
                text_anchor="middle",
                dy="0.35em",
                font_size=12,
                fill=_MUTED,
                transform=f"rotate(-90 {_n(cx)} {_n(cy)})",
                class_="axis-label",
            )
        )
    return parts


def _cartesian(
    *,
    top: float,
    width: float,
    height: float,
    x_ticks: list[float],
    y_ticks: list[float],
    x_percent: bool,
    y_percent: bool,
    x_label: str | None,
    y_label: str | None,
) -> tuple[list[str], _Frame]:
    """Draw grid, axes, ticks and axis labels for an x/y chart."""
    x_texts = tick_labels(x_ticks, percent=x_percent)
    y_texts = tick_labels(y_ticks, percent=y_percent)
    y_tick_w = max(_text_width(t, _TICK_SIZE) for t in y_texts)
    left = _PAD + (22 if y_label else 0) + y_tick_w + 8
    right = width - max(_PAD, _text_width(x_texts[-1], _TICK_SIZE) / 2 + 4)
    bottom = height - _PAD - (22 if x_label else 0) - 18
    if bottom - top < 40 or right - left < 60:
        raise ValueError(f"width {width:g} x height {height:g} leaves no room for the plot area")
    frame = _Frame(left, top, right, bottom, x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1])
    grid, ticks = [], []
    for t, label in zip(y_ticks, y_texts):
        py = float(frame.sy(t))
        grid.append(_el("line", x1=left, y1=py, x2=right, y2=py))
        ticks.append(_text(left - 6, py, label, text_anchor="end", dy="0.35em", font_size=_TICK_SIZE, fill=_MUTED))
    for t, label in zip(x_ticks, x_texts):
        px = float(frame.sx(t))
        grid.append(_el("line", x1=px, y1=top, x2=px, y2=bottom))
        ticks.append(_text(px, bottom + 16, label, text_anchor="middle", font_size=_TICK_SIZE, fill=_MUTED))
    parts = [
        _el("g", "".join(grid), stroke=_GRID, stroke_width=1, class_="grid"),
        _el(
            "path",
            d=f"M{_n(left)},{_n(top)}V{_n(bottom)}H{_n(right)}",
            fill="none",
            stroke=_AXIS,
            stroke_width=1,
            class_="axis",
        ),
        _el("g", "".join(ticks), class_="tick-labels"),
    ]
    parts += _axis_label_parts(x_label, y_label, left, right, top, bottom, height)
    return parts, frame


def _decimate(px: np.ndarray, py: np.ndarray, max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Thin a long polyline without visible change.

    Within each pixel column only the first, last, lowest and highest points
    can be seen, so keeping exactly those is lossless at screen resolution.
    Unsorted x (a path that doubles back) is left untouched.
    """
    if px.size <= max_points or np.any(np.diff(px) < 0):
        return px, py
    columns = np.floor(px).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, columns[1:] != columns[:-1]])
    ends = np.r_[starts[1:], px.size] - 1
    grouped = pd.Series(py).groupby(columns, sort=False)
    keep = np.unique(np.concatenate([starts, ends, grouped.idxmin().to_numpy(), grouped.idxmax().to_numpy()]))
    return px[keep], py[keep]


def _points(px: np.ndarray, py: np.ndarray) -> str:
    return " ".join(f"{_n(a)},{_n(b)}" for a, b in zip(px, py))


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------


def line_chart(
    x: Any,
    ys: Mapping[str, Any],
    *,
    title: str,
    x_label: str,
    y_label: str,
    x_percent: bool = False,
    y_percent: bool = False,
    diagonal: bool = False,
    diagonal_label: str = "Equality line",
    width: float = 640,
    height: float = 400,
) -> str:
    """Draw one or more lines over a shared x axis.

    Suited to Pareto/Lorenz curves (with ``diagonal=True`` for the line of
    equality), cumulative gains charts and other trends.

    Parameters
    ----------
    x : array-like of float
        Shared x values (at least two, finite).
    ys : mapping of str to array-like of float
        Series name to y values, each as long as ``x``. A legend is drawn
        when there are two or more entries (the diagonal counts as one).
    title, x_label, y_label : str
        Chart title (also the SVG ``<title>``) and axis labels.
    x_percent, y_percent : bool, default False
        Show tick labels as percentages (values are fractions, 0.25 = 25%).
    diagonal : bool, default False
        Draw the dashed ``y = x`` reference line; both axes then share a range.
    diagonal_label : str, default "Equality line"
        Legend text for the diagonal (e.g. "Random targeting" on a gains chart).
    width, height : float
        Size in pixels.

    Returns
    -------
    str
        An ``<svg>`` document fragment.

    Raises
    ------
    ValueError
        If ``x`` or a series is empty, contains non-finite values or the
        lengths differ; the message names the offending argument.
    """
    width, height = _check_size(width, "width"), _check_size(height, "height")
    title = _check_title(title)
    xa = _as_float_array(x, "x", min_len=2)
    if not isinstance(ys, Mapping):
        raise TypeError("ys must be a mapping of series name to values, e.g. {'Revenue': values}")
    if not ys:
        raise ValueError("ys is empty: pass at least one series")
    series: list[tuple[str, np.ndarray]] = []
    for name, values in ys.items():
        arg = f"ys[{name!r}]"
        arr = _as_float_array(values, arg)
        if arr.size != xa.size:
            raise ValueError(f"{arg} has {arr.size} values but x has {xa.size}")
        series.append((str(name), arr))

    x_lo, x_hi = float(xa.min()), float(xa.max())
    y_lo = min(float(a.min()) for _, a in series)
    y_hi = max(float(a.max()) for _, a in series)
    if diagonal:
        x_lo = y_lo = min(x_lo, y_lo)
        x_hi = y_hi = max(x_hi, y_hi)
    x_ticks, y_ticks = nice_ticks(x_lo, x_hi), nice_ticks(y_lo, y_hi)

    entries = [(name, _SERIES_COLORS[i % len(_SERIES_COLORS)], "line") for i, (name, _) in enumerate(series)]
    if diagonal:
        entries.append((diagonal_label, _DIAGONAL, "dash"))
    parts, top = _header(title, None, width)
    if len(entries) > 1:
        legend, legend_h = _legend(entries, _PAD, top - 4, width - 2 * _PAD)
        parts.append(legend)
        top += legend_h + 4
    frame_parts, frame = _cartesian(
        top=top + 6,
        width=width,
        height=height,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        x_percent=x_percent,
        y_percent=y_percent,
        x_label=x_label,
        y_label=y_label,
    )
    parts += frame_parts
    if diagonal:
        lo, hi = max(frame.x0, frame.y0), min(frame.x1, frame.y1)
        if hi > lo:
            parts.append(
                _el(
                    "line",
                    _tooltip(diagonal_label),
                    x1=float(frame.sx(lo)),
                    y1=float(frame.sy(lo)),
                    x2=float(frame.sx(hi)),
                    y2=float(frame.sy(hi)),
                    stroke=_DIAGONAL,
                    stroke_width=1.5,
                    stroke_dasharray="6 4",
                    class_="diagonal",
                )
            )
    for (name, arr), (_, color, _) in zip(series, entries):
        px, py = _decimate(frame.sx(xa), frame.sy(arr))
        parts.append(
            _el(
                "polyline",
                _tooltip(name),
                points=_points(px, py),
                fill="none",
                stroke=color,
                stroke_width=2.25,
                stroke_linejoin="round",
                stroke_linecap="round",
                class_="series",
            )
        )
    return _svg(width, height, title, parts)


def bar_chart(
    labels: Any,
    values: Any,
    *,
    title: str,
    x_label: str | None = None,
    y_label: str | None = None,
    horizontal: bool = False,
    value_format: str = "{:,.0f}",
    color: str = _SERIES_COLORS[0],
    width: float = 640,
    height: float = 400,
) -> str:
    """Draw a bar per category with its value printed at the bar's end.

    Parameters
    ----------
    labels : sequence
        Category names (converted with ``str``).
    values : array-like of float
        One finite value per label; negative values grow down (or left) from zero.
    title : str
        Chart title (also the SVG ``<title>``).
    x_label, y_label : str, optional
        Labels of the horizontal and vertical axis as drawn (so with
        ``horizontal=True`` the values run along x).
    horizontal : bool, default False
        Horizontal bars, first label at the top; better for long labels.
    value_format : str, default "{:,.0f}"
        ``str.format`` pattern for bar values; a percent pattern such as
        ``"{:.0%}"`` also makes the value axis show percentages.
    color : str, default "#0072B2"
        Bar fill colour.
    width, height : float
        Size in pixels.

    Returns
    -------
    str
        An ``<svg>`` document fragment.

    Raises
    ------
    ValueError
        If inputs are empty, of different lengths or not finite, or
        ``value_format`` cannot format a number; the message names the argument.
    """
    width, height = _check_size(width, "width"), _check_size(height, "height")
    title = _check_title(title)
    names = _as_labels(labels, "labels")
    vals = _as_float_array(values, "values")
    if vals.size != len(names):
        raise ValueError(f"values has {vals.size} entries but labels has {len(names)}")
    _check_format(value_format, "value_format")
    percent = _is_percent_format(value_format)
    ticks = nice_ticks(min(0.0, float(vals.min())), max(0.0, float(vals.max())))
    texts = tick_labels(ticks, percent=percent)
    value_texts = [_apply_format(value_format, float(v)) for v in vals]
    value_w = max(_text_width(t, _TICK_SIZE) for t in value_texts)
    parts, top = _header(title, None, width)
    n = len(names)
    bars, value_marks, cat_marks, grid, tick_marks = [], [], [], [], []

    if not horizontal:
        top += 14  # room for the value printed above the tallest bar
        left = _PAD + (22 if y_label else 0) + max(_text_width(t, _TICK_SIZE) for t in texts) + 8
        right = width - _PAD
        slot = (right - left) / n
        label_w = max(_text_width(s, _TICK_SIZE) for s in names)
        rotate = label_w > slot - 6
        # Rotated labels take sin(40 deg) of their length vertically; cap at 30% of the height.
        label_h = min(label_w * 0.643 + 16, height * 0.3) if rotate else 20.0
        max_label_w = (label_h - 16) / 0.643 if rotate else slot - 4
        if rotate:
            # The first rotated label reaches cos(40 deg) of its length (plus
            # sin(40 deg) of its glyph height) to the left of its bar: widen the
            # left margin so it is not cut off.
            reach = 0.766 * min(label_w, max_label_w) + 0.643 * _TICK_SIZE + 4
            half = 1 / (2 * n)
            left = max(left, (reach - right * half) / (1 - half))
            slot = (right - left) / n
        bottom = height - _PAD - (22 if x_label else 0) - label_h
        if bottom - top < 40 or slot < 2:
            raise ValueError(f"width {width:g} x height {height:g} is too small for {n} bars")
        frame = _Frame(left, top, right, bottom, 0.0, 1.0, ticks[0], ticks[-1])
        zero = float(frame.sy(0.0))
        for t, text in zip(ticks, texts):
            py = float(frame.sy(t))
            grid.append(_el("line", x1=left, y1=py, x2=right, y2=py))
            tick_marks.append(
                _text(left - 6, py, text, text_anchor="end", dy="0.35em", font_size=_TICK_SIZE, fill=_MUTED)
            )
        show_values = value_w <= slot - 2
        for i, (name, v, vtext) in enumerate(zip(names, vals, value_texts)):
            cx = left + (i + 0.5) * slot
            py = float(frame.sy(v))
            bars.append(
                _el(
                    "rect",
                    _tooltip(f"{name}: {vtext}"),
                    x=cx - slot * 0.35,
                    y=min(py, zero),
                    width=slot * 0.7,
                    height=max(abs(zero - py), 0.5),
                    fill=color,
                    class_="bar",
                )
            )
            if show_values:
                # Negative bars are labelled just above the baseline, where
                # the label cannot collide with the category names below.
                vy = py - 5 if v >= 0 else zero - 5
                value_marks.append(_text(cx, vy, vtext, text_anchor="middle", font_size=_TICK_SIZE, class_="value"))
            label = _truncate(name, _TICK_SIZE, max_label_w)
            if rotate:
                ly = bottom + 14
                cat_marks.append(
                    _text(
                        cx,
                        ly,
                        label,
                        text_anchor="end",
                        font_size=_TICK_SIZE,
                        transform=f"rotate(-40 {_n(cx)} {_n(ly)})",
                    )
                )
            else:
                cat_marks.append(_text(cx, bottom + 16, label, text_anchor="middle", font_size=_TICK_SIZE))
        baseline = _el("line", x1=left, y1=zero, x2=right, y2=zero, stroke=_AXIS, stroke_width=1, class_="axis")
    else:
        label_w = min(max(_text_width(s, _TICK_SIZE) for s in names), width * 0.3)
        left = _PAD + (22 if y_label else 0) + label_w + 8
        right = width - _PAD - value_w - 6
        bottom = height - _PAD - (22 if x_label else 0) - 18
        slot = (bottom - top) / n
        if slot < 2 or right - left < 60:
            raise ValueError(f"width {width:g} x height {height:g} is too small for {n} bars")
        frame = _Frame(left, top, right, bottom, ticks[0], ticks[-1], 0.0, 1.0)
        zero = float(frame.sx(0.0))
        for t, text in zip(ticks, texts):
            px = float(frame.sx(t))
            grid.append(_el("line", x1=px, y1=top, x2=px, y2=bottom))
            tick_marks.append(_text(px, bottom + 16, text, text_anchor="middle", font_size=_TICK_SIZE, fill=_MUTED))
        show_values = slot >= 12
        for i, (name, v, vtext) in enumerate(zip(names, vals, value_texts)):
            cy = top + (i + 0.5) * slot
            px = float(frame.sx(v))
            bars.append(
                _el(
                    "rect",
                    _tooltip(f"{name}: {vtext}"),
                    x=min(px, zero),
                    y=cy - slot * 0.35,
                    width=max(abs(px - zero), 0.5),
                    height=slot * 0.7,
                    fill=color,
                    class_="bar",
                )
            )
            if show_values:
                vx = px + 4 if v >= 0 else zero + 4
                value_marks.append(
                    _text(vx, cy, vtext, dy="0.35em", text_anchor="start", font_size=_TICK_SIZE, class_="value")
                )
            label = _truncate(name, _TICK_SIZE, label_w)
            cat_marks.append(_text(left - 8, cy, label, text_anchor="end", dy="0.35em", font_size=_TICK_SIZE))
        baseline = _el("line", x1=zero, y1=top, x2=zero, y2=bottom, stroke=_AXIS, stroke_width=1, class_="axis")

    parts += [
        _el("g", "".join(grid), stroke=_GRID, stroke_width=1, class_="grid"),
        _el("g", "".join(tick_marks), class_="tick-labels"),
        _el("g", "".join(bars), class_="bars"),
        baseline,
        _el("g", "".join(value_marks), class_="values"),
        _el("g", "".join(cat_marks), class_="category-labels"),
    ]
    parts += _axis_label_parts(x_label, y_label, left, right, top, bottom, height)
    return _svg(width, height, title, parts)


def _resolve_cmap(cmap: Any) -> tuple[str, ...]:
    if isinstance(cmap, str):
        colors = _CMAPS.get(cmap.lower())
        if colors is None:
            raise ValueError(f"cmap {cmap!r} is unknown; use one of {sorted(_CMAPS)} or a list of hex colours")
        return colors
    try:
        colors = tuple(cmap)
    except TypeError as exc:
        raise ValueError("cmap must be a scheme name or a sequence of hex colours") from exc
    if len(colors) < 2 or not all(isinstance(c, str) and _HEX_RE.match(c) for c in colors):
        raise ValueError("cmap must list at least two hex colours such as '#eaf2fb'")
    return colors


def heatmap(
    matrix: pd.DataFrame,
    *,
    title: str,
    x_label: str,
    y_label: str,
    value_format: str = "{:.0%}",
    cmap: str | Sequence[str] = "blues",
    annotate: bool = True,
    width: float | None = None,
    height: float | None = None,
) -> str:
    """Draw a matrix as coloured cells, e.g. a cohort retention triangle.

    Rows are drawn top to bottom in index order (cohorts), columns left to
    right (periods since acquisition). NaN cells are left blank: no cell and
    no text. Colours run linearly from the smallest to the largest finite
    value, and a colour bar on the right gives the scale.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Numeric values; NaN marks a blank cell. Index and columns give the
        row and column labels (timestamps are shown as dates).
    title, x_label, y_label : str
        Chart title (also the SVG ``<title>``); ``x_label`` describes the
        columns, ``y_label`` the rows.
    value_format : str, default "{:.0%}"
        ``str.format`` pattern for cell annotations and the colour bar.
    cmap : str or sequence of str, default "blues"
        One of ``blues``, ``greens``, ``oranges``, ``purples``, ``reds``,
        ``greys``, or at least two hex colours from light to dark.
    annotate : bool, default True
        Print each value in its cell (skipped when cells are too small to fit).
    width, height : float, optional
        Size in pixels; by default derived from the matrix shape.

    Returns
    -------
    str
        An ``<svg>`` document fragment.

    Raises
    ------
    TypeError
        If ``matrix`` is not a DataFrame.
    ValueError
        If ``matrix`` is empty, not numeric, contains infinities or has no
        finite value, or ``cmap`` / ``value_format`` is invalid.
    """
    if not isinstance(matrix, pd.DataFrame):
        raise TypeError(f"matrix must be a pandas DataFrame, got {type(matrix).__name__}")
    title = _check_title(title)
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        raise ValueError(f"matrix is empty (shape {matrix.shape})")
    try:
        values = matrix.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError("matrix must contain only numbers (NaN for blank cells)") from exc
    if np.isinf(values).any():
        raise ValueError("matrix contains infinite values, which cannot be coloured")
    finite = np.isfinite(values)
    if not finite.any():
        raise ValueError("matrix has no finite values to draw")
    colors = _resolve_cmap(cmap)
    _check_format(value_format, "value_format")
    if width is not None:
        width = _check_size(width, "width")
    if height is not None:
        height = _check_size(height, "height")

    n_rows, n_cols = values.shape
    vmin, vmax = float(values[finite].min()), float(values[finite].max())
    span = vmax - vmin
    row_names = [_label_text(v) for v in matrix.index]
    col_names = [_label_text(v) for v in matrix.columns]
    cell_texts = {(i, j): _apply_format(value_format, float(values[i, j])) for i, j in zip(*np.nonzero(finite))}

    # Label both ends of the scale, plus nice values in between (filtered
    # below once the bar's height is known, so labels never collide).
    if span == 0:
        legend_ticks = [vmin]
    else:
        inner = [t for t in nice_ticks(vmin, vmax, 6) if vmin < t < vmax]
        legend_ticks = [vmin, *inner, vmax]
    legend_texts: list[tuple[float, str]] = []
    for t in legend_ticks:
        text = _apply_format(value_format, t)
        if legend_texts and legend_texts[-1][1] == text:
            if t == legend_ticks[-1] and len(legend_texts) > 1:
                legend_texts[-1] = (t, text)  # the scale's end keeps its label
            continue
        legend_texts.append((t, text))

    row_w = min(max(_text_width(s, _TICK_SIZE) for s in row_names), 160.0)
    left = _PAD + (22 if y_label else 0) + row_w + 8
    legend_w = 16 + 12 + 6 + max(_text_width(t, _TICK_SIZE) for _, t in legend_texts) + _PAD
    ann_w = max(_text_width(t, _TICK_SIZE) for t in cell_texts.values())
    col_w = max(_text_width(s, _TICK_SIZE) for s in col_names)
    if width is None:
        cell_w = max(36.0, ann_w + 10 if annotate else 0.0, min(col_w + 8, 80.0))
        width = max(left + n_cols * cell_w + legend_w, 420.0)
    # Spread any surplus width (a long title, or an explicit width) over the cells.
    cell_w = (width - left - legend_w) / n_cols
    if cell_w < 3:
        raise ValueError(f"width {width:g} is too small for {n_cols} columns")

    parts, top = _header(title, None, width)
    rotate = col_w > cell_w - 4
    col_label_h = min(col_w * 0.707 + 8, 90.0) if rotate else 18.0
    grid_top = top + (18 if x_label else 0) + col_label_h + 2
    min_bar = 80.0
    if height is None:
        cell_h = 26.0 if annotate else 20.0
        height = max(grid_top + n_rows * cell_h, grid_top + min_bar) + _PAD
    cell_h = (height - _PAD - grid_top) / n_rows
    if cell_h < 3:
        raise ValueError(f"height {height:g} is too small for {n_rows} rows")
    grid_w = n_cols * cell_w
    show_text = annotate and cell_w >= ann_w + 4 and cell_h >= 13

    cells, labels = [], []
    for (i, j), text in cell_texts.items():
        v = float(values[i, j])
        fill = _interpolate(colors, (v - vmin) / span if span > 0 else 0.5)
        x, y = left + j * cell_w, grid_top + i * cell_h
        cells.append(
            _el(
                "rect",
                _tooltip(f"{row_names[i]}, {col_names[j]}: {text}"),
                x=x,
                y=y,
                width=cell_w,
                height=cell_h,
                fill=fill,
                stroke="#ffffff",
                stroke_width=1,
                class_="cell",
            )
        )
        if show_text:
            labels.append(
                _text(
                    x + cell_w / 2,
                    y + cell_h / 2,
                    text,
                    text_anchor="middle",
                    dy="0.35em",
                    font_size=_TICK_SIZE,
                    fill=_text_color_on(fill),
                    class_="cell-label",
                )
            )

    axis_text = []
    for i, name in enumerate(row_names):
        cy = grid_top + (i + 0.5) * cell_h
        axis_text.append(
            _text(
                left - 6,
                cy,
                _truncate(name, _TICK_SIZE, row_w),
                text_anchor="end",
                dy="0.35em",
                font_size=_TICK_SIZE,
                fill=_MUTED,
            )
        )
    for j, name in enumerate(col_names):
        cx = left + (j + 0.5) * cell_w
        if rotate:
            ly = grid_top - 6
            axis_text.append(
                _text(
                    cx,
                    ly,
                    _truncate(name, _TICK_SIZE, (col_label_h - 8) / 0.707),
                    font_size=_TICK_SIZE,
                    fill=_MUTED,
                    transform=f"rotate(-45 {_n(cx)} {_n(ly)})",
                )
            )
        else:
            axis_text.append(_text(cx, grid_top - 6, name, text_anchor="middle", font_size=_TICK_SIZE, fill=_MUTED))
    if x_label:
        axis_text.append(
            _text(
                left + grid_w / 2,
                top + 10,
                _truncate(x_label, 12, grid_w),
                text_anchor="middle",
                font_size=12,
                fill=_MUTED,
                class_="axis-label",
            )
        )
    if y_label:
        cx, cy = _PAD + 8, grid_top + n_rows * cell_h / 2
        axis_text.append(
            _text(
                cx,
                cy,
                _truncate(y_label, 12, max(n_rows * cell_h, 40)),
                text_anchor="middle",
                dy="0.35em",
                font_size=12,
                fill=_MUTED,
                transform=f"rotate(-90 {_n(cx)} {_n(cy)})",
                class_="axis-label",
            )
        )

    # A content hash keeps gradient ids unique when several charts share a
    # page, yet identical for identical input (deterministic output).
    digest = hashlib.sha1(repr((title, values.shape, vmin, vmax, colors)).encode()).hexdigest()[:10]
    grad_id = f"crmine-cbar-{digest}"
    stops = "".join(_el("stop", offset=f"{k / (len(colors) - 1):.4f}", stop_color=c) for k, c in enumerate(colors))
    bar_x = left + grid_w + 16
    bar_h = max(min(n_rows * cell_h, 220.0), min_bar)
    bar_y = grid_top
    legend = [
        _el("defs", _el("linearGradient", stops, id=grad_id, x1=0, y1=1, x2=0, y2=0)),
        _el(
            "rect",
            x=bar_x,
            y=bar_y,
            width=12,
            height=bar_h,
            fill=f"url(#{grad_id})" if span > 0 else _interpolate(colors, 0.5),
            stroke=_GRID,
            class_="colorbar",
        ),
    ]
    min_gap = 14.0  # pixels between colour-bar labels, a little over one line of 11 px text
    for k, (t, text) in enumerate(legend_texts):
        ty = bar_y + bar_h - ((t - vmin) / span if span > 0 else 0.5) * bar_h
        is_end = k in (0, len(legend_texts) - 1)
        if not is_end and (ty - bar_y < min_gap or bar_y + bar_h - ty < min_gap):
            continue
        legend.append(_el("line", x1=bar_x + 12, y1=ty, x2=bar_x + 16, y2=ty, stroke=_AXIS))
        legend.append(_text(bar_x + 19, ty, text, dy="0.35em", font_size=_TICK_SIZE, fill=_MUTED))

    parts += [
        _el("g", "".join(cells), class_="cells"),
        _el("g", "".join(labels), class_="cell-labels"),
        _el("g", "".join(axis_text), class_="axis-text"),
        _el("g", "".join(legend), class_="color-legend"),
    ]
    return _svg(width, height, title, parts)


def _normalise_segment(name: str) -> str:
    return " ".join(name.lower().replace("\u2019", "'").replace("_", " ").replace("-", " ").split())


def _segment_palette(names: Iterable[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    """Give each segment name one colour: explicit, conventional, then pastel by name order."""
    palette: dict[str, str] = {}
    spare = 0
    for name in sorted(set(names)):
        if colors is not None and name in colors:
            palette[name] = str(colors[name])
        elif _normalise_segment(name) in _SEGMENT_COLORS:
            palette[name] = _SEGMENT_COLORS[_normalise_segment(name)]
        else:
            palette[name] = _PASTELS[spare % len(_PASTELS)]
            spare += 1
    return palette


def segment_map(
    grid: pd.DataFrame,
    *,
    title: str,
    value: str = "share",
    value_format: str | None = None,
    x_label: str = "Frequency score (F)",
    y_label: str = "Recency score (R)",
    colors: Mapping[str, str] | None = None,
    width: float = 760,
    height: float = 460,
) -> str:
    """Draw an RFM segment map: recency score against frequency score.

    Rows are recency scores from high (top) to low, columns frequency scores
    from low (left) to high. Each cell is filled with its segment's colour
    and labelled with the segment name (when it fits) and its count or share
    of all customers. Borders between different segments are drawn thicker
    so that segments read as blocks; a legend lists the segments, best
    (highest mean R + F) first, with their totals.

    Parameters
    ----------
    grid : pandas.DataFrame
        One row per cell with columns ``r_score`` and ``f_score`` (integers),
        ``segment`` (name) and ``count`` (customers, non-negative). Score
        combinations that are absent are left blank.
    title : str
        Chart title (also the SVG ``<title>``).
    value : {"share", "count"}, default "share"
        Print each cell's share of all customers or its raw count.
    value_format : str, optional
        ``str.format`` pattern for the printed values; defaults to
        ``"{:.1%}"`` for shares and ``"{:,.0f}"`` for counts.
    x_label, y_label : str
        Axis labels.
    colors : mapping of str to str, optional
        Colour per segment name, overriding the defaults. Conventional RFM
        names ("Champions", "At Risk", "Lost", ...) otherwise get fixed
        meaningful colours and other names pastel colours in name order.
    width, height : float
        Size in pixels.

    Returns
    -------
    str
        An ``<svg>`` document fragment.

    Raises
    ------
    TypeError
        If ``grid`` is not a DataFrame.
    ValueError
        If ``grid`` is empty, lacks a column, has non-integer scores,
        negative or non-finite counts, missing segment names or duplicate
        cells, or ``value`` / ``value_format`` is invalid.
    """
    if not isinstance(grid, pd.DataFrame):
        raise TypeError(f"grid must be a pandas DataFrame, got {type(grid).__name__}")
    title = _check_title(title)
    width, height = _check_size(width, "width"), _check_size(height, "height")
    missing = [c for c in ("r_score", "f_score", "segment", "count") if c not in grid.columns]
    if missing:
        raise ValueError(f"grid is missing column(s) {missing}; expected r_score, f_score, segment, count")
    if grid.empty:
        raise ValueError("grid is empty")
    if value not in ("share", "count"):
        raise ValueError(f"value must be 'share' or 'count', got {value!r}")
    fmt = _check_format(value_format or ("{:.1%}" if value == "share" else "{:,.0f}"), "value_format")

    scores = {}
    for col in ("r_score", "f_score"):
        arr = _as_float_array(grid[col], f"grid['{col}']")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"grid['{col}'] must hold whole-number scores")
        scores[col] = arr.astype(np.int64)
    counts = _as_float_array(grid["count"], "grid['count']")
    if (counts < 0).any():
        raise ValueError("grid['count'] must not be negative")
    if grid["segment"].isna().any():
        raise ValueError("grid['segment'] has missing segment names")
    names = [str(s) for s in grid["segment"]]
    cells: dict[tuple[int, int], tuple[str, float]] = {}
    for r, f, name, c in zip(scores["r_score"], scores["f_score"], names, counts):
        if (int(r), int(f)) in cells:
            raise ValueError(f"grid has more than one row for r_score={r}, f_score={f}")
        cells[(int(r), int(f))] = (name, float(c))

    total = float(counts.sum())
    palette = _segment_palette(names, colors)
    r_lo, r_hi = int(scores["r_score"].min()), int(scores["r_score"].max())
    f_lo, f_hi = int(scores["f_score"].min()), int(scores["f_score"].max())
    n_r, n_f = r_hi - r_lo + 1, f_hi - f_lo + 1

    def shown(count: float) -> str:
        return _apply_format(fmt, count / total if (value == "share" and total > 0) else count)

    # Legend order: best segments first, judged by the mean R + F of their cells.
    seg_stats: dict[str, list[float]] = {}
    for (r, f), (name, c) in cells.items():
        stat = seg_stats.setdefault(name, [0.0, 0.0, 0.0])
        stat[0] += r + f
        stat[1] += 1
        stat[2] += c
    order = sorted(seg_stats, key=lambda s: (-seg_stats[s][0] / seg_stats[s][1], s))

    parts, top = _header(title, None, width)
    size = 12.0
    totals_w = max(_text_width(shown(seg_stats[s][2]), size) for s in order)
    value_header = "Share" if value == "share" else "Customers"
    header_w = _text_width("Segment", 11, bold=True) + _text_width(value_header, 11, bold=True) + 16
    legend_w = min(max(max(_text_width(s, size) for s in order) + totals_w + 16 + 8 + 16, header_w), width * 0.36)
    score_w = max(_text_width(str(v), _TICK_SIZE) for v in (r_lo, r_hi, f_lo, f_hi))
    left = _PAD + (22 if y_label else 0) + score_w + 8
    right = width - _PAD - legend_w - 20
    bottom = height - _PAD - (22 if x_label else 0) - 18
    cell_w, cell_h = (right - left) / n_f, (bottom - top) / n_r
    if cell_w < 6 or cell_h < 6:
        raise ValueError(f"width {width:g} x height {height:g} is too small for a {n_r} x {n_f} grid")

    def cell_box(r: int, f: int) -> tuple[float, float]:
        return left + (f - f_lo) * cell_w, top + (r_hi - r) * cell_h

    rects, texts, borders = [], [], []
    name_size, value_size = 11.0, 12.0
    for (r, f), (name, c) in sorted(cells.items()):
        x, y = cell_box(r, f)
        fill = palette[name]
        ink = _text_color_on(fill)
        text = shown(c)
        rects.append(
            _el(
                "rect",
                _tooltip(f"{name} (R {r}, F {f}): {c:,.0f} customers, {c / total if total else 0:.1%}"),
                x=x,
                y=y,
                width=cell_w,
                height=cell_h,
                fill=fill,
                stroke="#ffffff",
                stroke_width=1,
                class_="cell",
                data_segment=name,
            )
        )
        lines = _wrap(name, name_size, cell_w - 10, 2, bold=True) if cell_h >= 34 else []
        fits_value = _text_width(text, value_size) <= cell_w - 6 and cell_h >= 16
        stack = [(line, name_size, 600) for line in lines] + ([(text, value_size, None)] if fits_value else [])
        line_h = 14.0
        y0 = y + cell_h / 2 - (len(stack) - 1) * line_h / 2
        for k, (line, fsize, weight) in enumerate(stack):
            texts.append(
                _text(
                    x + cell_w / 2,
                    y0 + k * line_h,
                    line,
                    text_anchor="middle",
                    dy="0.35em",
                    font_size=fsize,
                    font_weight=weight,
                    fill=ink,
                    class_="cell-value" if weight is None else "cell-name",
                )
            )
        # Thick white rules where the segment changes make segments read as blocks.
        right_neighbour = cells.get((r, f + 1))
        if right_neighbour is not None and right_neighbour[0] != name:
            borders.append(_el("line", x1=x + cell_w, y1=y, x2=x + cell_w, y2=y + cell_h))
        below = cells.get((r - 1, f))
        if below is not None and below[0] != name:
            borders.append(_el("line", x1=x, y1=y + cell_h, x2=x + cell_w, y2=y + cell_h))

    axis_text = []
    for r in range(r_lo, r_hi + 1):
        _, y = cell_box(r, f_lo)
        axis_text.append(
            _text(left - 6, y + cell_h / 2, str(r), text_anchor="end", dy="0.35em", font_size=_TICK_SIZE, fill=_MUTED)
        )
    for f in range(f_lo, f_hi + 1):
        x, _ = cell_box(r_lo, f)
        axis_text.append(
            _text(x + cell_w / 2, bottom + 16, str(f), text_anchor="middle", font_size=_TICK_SIZE, fill=_MUTED)
        )

    legend_x = width - _PAD - legend_w
    row_h = 20.0
    legend = [
        _text(legend_x, top + 8, "Segment", font_size=11, fill=_MUTED, font_weight=600),
        _text(
            width - _PAD,
            top + 8,
            value_header,
            text_anchor="end",
            font_size=11,
            fill=_MUTED,
            font_weight=600,
        ),
    ]
    for k, name in enumerate(order):
        ly = top + 16 + k * row_h + row_h / 2
        if ly + row_h / 2 > height - _PAD:
            legend.append(_text(legend_x, ly, f"+ {len(order) - k} more", dy="0.35em", font_size=size, fill=_MUTED))
            break
        legend.append(
            _el(
                "rect",
                x=legend_x,
                y=ly - 6,
                width=12,
                height=12,
                rx=2,
                fill=palette[name],
                class_="legend-swatch",
            )
        )
        legend.append(
            _text(
                legend_x + 18,
                ly,
                _truncate(name, size, legend_w - totals_w - 30),
                dy="0.35em",
                font_size=size,
            )
        )
        legend.append(
            _text(
                width - _PAD,
                ly,
                shown(seg_stats[name][2]),
                text_anchor="end",
                dy="0.35em",
                font_size=size,
                fill=_MUTED,
            )
        )

    parts += [
        _el("g", "".join(rects), class_="cells"),
        _el("g", "".join(borders), stroke="#ffffff", stroke_width=3.5, stroke_linecap="square", class_="borders"),
        _el("g", "".join(texts), class_="cell-labels"),
        _el("g", "".join(axis_text), class_="axis-text"),
        _el("g", "".join(legend), class_="legend"),
    ]
    parts += _axis_label_parts(x_label, y_label, left, right, top, bottom, height)
    return _svg(width, height, title, parts)


def scatter(
    x: Any,
    y: Any,
    *,
    labels: Any = None,
    title: str,
    x_label: str,
    y_label: str,
    x_percent: bool = False,
    y_percent: bool = False,
    max_points: int | None = 5000,
    radius: float = 3.0,
    width: float = 640,
    height: float = 400,
) -> str:
    """Draw points, optionally coloured by a categorical label.

    Parameters
    ----------
    x, y : array-like of float
        Finite coordinates of equal length.
    labels : sequence, optional
        One category per point; each category gets a colour and a legend entry.
    title, x_label, y_label : str
        Chart title (also the SVG ``<title>``) and axis labels.
    x_percent, y_percent : bool, default False
        Show tick labels as percentages.
    max_points : int or None, default 5000
        Draw at most this many points, chosen by a seeded random sample so
        the output is reproducible; the subtitle then says so. The axes still
        span all points. ``None`` draws every point (SVG size grows linearly).
    radius : float, default 3.0
        Point radius in pixels.
    width, height : float
        Size in pixels.

    Returns
    -------
    str
        An ``<svg>`` document fragment.

    Raises
    ------
    ValueError
        If ``x``, ``y`` or ``labels`` are empty, differ in length or contain
        non-finite coordinates; the message names the argument.
    """
    width, height = _check_size(width, "width"), _check_size(height, "height")
    title = _check_title(title)
    xa = _as_float_array(x, "x")
    ya = _as_float_array(y, "y")
    if ya.size != xa.size:
        raise ValueError(f"y has {ya.size} values but x has {xa.size}")
    cats: list[str] | None = None
    if labels is not None:
        cats = _as_labels(labels, "labels")
        if len(cats) != xa.size:
            raise ValueError(f"labels has {len(cats)} entries but x has {xa.size}")
    if max_points is not None and (isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1):
        raise ValueError(f"max_points must be a positive integer or None, got {max_points!r}")
    if not (isinstance(radius, (int, float)) and 0 < radius <= 50):
        raise ValueError(f"radius must be between 0 and 50 pixels, got {radius!r}")

    n = xa.size
    idx = np.arange(n)
    subtitle = None
    if max_points is not None and n > max_points:
        idx = np.sort(np.random.default_rng(0).choice(n, size=max_points, replace=False))
        subtitle = f"Showing a random sample of {max_points:,} of {n:,} points"

    color_of: dict[str, str] = {}
    if cats is not None:
        for k, cat in enumerate(sorted(set(cats))):
            color_of[cat] = _SERIES_COLORS[k % len(_SERIES_COLORS)]

    parts, top = _header(title, subtitle, width)
    if color_of:
        legend, legend_h = _legend(
            [(cat, col, "circle") for cat, col in color_of.items()], _PAD, top - 4, width - 2 * _PAD
        )
        parts.append(legend)
        top += legend_h + 4
    frame_parts, frame = _cartesian(
        top=top + 6,
        width=width,
        height=height,
        x_ticks=nice_ticks(float(xa.min()), float(xa.max())),
        y_ticks=nice_ticks(float(ya.min()), float(ya.max())),
        x_percent=x_percent,
        y_percent=y_percent,
        x_label=x_label,
        y_label=y_label,
    )
    parts += frame_parts
    px, py = frame.sx(xa[idx]), frame.sy(ya[idx])
    dots = []
    for k, i in enumerate(idx):
        fill = color_of[cats[i]] if cats is not None else _SERIES_COLORS[0]
        dots.append(_el("circle", cx=float(px[k]), cy=float(py[k]), r=float(radius), fill=fill, class_="point"))
    parts.append(_el("g", "".join(dots), fill_opacity=0.7, class_="points"))
    return _svg(width, height, title, parts)
