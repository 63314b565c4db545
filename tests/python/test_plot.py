# SPDX-License-Identifier: Apache-2.0
"""Specification tests for crmine.plot, the dependency-free SVG charts."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest




from crmine import plot

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def marks(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(SVG + tag)
    return [e for e in found if cls is None or cls in (e.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in root.iter(SVG + "text")]


def assert_accessible(root: ET.Element, title: str) -> None:
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("role") == "img"
    first = next(iter(root))
    assert first.tag == SVG + "title" and first.text == title


def tick_value(label: str) -> float:
    """Parse a tick label such as "1,500", "40%", "2.5M" back to a number."""
    scale = 1.0
    if label.endswith("%"):
        label, scale = label[:-1], 0.01
    elif label.endswith("M"):
        label, scale = label[:-1], 1e6
    elif label.endswith("B"):
        label, scale = label[:-1], 1e9
    return float(label.replace(",", "")) * scale


def is_nice_step(step: float) -> bool:
    # Loose tolerance: a step taken as the difference of two large ticks
    # carries their rounding error.
    exponent = math.floor(math.log10(step))
    mantissa = step / 10**exponent
    return any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 5, 10))


@pytest.fixture
def cohort_matrix() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 6
    values = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n - i):
            values[i, j] = 1.0 if j == 0 else 0.5 * math.exp(-0.2 * j) + 0.02 * rng.random()
    return pd.DataFrame(values, index=pd.period_range("2024-01", periods=n, freq="M"), columns=range(n))


@pytest.fixture
def rfm_grid() -> pd.DataFrame:
    def segment(r: int, f: int) -> str:
        if r >= 4 and f >= 4:
            return "Champions"
        if r <= 2 and f <= 2:
            return "Lost"
        if r <= 2:
            return "At Risk"
        return "Potential Loyalists"

    rows = [(r, f, segment(r, f), r * 10 + f) for r in range(1, 6) for f in range(1, 6)]
    return pd.DataFrame(rows, columns=["r_score", "f_score", "segment", "count"])


# --------------------------------------------------------------------------
# Ticks
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (0, 1),
        (0, 12345),
        (3.2, 7.9),
        (-250, 1800),
        (-1200, 3400),
        (0.0013, 0.0091),
        (1e6, 4.3e7),
        (5, 5),
        (0, 0),
        (-1, -0.2),
        (0.1, 0.95),
        (1e-9, 3e-9),
        (123456789, 123456799),
        (889.3717949967992, 889.371814813822),
    ],
)
def test_nice_ticks_are_nice_and_cover_the_range(lo, hi):
    ticks = plot.nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 6
    assert ticks[0] <= min(lo, hi) and ticks[-1] >= max(lo, hi)
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    assert is_nice_step(steps[0])
    # Values are exact decimals, not float noise such as 0.30000000000000004.
    assert all(len(repr(t)) <= 12 for t in ticks)


def test_nice_ticks_rejects_non_finite_and_too_few_ticks():
    with pytest.raises(ValueError):
        plot.nice_ticks(0, float("nan"))
    with pytest.raises(ValueError, match="max_ticks"):
        plot.nice_ticks(-5, 70, max_ticks=2)


def test_nice_ticks_straddling_zero_with_three_ticks():
    assert plot.nice_ticks(-5.6, 74.7, max_ticks=3) == [-100.0, 0.0, 100.0]


def test_tick_labels_use_thousands_separators_and_percent():
    assert plot.tick_labels([0, 5000, 10000, 15000]) == ["0", "5,000", "10,000", "15,000"]
    assert plot.tick_labels([0, 0.2, 0.4], percent=True) == ["0%", "20%", "40%"]
    assert plot.tick_labels([0, 0.005, 0.01], percent=True) == ["0%", "0.5%", "1.0%"]
    assert plot.tick_labels([0.0, 0.5, 1.0]) == ["0", "0.5", "1.0"]
    assert plot.tick_labels([0, 1e6, 2e6]) == ["0", "1M", "2M"]
    assert plot.tick_labels([-10, 0, 10]) == ["-10", "0", "10"]


# --------------------------------------------------------------------------
# line_chart
# --------------------------------------------------------------------------


def test_line_chart_one_polyline_per_series_with_legend_and_diagonal():
    x = np.linspace(0, 1, 21)
    svg = plot.line_chart(
        x,
        {"Revenue": x**0.3, "Orders": x**0.5},
        title="Lorenz curve",
        x_label="Customers",
        y_label="Revenue",
        x_percent=True,
        y_percent=True,
        diagonal=True,
    )
    root = parse(svg)
    assert_accessible(root, "Lorenz curve")
    assert len(marks(root, "polyline", "series")) == 2
    assert len(marks(root, "line", "diagonal")) == 1
    legend = marks(root, "g", "legend")
    assert len(legend) == 1
    legend_text = " ".join(legend[0].itertext())
    assert "Revenue" in legend_text and "Orders" in legend_text and "Equality line" in legend_text
    all_text = texts(root)
    assert "100%" in all_text and "50%" not in all_text  # steps of 20%
    assert "Customers" in all_text and "Revenue" in all_text


def test_line_chart_single_series_has_no_legend():
    svg = plot.line_chart([1, 2, 3], {"Sales": [10, 30, 20]}, title="Sales", x_label="Month", y_label="EUR")
    root = parse(svg)
    assert len(marks(root, "polyline", "series")) == 1
    assert marks(root, "g", "legend") == []
    assert marks(root, "line", "diagonal") == []


def test_line_chart_ticks_are_nice_readable_numbers():
    svg = plot.line_chart([0, 1, 2, 3], {"Revenue": [0, 4200, 9800, 12345]}, title="t", x_label="x", y_label="y")
    root = parse(svg)
    tick_group = marks(root, "g", "tick-labels")[0]
    labels = ["".join(t.itertext()) for t in tick_group.iter(SVG + "text")]
    assert "10,000" in labels
    y_labels = [lab for lab in labels if "," in lab or lab == "0"]
    values = sorted({tick_value(lab) for lab in y_labels})
    assert is_nice_step(values[1] - values[0])


def test_line_chart_points_lie_inside_the_plot():
    svg = plot.line_chart([0, 1, 2], {"a": [5, -3, 8]}, title="t", x_label="x", y_label="y", width=500, height=300)
    root = parse(svg)
    points = marks(root, "polyline", "series")[0].get("points").split()
    for pair in points:
        px, py = map(float, pair.split(","))
        assert 0 <= px <= 500 and 0 <= py <= 300


def test_line_chart_thins_long_monotone_series_but_keeps_ends():
    x = np.linspace(0, 1, 100_000)
    svg = plot.line_chart(x, {"cum": np.sqrt(x)}, title="t", x_label="x", y_label="y")
    root = parse(svg)
    points = marks(root, "polyline", "series")[0].get("points").split()
    assert len(points) < 4 * 640
    first = tuple(map(float, points[0].split(",")))
    last = tuple(map(float, points[-1].split(",")))
    assert first[0] < last[0] and first[1] > last[1]  # from bottom-left to top-right


def test_line_chart_escapes_text():
    svg = plot.line_chart(
        [0, 1], {"a <&> b": [0, 1]}, title='Title <&> "q"', x_label="x <&>", y_label="y", diagonal=True
    )
    assert "<&>" not in svg
    assert "&lt;&amp;&gt;" in svg
    root = parse(svg)
    assert next(iter(root)).text == 'Title <&> "q"'
    assert "a <&> b" in texts(root)
    assert "x <&>" in texts(root)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"x": [0, 1, 2], "ys": {"a": [1, 2]}}, "ys['a']"),
        ({"x": [], "ys": {"a": []}}, "x"),
        ({"x": [0, 1], "ys": {}}, "ys"),
        ({"x": [0, 1], "ys": {"a": [1, float("nan")]}}, "ys['a']"),
        ({"x": [0, float("inf")], "ys": {"a": [1, 2]}}, "x"),
        ({"x": ["a", "b"], "ys": {"a": [1, 2]}}, "x"),
        ({"x": [0, 1], "ys": {"a": [1, 2]}, "width": 10}, "width"),
    ],
)
def test_line_chart_rejects_bad_input_naming_the_argument(kwargs, argument):
    kwargs = {"title": "t", "x_label": "x", "y_label": "y", **kwargs}
    with pytest.raises(ValueError, match=re.escape(argument)):
        plot.line_chart(**kwargs)


def test_line_chart_requires_a_mapping():
    with pytest.raises(TypeError, match="ys"):
        plot.line_chart([0, 1], [1, 2], title="t", x_label="x", y_label="y")


# --------------------------------------------------------------------------
# bar_chart
# --------------------------------------------------------------------------


@pytest.mark.parametrize("horizontal", [False, True])
def test_bar_chart_one_rect_per_bar_with_formatted_values(horizontal):
    svg = plot.bar_chart(
        ["Champions", "Loyal", "Lost <&>"],
        [1500, 980, 12000],
        title="Customers per segment",
        x_label="Segment",
        y_label="Customers",
        horizontal=horizontal,
    )
    root = parse(svg)
    assert_accessible(root, "Customers per segment")
    assert len(marks(root, "rect", "bar")) == 3
    values = ["".join(e.itertext()) for e in marks(root, "text", "value")]
    assert values == ["1,500", "980", "12,000"]
    assert "Lost <&>" in texts(root)
    assert "10,000" in texts(root)


def test_bar_chart_negative_values_grow_from_zero():
    svg = plot.bar_chart(["up", "down"], [10, -5], title="Change", value_format="{:+,.0f}")
    root = parse(svg)
    up, down = marks(root, "rect", "bar")
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(down.get("y")), abs=0.02)
    assert [("".join(e.itertext())) for e in marks(root, "text", "value")] == ["+10", "-5"]


def test_bar_chart_percent_format_gives_percent_axis():
    svg = plot.bar_chart(["a", "b"], [0.25, 0.6], title="Share", value_format="{:.0%}")
    root = parse(svg)
    assert "60%" in texts(root)  # bar value
    assert "40%" in texts(root)  # axis tick


def test_bar_chart_long_labels_still_render():
    labels = [f"A rather long segment name {k}" for k in range(12)]
    svg = plot.bar_chart(labels, np.arange(12) * 10.0, title="Long labels")
    root = parse(svg)
    assert len(marks(root, "rect", "bar")) == 12
    assert any("rotate(-40" in (e.get("transform") or "") for e in root.iter(SVG + "text"))


@pytest.mark.parametrize(
    ("labels", "values", "kwargs", "argument"),
    [
        (["a", "b"], [1], {}, "values"),
        ([], [], {}, "labels"),
        (["a"], [float("nan")], {}, "values"),
        (["a"], [1], {"value_format": "{:q}"}, "value_format"),
        (["a"], [1], {"height": 50}, "height"),
    ],
)
def test_bar_chart_rejects_bad_input_naming_the_argument(labels, values, kwargs, argument):
    with pytest.raises(ValueError, match=re.escape(argument)):
        plot.bar_chart(labels, values, title="t", **kwargs)


# --------------------------------------------------------------------------
# heatmap
# --------------------------------------------------------------------------


def test_heatmap_one_rect_per_finite_cell_and_nan_blank(cohort_matrix):
    svg = plot.heatmap(cohort_matrix, title="Retention by cohort", x_label="Months since first order", y_label="Cohort")
    root = parse(svg)
    assert_accessible(root, "Retention by cohort")
    n_finite = int(np.isfinite(cohort_matrix.to_numpy()).sum())
    assert n_finite == 21
    cells = marks(root, "rect", "cell")
    assert len(cells) == n_finite
    labels = marks(root, "text", "cell-label")
    assert len(labels) == n_finite
    assert sum(1 for e in labels if "".join(e.itertext()) == "100%") == 6
    # No cell is drawn at a NaN position: the bottom row has only its first cell.
    ys = sorted({float(c.get("y")) for c in cells})
    bottom_row = [c for c in cells if float(c.get("y")) == ys[-1]]
    assert len(bottom_row) == 1
    # Row labels are the cohort periods, column labels the periods since acquisition.
    assert "2024-01" in texts(root) and "5" in texts(root)
    assert len(marks(root, "rect", "colorbar")) == 1


def test_heatmap_colour_scale_runs_from_min_to_max(cohort_matrix):
    root = parse(plot.heatmap(cohort_matrix, title="t", x_label="x", y_label="y", cmap="blues"))
    values = cohort_matrix.to_numpy()
    order = [(i, j) for i in range(values.shape[0]) for j in range(values.shape[1]) if np.isfinite(values[i, j])]
    fills = {pos: cell.get("fill") for pos, cell in zip(order, marks(root, "rect", "cell"))}
    hi = np.unravel_index(np.nanargmax(values), values.shape)
    lo = np.unravel_index(np.nanargmin(values), values.shape)
    assert fills[hi].lower() == "#08306b"  # darkest blue
    assert fills[lo].lower() == "#eaf2fb"  # lightest blue
    assert len(set(fills.values())) > 5
    # Both ends of the scale are labelled on the colour bar.
    legend_text = " ".join(marks(root, "g", "color-legend")[0].itertext())
    assert "100%" in legend_text and f"{np.nanmin(values):.0%}" in legend_text


def test_heatmap_without_annotations_and_with_custom_format(cohort_matrix):
    root = parse(plot.heatmap(cohort_matrix, title="t", x_label="x", y_label="y", annotate=False))
    assert marks(root, "text", "cell-label") == []
    counts = cohort_matrix * 1000
    root = parse(plot.heatmap(counts, title="t", x_label="x", y_label="y", value_format="{:,.0f}", cmap="greens"))
    assert "1,000" in texts(root)


def test_heatmap_escapes_labels():
    df = pd.DataFrame([[0.5, 0.2]], index=["<cohort & co>"], columns=["a<b", "c"])
    svg = plot.heatmap(df, title="T <&>", x_label="x", y_label="y")
    root = parse(svg)
    assert "<cohort & co>" in texts(root) and "a<b" in texts(root)


@pytest.mark.parametrize(
    ("matrix", "kwargs", "argument"),
    [
        (pd.DataFrame(), {}, "matrix"),
        (pd.DataFrame([[np.nan, np.nan]]), {}, "matrix"),
        (pd.DataFrame([[1.0, np.inf]]), {}, "matrix"),
        (pd.DataFrame([["a", "b"]]), {}, "matrix"),
        (pd.DataFrame([[0.1, 0.2]]), {"cmap": "rainbow"}, "cmap"),
        (pd.DataFrame([[0.1, 0.2]]), {"value_format": "{:x}"}, "value_format"),
    ],
)
def test_heatmap_rejects_bad_input_naming_the_argument(matrix, kwargs, argument):
    with pytest.raises(ValueError, match=re.escape(argument)):
        plot.heatmap(matrix, title="t", x_label="x", y_label="y", **kwargs)


def test_heatmap_requires_a_dataframe():
    with pytest.raises(TypeError, match="matrix"):
        plot.heatmap([[0.1]], title="t", x_label="x", y_label="y")


# --------------------------------------------------------------------------
# segment_map
# --------------------------------------------------------------------------


def test_segment_map_grid_orientation_and_colours(rfm_grid):
    svg = plot.segment_map(rfm_grid, title="RFM segment map")
    root = parse(svg)
    assert_accessible(root, "RFM segment map")
    cells = marks(root, "rect", "cell")
    assert len(cells) == 25
    by_segment: dict[str, set[str]] = {}
    for cell in cells:
        by_segment.setdefault(cell.get("data-segment"), set()).add(cell.get("fill"))
    assert set(by_segment) == {"Champions", "Lost", "At Risk", "Potential Loyalists"}
    assert all(len(fills) == 1 for fills in by_segment.values())  # one colour per name
    assert len({next(iter(f)) for f in by_segment.values()}) == 4  # distinct across names

    def position(r: int, f: int) -> tuple[float, float]:
        i = next(k for k, row in enumerate(rfm_grid.itertuples()) if row.r_score == r and row.f_score == f)
        ordered = sorted(range(len(rfm_grid)), key=lambda k: (rfm_grid.r_score[k], rfm_grid.f_score[k]))
        cell = cells[ordered.index(i)]
        return float(cell.get("x")), float(cell.get("y"))

    # R high at the top, F low on the left.
    assert position(5, 1)[1] < position(1, 1)[1]
    assert position(1, 1)[0] < position(1, 5)[0]
    # Champions (high R, high F) sit top-right.
    champions = [c for c in cells if c.get("data-segment") == "Champions"]
    assert min(float(c.get("x")) for c in champions) > min(float(c.get("x")) for c in cells)
    assert min(float(c.get("y")) for c in champions) == min(float(c.get("y")) for c in cells)


def test_segment_map_labels_show_name_and_share(rfm_grid):
    root = parse(plot.segment_map(rfm_grid, title="RFM"))
    total = rfm_grid["count"].sum()
    values = ["".join(e.itertext()) for e in marks(root, "text", "cell-value")]
    assert len(values) == 25
    assert f"{55 / total:.1%}" in values
    names = " ".join("".join(e.itertext()) for e in marks(root, "text", "cell-name"))
    assert "Champions" in names and "Lost" in names
    legend_text = " ".join(marks(root, "g", "legend")[0].itertext())
    champions_total = rfm_grid.loc[rfm_grid.segment == "Champions", "count"].sum()
    assert f"{champions_total / total:.1%}" in legend_text
    # The legend lists the best segment first.
    assert legend_text.index("Champions") < legend_text.index("Lost")


def test_segment_map_counts_and_custom_colours(rfm_grid):
    svg = plot.segment_map(rfm_grid, title="RFM", value="count", colors={"Lost": "#123456"})
    root = parse(svg)
    values = ["".join(e.itertext()) for e in marks(root, "text", "cell-value")]
    assert "55" in values
    lost = [c for c in marks(root, "rect", "cell") if c.get("data-segment") == "Lost"]
    assert {c.get("fill") for c in lost} == {"#123456"}


def test_segment_map_missing_cells_are_left_out(rfm_grid):
    partial = rfm_grid[~((rfm_grid.r_score == 1) & (rfm_grid.f_score == 5))]
    root = parse(plot.segment_map(partial, title="RFM"))
    assert len(marks(root, "rect", "cell")) == 24


def test_segment_map_escapes_segment_names(rfm_grid):
    grid = rfm_grid.assign(segment=rfm_grid.segment.replace("Lost", "Lost <&>"))
    svg = plot.segment_map(grid, title="RFM")
    assert "Lost <&>" not in svg
    root = parse(svg)
    assert any("Lost <&>" in t for t in texts(root))


@pytest.mark.parametrize(
    ("mutate", "kwargs", "argument"),
    [
        (lambda g: g.drop(columns="count"), {}, "grid"),
        (lambda g: g.iloc[0:0], {}, "grid"),
        (lambda g: pd.concat([g, g.iloc[[0]]]), {}, "grid"),
        (lambda g: g.assign(r_score=g.r_score + 0.5), {}, "r_score"),
        (lambda g: g.assign(count=-g["count"]), {}, "count"),
        (lambda g: g.assign(count=g["count"].where(g.index > 0)), {}, "count"),
        (lambda g: g, {"value": "percent"}, "value"),
    ],
)
def test_segment_map_rejects_bad_input_naming_the_argument(rfm_grid, mutate, kwargs, argument):
    with pytest.raises(ValueError, match=re.escape(argument)):
        plot.segment_map(mutate(rfm_grid), title="RFM", **kwargs)


# --------------------------------------------------------------------------
# scatter
# --------------------------------------------------------------------------


def test_scatter_one_circle_per_point_coloured_by_label():
    rng = np.random.default_rng(3)
    x, y = rng.random(60), rng.random(60) * 1000
    labels = np.array(["Champions", "Lost <&>", "At Risk"])[np.arange(60) % 3]
    svg = plot.scatter(x, y, labels=labels, title="Spend vs recency", x_label="Recency", y_label="Spend")
    root = parse(svg)
    assert_accessible(root, "Spend vs recency")
    points = marks(root, "circle", "point")
    assert len(points) == 60
    colours = [p.get("fill") for p in points]
    assert len(set(colours)) == 3
    assert colours[0] == colours[3] and colours[0] != colours[1]
    legend_text = " ".join(marks(root, "g", "legend")[0].itertext())
    assert "Lost <&>" in legend_text


def test_scatter_without_labels_has_single_colour_and_no_legend():
    root = parse(plot.scatter([1, 2, 3], [3, 1, 2], title="t", x_label="x", y_label="y"))
    assert len({p.get("fill") for p in marks(root, "circle", "point")}) == 1
    assert marks(root, "g", "legend") == []


def test_scatter_samples_large_inputs_and_says_so():
    n = 20_000
    x = np.arange(n, dtype=float)
    svg = plot.scatter(x, x, title="t", x_label="x", y_label="y", max_points=1000)
    root = parse(svg)
    assert len(marks(root, "circle", "point")) == 1000
    assert any("1,000 of 20,000" in t for t in texts(root))
    assert svg == plot.scatter(x, x, title="t", x_label="x", y_label="y", max_points=1000)  # reproducible


@pytest.mark.parametrize(
    ("x", "y", "labels", "argument"),
    [
        ([1, 2], [1], None, "y"),
        ([1, 2], [1, 2], ["a"], "labels"),
        ([], [], None, "x"),
        ([1, 2], [1, float("nan")], None, "y"),
    ],
)
def test_scatter_rejects_bad_input_naming_the_argument(x, y, labels, argument):
    with pytest.raises(ValueError, match=re.escape(argument)):
        plot.scatter(x, y, labels=labels, title="t", x_label="x", y_label="y")


def test_charts_are_deterministic_and_embed_no_scripts(cohort_matrix, rfm_grid):
    charts = [
        plot.line_chart([0, 1], {"a": [0, 1]}, title="t", x_label="x", y_label="y"),
        plot.bar_chart(["a"], [1], title="t"),
        plot.heatmap(cohort_matrix, title="t", x_label="x", y_label="y"),
        plot.segment_map(rfm_grid, title="t"),
        plot.scatter([0, 1], [0, 1], title="t", x_label="x", y_label="y"),
    ]
    for svg in charts:
        assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert charts[2] == plot.heatmap(cohort_matrix, title="t", x_label="x", y_label="y")


def test_empty_title_is_rejected():
    with pytest.raises(ValueError, match="title"):
        plot.bar_chart(["a"], [1], title="  ")


def test_nice_ticks_respect_max_ticks_on_random_ranges():
    rng = np.random.default_rng(11)
    for _ in range(500):
        scale = 10.0 ** rng.integers(-6, 9)
        lo, hi = sorted(rng.normal(0, 1, 2) * scale)
        max_ticks = int(rng.integers(3, 11))
        ticks = plot.nice_ticks(lo, hi, max_ticks)
        assert 2 <= len(ticks) <= max_ticks
        assert ticks[0] <= lo and ticks[-1] >= hi
        assert is_nice_step(ticks[1] - ticks[0])


def test_segment_map_conventional_names_share_colours_across_spellings():
    grid = pd.DataFrame(
        {
            "r_score": [1, 1, 2, 2],
            "f_score": [1, 2, 1, 2],
            "segment": ["at_risk", "At Risk", "Can\u2019t Lose Them", "Champions"],
            "count": [1, 2, 3, 4],
        }
    )
    root = parse(plot.segment_map(grid, title="RFM"))
    fills = {c.get("data-segment"): c.get("fill") for c in marks(root, "rect", "cell")}
    assert fills["at_risk"] == fills["At Risk"]
    assert len({fills["At Risk"], fills["Can\u2019t Lose Them"], fills["Champions"]}) == 3
