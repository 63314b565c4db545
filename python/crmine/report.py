# SPDX-License-Identifier: Apache-2.0
"""Self-contained HTML report builder and a small stage-progress printer for crmine."""

from __future__ import annotations

import datetime as _dt
import html
import numbers
import pathlib
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

import numpy as np
import pandas as pd

__all__ = ["Progress", "Report", "Section", "progress"]

_CSS = """
:root {
  --fg: #1f2933; --muted: #52606d; --border: #d9e2ec; --soft: #f5f7fa;
  --accent: #0b5cad; --warn: #b45309;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: #ffffff; color: var(--fg);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.page { max-width: 1060px; margin: 0 auto; padding: 40px 32px 56px; }
.report-header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 24px; }
.report-header h1 { font-size: 28px; line-height: 1.2; margin: 0 0 4px; letter-spacing: -0.01em; }
.subtitle { color: var(--muted); font-size: 16px; margin: 0; }
nav.toc {
  background: var(--soft); border: 1px solid var(--border); border-radius: 6px;
  padding: 12px 20px 12px 16px; margin: 0 0 36px;
}
nav.toc h2 {
  font-size: 12px; text-transform: uppercase; letter-spacing: 0.08em;
  color: var(--muted); margin: 0 0 6px; border: 0; padding: 0;
}
nav.toc ol { margin: 0; padding-left: 24px; columns: 2; column-gap: 32px; }
nav.toc li { break-inside: avoid; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
section.report-section { margin: 0 0 44px; }
section.report-section > h2 {
  font-size: 21px; line-height: 1.3; margin: 0 0 12px; padding-bottom: 6px;
  border-bottom: 1px solid var(--border);
}
.secnum { color: var(--muted); font-weight: 500; margin-right: 6px; }
.intro { color: var(--muted); margin: 0 0 14px; }
p { margin: 0 0 12px; }
.metrics { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0 20px; }
.metric {
  flex: 1 1 150px; border: 1px solid var(--border); border-radius: 6px;
  padding: 10px 14px; background: #ffffff; border-top: 3px solid var(--accent);
}
.metric-label {
  font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted);
}
.metric-value { font-size: 24px; font-weight: 600; line-height: 1.25; font-variant-numeric: tabular-nums; }
.table-block { margin: 16px 0 22px; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 6px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--border); text-align: left; vertical-align: top; }
thead th { background: var(--soft); border-bottom: 2px solid #9aa5b1; font-weight: 600; white-space: nowrap; }
tbody th { font-weight: 500; }
tbody tr:nth-child(even) { background: #fafbfc; }
.num { text-align: right; white-space: nowrap; }
.na { color: #9aa5b1; }
.table-note { font-size: 12.5px; color: var(--muted); margin: 6px 0 0; }
figure { margin: 18px 0 26px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; }
.note {
  border-left: 4px solid var(--accent); background: #eef5fc; border-radius: 0 6px 6px 0;
  padding: 10px 14px; margin: 16px 0;
}
.note-warning { border-left-color: var(--warn); background: #fff7e6; }
.note-label { font-weight: 600; margin-right: 6px; }
.report-footer {
  color: var(--muted); font-size: 12px; border-top: 1px solid var(--border);
  padding-top: 10px; margin-top: 48px;
}
@media (max-width: 640px) {
  .page { padding: 24px 16px; }
  nav.toc ol { columns: 1; }
}
@media print {
  @page { margin: 15mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10.5pt; }
  .page { max-width: none; padding: 0; }
  a { color: inherit; }
  section.report-section > h2 { break-after: avoid; }
  figure, .metrics, .note, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .table-scroll { overflow: visible; }
  section.report-section { margin-bottom: 24px; }
  figure { margin: 12px 0 16px; }
  .report-footer { margin-top: 12px; }
}
""".strip()


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _check_text(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:48].strip("-")


def _is_missing(value: Any) -> bool:
    try:
        result = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return bool(result) if np.ndim(result) == 0 else False


