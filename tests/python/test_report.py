# SPDX-License-Identifier: Apache-2.0
"""Specification tests for crmine.report: the HTML report builder and stage progress."""

from __future__ import annotations

import io
import pathlib
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest




from crmine import report

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10" role="img">'
    '<title>Tiny</title><rect class="cell" x="0" y="0" width="10" height="10"/></svg>'
)


class Checker(HTMLParser):
    """Collect tags, text and nesting errors; every non-void element must be closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.starts: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.doctype = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check(html_text: str) -> Checker:
    checker = Checker()
    checker.feed(html_text)
    checker.close()
    assert checker.doctype is not None and checker.doctype.lower() == "doctype html"
    assert checker.errors == []
    assert checker.stack == []
    return checker


def body_rows(html_text: str) -> int:
    tbody = re.search(r"<tbody>(.*?)</tbody>", html_text, re.DOTALL).group(1)
    return tbody.count("<tr>")


@pytest.fixture
def sample() -> report.Report:
    rep = report.Report("Customer analysis", "Orders 2024")
    rep.section("Overview", "Headline figures.").metrics({"Customers": "5,000", "Revenue": "€1.2M"})
    rep.section("Segments").paragraph("Champions buy most.").figure(SVG, caption="Segment map")
    rep.section("Cohorts").note("Recent cohorts are short.", kind="warning")
    return rep


# --------------------------------------------------------------------------
# Document structure
# --------------------------------------------------------------------------


def test_report_is_well_formed_and_self_contained(sample):
    html_text = sample.to_html()
    checker = check(html_text)
    tags = [t for t, _ in checker.starts]
    assert tags.count("html") == 1 and tags.count("body") == 1 and tags.count("style") == 1
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert not any("src" in attrs for _, attrs in checker.starts)
    assert "url(" not in html_text and "@import" not in html_text
    assert '<meta charset="utf-8">' in html_text
    assert "<title>Customer analysis</title>" in html_text
    assert "@media print" in html_text


def test_report_has_toc_linking_sections_in_order(sample):
    html_text = sample.to_html()
    checker = check(html_text)
    toc = re.search(r'<nav class="toc".*?</nav>', html_text, re.DOTALL).group(0)
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', toc)
    assert [title for _, title in links] == ["Overview", "Segments", "Cohorts"]
    ids = [attrs["id"] for tag, attrs in checker.starts if tag == "section"]
    assert ids == [anchor for anchor, _ in links]
    assert len(set(ids)) == 3
    positions = [html_text.index(f'id="{anchor}"') for anchor in ids]
    assert positions == sorted(positions)
    assert html_text.index("<nav") < positions[0]
    assert "1.</span>Overview" in html_text and "3.</span>Cohorts" in html_text


def test_repeated_and_unicode_section_titles_get_unique_ids():
    rep = report.Report("R")
    rep.section("Überblick")
    rep.section("Überblick")
    rep.section("売上")
    ids = re.findall(r'<section class="report-section" id="([^"]+)"', rep.to_html())
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)


def test_report_without_sections_has_no_toc():
    html_text = report.Report("Empty").to_html()
    check(html_text)
    assert "<nav" not in html_text


def test_text_is_escaped_everywhere():
    rep = report.Report("A <b>&</b>", subtitle="<i>sub</i>")
    sec = rep.section("<script>alert(1)</script>", intro="x < y & z")
    sec.paragraph("<img src=x onerror=alert(1)>").note("<b>n</b>").metrics({"<k>": "<v>"})
    sec.figure(SVG, caption="<caption>")
    html_text = rep.to_html()
    check(html_text)
    assert "<script>" not in html_text and "<img" not in html_text and "<b>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text
    assert "x &lt; y &amp; z" in html_text
    assert "&lt;k&gt;" in html_text and "&lt;v&gt;" in html_text


# --------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------


def test_section_methods_chain_and_keep_order():
    rep = report.Report("R")
    sec = rep.section("S")
    assert sec.paragraph("first") is sec
    assert sec.metrics({"A": "1"}) is sec
    assert sec.table(pd.DataFrame({"a": [1]})) is sec
    assert sec.figure(SVG) is sec
    assert sec.note("last") is sec
    html_text = rep.to_html()
    order = [html_text.index(s) for s in ("first", 'class="metrics"', "<table>", "<svg", 'class="note')]
    assert order == sorted(order)
    assert rep.sections == (sec,)


def test_metrics_render_label_and_value_and_format_numbers():
    rep = report.Report("R")
    rep.section("S").metrics({"Customers": 5000, "Avg. order": 12.5, "Repeat rate": "38%"})
    html_text = rep.to_html()
    assert html_text.count('class="metric"') == 3
    assert '<div class="metric-value">5,000</div>' in html_text
    assert '<div class="metric-value">12.50</div>' in html_text
    assert '<div class="metric-label">Repeat rate</div>' in html_text
    with pytest.raises(ValueError, match="items"):
        rep.section("T").metrics({})


def test_table_escapes_aligns_and_formats():
    df = pd.DataFrame(
        {
            "segment": ["<Champions>", "Lost & found"],
            "customers": [12000, 5],
            "revenue": [1234.5, np.nan],
            "share": [0.125, 0.5],
        },
        index=pd.Index(["a", "b"], name="cell"),
    )
    rep = report.Report("R")
    rep.section("S").table(df, caption="Segments <all>", percent_columns=["share"])
    html_text = rep.to_html()
    check(html_text)
    assert "<caption>Segments &lt;all&gt;</caption>" in html_text
    assert "<td>&lt;Champions&gt;</td>" in html_text
    assert "<td>Lost &amp; found</td>" in html_text
    assert '<td class="num">12,000</td>' in html_text
    assert '<td class="num">1,234.50</td>' in html_text
    assert '<td class="num na">—</td>' in html_text
    assert '<td class="num">12.5%</td>' in html_text
    assert '<th scope="col" class="num">customers</th>' in html_text
    assert '<th scope="row">a</th>' in html_text and '<th scope="col">cell</th>' in html_text
    assert "Showing" not in html_text


def test_table_cuts_long_frames_and_says_so():
    df = pd.DataFrame({"x": np.arange(1234)})
    rep = report.Report("R")
    rep.section("S").table(df)
    html_text = rep.to_html()
    assert body_rows(html_text) == 50
    assert re.search(r"showing 50 of 1,234 rows", html_text, re.IGNORECASE)
    rep = report.Report("R")
    rep.section("S").table(df, max_rows=None)
    assert body_rows(rep.to_html()) == 1234


def test_table_options():
    df = pd.DataFrame({"v": [1.23456], "when": [pd.Timestamp("2024-03-01")]}, index=[7])
    rep = report.Report("R")
    rep.section("S").table(df, float_format="{:.3f}", index=False)
    html_text = rep.to_html()
    assert '<td class="num">1.235</td>' in html_text
    assert "<td>2024-03-01</td>" in html_text
    assert 'scope="row"' not in html_text and ">7<" not in html_text


def test_empty_table_renders_a_placeholder_row():
    rep = report.Report("R")
    rep.section("S").table(pd.DataFrame({"a": []}))
    html_text = rep.to_html()
    check(html_text)
    assert "No rows" in html_text


@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"percent_columns": ["missing"]}, ValueError, "percent_columns"),
        ({"percent_columns": "missing"}, ValueError, "percent_columns"),
        ({"float_format": "{:d}"}, ValueError, "float_format"),
        ({"max_rows": 0}, ValueError, "max_rows"),
    ],
)
def test_table_rejects_bad_arguments(kwargs, error, argument):
    sec = report.Report("R").section("S")
    with pytest.raises(error, match=argument):
        sec.table(pd.DataFrame({"a": [1.0]}), **kwargs)
    with pytest.raises(TypeError, match="df"):
        sec.table([[1, 2]])


def test_figure_embeds_svg_verbatim_with_caption():
    rep = report.Report("R")
    rep.section("S").figure('<?xml version="1.0"?>\n' + SVG, caption="Map & legend")
    html_text = rep.to_html()
    check(html_text)
    assert SVG in html_text and "<?xml" not in html_text
    assert "<figcaption>Map &amp; legend</figcaption>" in html_text
    with pytest.raises(ValueError, match="svg"):
        rep.section("T").figure("<div>not svg</div>")


def test_notes_have_kinds():
    rep = report.Report("R")
    sec = rep.section("S").note("info text").note("careful", kind="warning")
    html_text = rep.to_html()
    assert 'class="note note-info"' in html_text and 'class="note note-warning"' in html_text
    assert "Warning:" in html_text
    with pytest.raises(ValueError, match="kind"):
        sec.note("x", kind="error")


def test_write_round_trips_utf8(tmp_path, sample):
    sample.section("Ünïcödé ★").paragraph("€ — “quotes”")
    target = tmp_path / "report.html"
    written = sample.write(target)
    assert isinstance(written, pathlib.Path) and written == target
    assert target.read_bytes().decode("utf-8") == sample.to_html()
    assert "€ — “quotes”" in target.read_text(encoding="utf-8")
    assert sample.write(str(tmp_path / "again.html")).read_text(encoding="utf-8") == sample.to_html()


def test_report_rejects_empty_title():
    with pytest.raises(ValueError, match="title"):
        report.Report("")
    with pytest.raises(ValueError, match="title"):
        report.Report("R").section(" ")


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------


def fake_clock(*times: float):
    return iter(times).__next__


def test_progress_prints_one_timed_line_per_stage():
    out = io.StringIO()
    steps = report.Progress(3, stream=out, clock=fake_clock(0.0, 0.4, 1.0, 3.25, 10.0, 85.0))
    with steps.stage("Loading orders"):
        pass
    with steps.stage("Computing RFM segments"):
        pass
    with steps.stage("Writing report"):
        pass
    assert out.getvalue().splitlines() == [
        "[1/3] Loading orders ... done (0.4 s)",
        "[2/3] Computing RFM segments ... done (2.2 s)",
        "[3/3] Writing report ... done (1 min 15 s)",
    ]
    assert steps.completed == 3
    assert [name for name, _ in steps.timings] == ["Loading orders", "Computing RFM segments", "Writing report"]


def test_progress_with_real_clock_has_timing():
    out = io.StringIO()
    steps = report.Progress(1, stream=out)
    with steps.stage("Work"):
        sum(range(1000))
    assert re.fullmatch(r"\[1/1\] Work \.\.\. done \(\d+\.\d s\)\n", out.getvalue())


def test_progress_pads_the_counter_for_ten_or_more_stages():
    out = io.StringIO()
    steps = report.Progress(12, stream=out, clock=fake_clock(0.0, 0.1))
    with steps.stage("First"):
        pass
    assert out.getvalue() == "[ 1/12] First ... done (0.1 s)\n"


def test_progress_reports_failure_and_reraises():
    out = io.StringIO()
    steps = report.Progress(2, stream=out, clock=fake_clock(0.0, 0.2))
    with pytest.raises(KeyError), steps.stage("Broken"):
        raise KeyError("x")
    assert out.getvalue() == "[1/2] Broken ... failed (0.2 s)\n"


def test_progress_disabled_prints_nothing():
    out = io.StringIO()
    steps = report.Progress(2, stream=out, enabled=False)
    with steps.stage("A"):
        pass
    assert out.getvalue() == ""
    assert steps.completed == 1


def test_progress_refuses_more_stages_than_declared():
    steps = report.Progress(1, stream=io.StringIO())
    with steps.stage("A"):
        pass
    with pytest.raises(RuntimeError, match="1 stages"), steps.stage("B"):
        pass
    with pytest.raises(ValueError, match="total_stages"):
        report.Progress(0)


def test_progress_function_for_stages_prints_label_first():
    out = io.StringIO()
    steps = report.progress(2, label="crmine report", stream=out, enabled=True)
    assert isinstance(steps, report.Progress)
    with steps.stage("RFM"):
        pass
    lines = out.getvalue().splitlines()
    assert lines[0] == "crmine report"
    assert re.fullmatch(r"\[1/2\] RFM \.\.\. done \(\d+\.\d s\)", lines[1])


def test_progress_function_wraps_iterables():
    out = io.StringIO()
    items = list(report.progress(range(5), label="Scoring", stream=out, enabled=True))
    assert items == [0, 1, 2, 3, 4]
    assert re.fullmatch(r"Scoring \.\.\. done \(5 items, \d+\.\d s\)\n", out.getvalue())

    out = io.StringIO()
    for k in report.progress((i for i in range(10)), label="Gen", stream=out, enabled=True):
        if k == 2:
            break
    assert re.fullmatch(r"Gen \.\.\. stopped after 2 items \(\d+\.\d s\)\n", out.getvalue())


def test_progress_function_auto_disables_when_not_a_terminal(capsys):
    out = io.StringIO()  # not a TTY
    assert list(report.progress([1, 2], label="Quiet", stream=out)) == [1, 2]
    steps = report.progress(1, label="Quiet", stream=out)
    with steps.stage("A"):
        pass
    assert out.getvalue() == ""
    with report.progress(1, label="Loud", enabled=True).stage("A"):
        pass
    assert "[1/1] A ... done" in capsys.readouterr().err