def _format_cell(value: Any, *, percent: bool, float_format: str) -> str:
    """Render one table value as text (unescaped)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real) and percent:
        return f"{float(value):.1%}"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return float_format.format(float(value))
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def _column_name(name: Any) -> str:
    if isinstance(name, tuple):
        return " / ".join(str(part) for part in name if str(part) != "")
    return str(name)


def _is_numeric_dtype(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


class Section:
    """One titled part of a :class:`Report`; create it with :meth:`Report.section`.

    Every method appends a block in call order and returns the section, so
    calls can be chained.
    """

    def __init__(self, title: str, intro: str | None, anchor: str) -> None:
        self.title = title
        self.intro = intro
        self.anchor = anchor
        self._blocks: list[str] = []

    def paragraph(self, text: str) -> Section:
        """Append a paragraph of plain text (HTML is escaped, not interpreted).

        Parameters
        ----------
        text : str
            The paragraph text.

        Returns
        -------
        Section
            This section.
        """
        _check_text(text, "text")
        self._blocks.append(f"<p>{_esc(text)}</p>")
        return self

    def metrics(self, items: Mapping[str, Any]) -> Section:
        """Append a row of headline figures such as ``{"Customers": "5,000"}``.

        Parameters
        ----------
        items : mapping of str to str
            Label to already formatted value. Numbers are accepted too and
            shown with thousands separators (floats with two decimals).

        Returns
        -------
        Section
            This section.

        Raises
        ------
        ValueError
            If ``items`` is empty or not a mapping.
        """
        if not isinstance(items, Mapping) or not items:
            raise ValueError("items must be a non-empty mapping of label to value")
        cards = []
        for label, value in items.items():
            if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
                value = f"{int(value):,}"
            elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
                value = f"{float(value):,.2f}"
            cards.append(
                '<div class="metric">'
                f'<div class="metric-label">{_esc(label)}</div>'
                f'<div class="metric-value">{_esc(value)}</div>'
                "</div>"
            )
        self._blocks.append(f'<div class="metrics">{"".join(cards)}</div>')
        return self

    def table(
        self,
        df: pd.DataFrame,
        *,
        caption: str | None = None,
        max_rows: int | None = 50,
        float_format: str = "{:,.2f}",
        percent_columns: Iterable[Any] = (),
        index: bool = True,
    ) -> Section:
        """Append a DataFrame as an HTML table.

        Text is escaped, numeric columns are right-aligned, missing values
        show as an em dash, and a note says "Showing 50 of N rows" when the
        table is cut.

        Parameters
        ----------
        df : pandas.DataFrame
            The data.
        caption : str, optional
            Caption shown above the table.
        max_rows : int or None, default 50
            Show at most this many leading rows; ``None`` shows all.
        float_format : str, default "{:,.2f}"
            ``str.format`` pattern for floats.
        percent_columns : iterable, default ()
            Columns holding fractions to show as percentages (0.125 -> "12.5%").
        index : bool, default True
            Include the index as leading header cells.

        Returns
        -------
        Section
            This section.

        Raises
        ------
        TypeError
            If ``df`` is not a DataFrame.
        ValueError
            If ``max_rows`` is not positive, ``float_format`` cannot format a
            float or a name in ``percent_columns`` is not a column.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"df must be a pandas DataFrame, got {type(df).__name__}")
        if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1):
            raise ValueError(f"max_rows must be a positive integer or None, got {max_rows!r}")
        if not isinstance(float_format, str):
            raise TypeError(f"float_format must be a str.format pattern, got {float_format!r}")
        try:
            float_format.format(1234.5)
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"float_format {float_format!r} cannot format a float: {exc}") from exc
        # A bare string would otherwise be read as a collection of characters.
        wanted = [percent_columns] if isinstance(percent_columns, str) else list(percent_columns)
        unknown = [c for c in wanted if c not in df.columns]
        if unknown:
            raise ValueError(f"percent_columns names columns not in df: {unknown}")
        _check_text(caption, "caption", optional=True)

        n_rows = len(df)
        shown = df if max_rows is None else df.iloc[:max_rows]
        percent_at = [c in wanted for c in df.columns]
        numeric_at = [_is_numeric_dtype(dtype) for dtype in df.dtypes]
        index_frame = shown.index.to_frame(index=False) if index else None

        head = []
        if index_frame is not None:
            for k, name in enumerate(shown.index.names):
                cls = ' class="num"' if _is_numeric_dtype(index_frame.dtypes.iloc[k]) else ""
                head.append(f'<th scope="col"{cls}>{_esc("" if name is None else name)}</th>')
        for col, numeric in zip(df.columns, numeric_at):
            cls = ' class="num"' if numeric else ""
            head.append(f'<th scope="col"{cls}>{_esc(_column_name(col))}</th>')

        def cell(tag: str, value: Any, numeric: bool, percent: bool, extra: str = "") -> str:
            classes = ["num"] if numeric else []
            if _is_missing(value):
                classes.append("na")
                text = "—"
            else:
                text = _format_cell(value, percent=percent, float_format=float_format)
            cls = f' class="{" ".join(classes)}"' if classes else ""
            return f"<{tag}{extra}{cls}>{_esc(text)}</{tag}>"

        body = []
        for pos in range(len(shown)):
            cells = []
            if index_frame is not None:
                for k in range(index_frame.shape[1]):
                    numeric = _is_numeric_dtype(index_frame.dtypes.iloc[k])
                    cells.append(cell("th", index_frame.iat[pos, k], numeric, False, ' scope="row"'))
            for k in range(df.shape[1]):
                cells.append(cell("td", shown.iat[pos, k], numeric_at[k], percent_at[k] and numeric_at[k]))
            body.append(f"<tr>{''.join(cells)}</tr>")
        if not body:
            span = len(head) or 1
            body.append(f'<tr><td colspan="{span}" class="na">No rows</td></tr>')

        parts = ['<div class="table-block"><div class="table-scroll"><table>']
        if caption:
            parts.append(f"<caption>{_esc(caption)}</caption>")
        if head:
            parts.append(f"<thead><tr>{''.join(head)}</tr></thead>")
        parts.append(f"<tbody>{''.join(body)}</tbody></table></div>")
        if len(shown) < n_rows:
            parts.append(f'<p class="table-note">Showing {len(shown):,} of {n_rows:,} rows.</p>')
        parts.append("</div>")
        self._blocks.append("".join(parts))
        return self

    def figure(self, svg: str, caption: str | None = None) -> Section:
        """Append an inline SVG chart, e.g. from :mod:`crmine.plot`.

        The markup is inserted verbatim, so pass only SVG you generated.

        Parameters
        ----------
        svg : str
            An ``<svg>...</svg>`` string (an XML declaration before it is dropped).
        caption : str, optional
            Caption shown under the figure.

        Returns
        -------
        Section
            This section.

        Raises
        ------
        ValueError
            If ``svg`` is not an SVG element.
        """
        if not isinstance(svg, str):
            raise TypeError(f"svg must be a string of SVG markup, got {type(svg).__name__}")
        markup = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg).strip()
        if not (markup.startswith("<svg") and markup.endswith("</svg>")):
            raise ValueError("svg must be a single <svg>...</svg> element")
        _check_text(caption, "caption", optional=True)
        caption_html = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        self._blocks.append(f'<figure class="chart">{markup}{caption_html}</figure>')
        return self

    def note(self, text: str, kind: str = "info") -> Section:
        """Append a highlighted note.

        Parameters
        ----------
        text : str
            Plain text (escaped).
        kind : {"info", "warning"}, default "info"
            Styling and the leading "Note:" or "Warning:" label.

        Returns
        -------
        Section
            This section.

        Raises
        ------
        ValueError
            If ``kind`` is not "info" or "warning".
        """
        _check_text(text, "text")
        if kind not in ("info", "warning"):
            raise ValueError(f"kind must be 'info' or 'warning', got {kind!r}")
        label = "Note:" if kind == "info" else "Warning:"
        role = ' role="note"' if kind == "info" else ' role="alert"'
        self._blocks.append(
            f'<div class="note note-{kind}"{role}><span class="note-label">{label}</span>{_esc(text)}</div>'
        )
        return self

    def _to_html(self, number: int) -> str:
        intro = f'<p class="intro">{_esc(self.intro)}</p>' if self.intro else ""
        return (
            f'<section class="report-section" id="{self.anchor}">'
            f'<h2><span class="secnum">{number}.</span>{_esc(self.title)}</h2>'
            f"{intro}{''.join(self._blocks)}</section>"
        )


class Report:
    """A single-file HTML report: title, table of contents and numbered sections.

    The output has inline CSS only (no scripts, fonts or external files), so
    it can be mailed, archived or printed as is.

    Parameters
    ----------
    title : str
        Report title, also the document ``<title>``.
    subtitle : str, optional
        A line under the title, e.g. the data source and date range.

    Examples
    --------
    >>> report = Report("Customer analysis", "Orders 2023")
    >>> _ = report.section("Overview").metrics({"Customers": "5,000"})
    >>> "<nav" in report.to_html()
    True
    """

    def __init__(self, title: str, subtitle: str | None = None) -> None:
        if not isinstance(title, str) or not title.strip():
            raise ValueError("title must be a non-empty string")
        _check_text(subtitle, "subtitle", optional=True)
        self.title = title
        self.subtitle = subtitle
        self._sections: list[Section] = []

    @property
    def sections(self) -> tuple[Section, ...]:
        """Sections in the order they were added."""
        return tuple(self._sections)

    def section(self, title: str, intro: str | None = None) -> Section:
        """Add a section at the end and return it for filling.

        Parameters
        ----------
        title : str
            Section heading, listed in the table of contents.
        intro : str, optional
            A short lead paragraph under the heading.

        Returns
        -------
        Section
            The new section.
        """
        if not isinstance(title, str) or not title.strip():
            raise ValueError("title must be a non-empty string")
        _check_text(intro, "intro", optional=True)
        number = len(self._sections) + 1
        # The number prefix keeps ids unique and valid even for repeated or non-Latin titles.
        slug = _slug(title)
        anchor = f"s{number}-{slug}" if slug else f"s{number}"
        section = Section(title, intro, anchor)
        self._sections.append(section)
        return section

    def to_html(self) -> str:
        """Render the whole report as an HTML5 document string."""
        subtitle = f'<p class="subtitle">{_esc(self.subtitle)}</p>' if self.subtitle else ""
        toc = ""
        if self._sections:
            items = "".join(f'<li><a href="#{s.anchor}">{_esc(s.title)}</a></li>' for s in self._sections)
            toc = f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'
        body = "\n".join(s._to_html(k) for k, s in enumerate(self._sections, start=1))
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="generator" content="crmine">\n'
            f"<title>{_esc(self.title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n"
            '<body>\n<div class="page">\n'
            f'<header class="report-header"><h1>{_esc(self.title)}</h1>{subtitle}</header>\n'
            f"{toc}\n<main>\n{body}\n</main>\n"
            '<footer class="report-footer">Generated with crmine.</footer>\n'
            "</div>\n</body>\n</html>\n"
        )

    def write(self, path: str | pathlib.Path) -> pathlib.Path:
        """Write the report as UTF-8 HTML.

        Parameters
        ----------
        path : str or pathlib.Path
            Destination file; its directory must exist.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        target = pathlib.Path(path)
        target.write_text(self.to_html(), encoding="utf-8")
        return target


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------


def _format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class Progress:
    """Print one line per pipeline stage with its duration.

    Each stage prints ``[2/6] Computing RFM segments ... `` when it starts
    (so a slow stage shows what is running) and ``done (0.4 s)`` or
    ``failed (0.4 s)`` when it ends.

    Parameters
    ----------
    total_stages : int
        Number of stages that will run.
    stream : text stream, optional
        Where to print; ``None`` means ``sys.stderr`` at the time of printing.
    enabled : bool, default True
        When False nothing is printed (stages are still counted).
    label : str, optional
        A heading printed once before the first stage.
    clock : callable, default time.perf_counter
        Source of seconds; replaceable for tests.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> steps = Progress(2, stream=out, clock=iter([0.0, 0.4, 0.4, 1.0]).__next__)
    >>> with steps.stage("Loading orders"):
    ...     pass
    >>> out.getvalue()
    '[1/2] Loading orders ... done (0.4 s)\\n'
    """

    def __init__(
        self,
        total_stages: int,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        label: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if isinstance(total_stages, bool) or not isinstance(total_stages, int) or total_stages < 1:
            raise ValueError(f"total_stages must be a positive integer, got {total_stages!r}")
        self.total_stages = total_stages
        self.enabled = bool(enabled)
        self.label = label
        self._stream = stream
        self._clock = clock
        self._started = 0
        self._timings: list[tuple[str, float]] = []

    @property
    def completed(self) -> int:
        """Number of stages that have finished (successfully or not)."""
        return len(self._timings)

    @property
    def timings(self) -> list[tuple[str, float]]:
        """``(stage name, seconds)`` for every finished stage, in order."""
        return list(self._timings)

    def _write(self, text: str) -> None:
        if self.enabled:
            stream = sys.stderr if self._stream is None else self._stream
            stream.write(text)
            stream.flush()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage and report it.

        Parameters
        ----------
        name : str
            What the stage does, e.g. "Computing RFM segments".

        Raises
        ------
        RuntimeError
            If more stages are started than ``total_stages`` (a miscount would
            make the ``[k/n]`` counter lie).
        """
        if self._started >= self.total_stages:
            raise RuntimeError(f"stage {name!r} exceeds the {self.total_stages} stages declared")
        if self._started == 0 and self.label:
            self._write(f"{self.label}\n")
        self._started += 1
        width = len(str(self.total_stages))
        self._write(f"[{self._started:>{width}}/{self.total_stages}] {name} ... ")
        start = self._clock()
        outcome = "failed"
        try:
            yield
            outcome = "done"
        finally:
            elapsed = self._clock() - start
            self._timings.append((name, elapsed))
            self._write(f"{outcome} ({_format_seconds(elapsed)})\n")


def _iterate(
    items: Iterable[Any], label: str, stream: TextIO, enabled: bool, clock: Callable[[], float]
) -> Iterator[Any]:
    try:
        total: int | None = len(items)  # type: ignore[arg-type]
    except TypeError:
        total = None
    live = enabled and _isatty(stream)
    start = last_draw = clock()
    count = 0
    finished = False

    def counter() -> str:
        return f"{count:,}/{total:,}" if total is not None else f"{count:,}"

    try:
        for item in items:
            yield item
            count += 1
            # Redraw in place at most ten times a second; logs get only the final line.
            if live and clock() - last_draw >= 0.1:
                last_draw = clock()
                stream.write(f"\r{label} ... {counter()}")
                stream.flush()
        finished = True
    finally:
        if enabled:
            elapsed = _format_seconds(clock() - start)
            if finished:
                line = f"{label} ... done ({count:,} items, {elapsed})"
            else:
                line = f"{label} ... stopped after {counter()} items ({elapsed})"
            # Trailing spaces wipe what a longer in-place counter left behind.
            stream.write(("\r" + line + " " * 8 if live else line) + "\n")
            stream.flush()


def progress(
    iterable_or_total: Iterable[Any] | int,
    *,
    label: str,
    stream: TextIO | None = None,
    enabled: bool | None = None,
) -> Progress | Iterator[Any]:
    """Report progress of pipeline stages or of a loop.

    Parameters
    ----------
    iterable_or_total : int or iterable
        An ``int`` gives a :class:`Progress` for that many stages (use its
        :meth:`Progress.stage` context manager). An iterable is wrapped in a
        generator that yields its items and prints
        ``"<label> ... done (N items, 1.2 s)"`` at the end, with a live
        counter on an interactive terminal.
    label : str
        Heading for the stages, or the name of the loop.
    stream : text stream, optional
        Destination; ``None`` means ``sys.stderr``.
    enabled : bool, optional
        ``None`` (default) prints only when ``stream`` is a terminal, so
        redirected output and pipes stay clean; True or False forces it.

    Returns
    -------
    Progress or iterator
        See ``iterable_or_total``.

    Examples
    --------
    >>> steps = progress(6, label="crmine report", enabled=False)
    >>> with steps.stage("Computing RFM segments"):
    ...     pass
    """
    stream = sys.stderr if stream is None else stream
    if enabled is None:
        enabled = _isatty(stream)
    if isinstance(iterable_or_total, bool):
        raise TypeError("iterable_or_total must be a stage count or an iterable, not a bool")
    if isinstance(iterable_or_total, numbers.Integral):
        return Progress(int(iterable_or_total), stream=stream, enabled=enabled, label=label)
    if not isinstance(iterable_or_total, Iterable):
        raise TypeError(f"iterable_or_total must be an int or an iterable, got {type(iterable_or_total).__name__}")
    return _iterate(iterable_or_total, label, stream, enabled, time.perf_counter)
