# SPDX-License-Identifier: Apache-2.0
"""Specification of the ``crmine report`` command."""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest

from crmine import cli


class _Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h2, self._in = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._in = True
            self.h2.append("")

    def handle_data(self, data):
        if self._in:
            self.h2[-1] += data

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in = False


def headings(html: str) -> str:
    parser = _Headings()
    parser.feed(html)
    return " | ".join(parser.h2)


def test_sample_report_has_every_section(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert cli.main(["report", "--sample", "--sample-customers", "800", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    for section in ("Overview", "RFM segments", "Customer value and contribution", "Cohort retention"):
        assert section in headings(html)
    assert html.count("<svg") >= 4  # segment map, revenue bars, Pareto curve, cohort heatmaps
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained
    progress = capsys.readouterr().err
    stages = len(cli.SECTIONS) + 3  # reading, summarising, the sections, writing
    assert re.search(rf"\[ *1/{stages}\] Reading data \.\.\. done", progress)
    assert f"[{stages}/{stages}] Writing report ... done" in progress and "Report written to" in progress


def test_report_on_a_csv_with_caller_column_names(tmp_path, small_log):
    path = tmp_path / "log.csv"
    small_log.rename(columns={"customer_id": "cust", "date": "when", "amount": "value"}).to_csv(path, index=False)
    out = tmp_path / "r.html"
    assert cli.main(["report", str(path), "--customer", "cust", "--time", "when", "--amount", "value",
                     "--cost", "cost", "-o", str(out), "-q"]) == 0
    assert "Unprofitable customers" in out.read_text(encoding="utf-8")


def test_report_from_parquet_with_quantity_and_price(tmp_path):
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"customer_id": [1, 2, 1], "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
                          "qty": [1, 2, 3], "unit_price": [10.0, 5.0, 2.0]})
    path = tmp_path / "log.parquet"
    frame.to_parquet(path)
    out = tmp_path / "r.html"
    assert cli.main(["report", str(path), "--quantity", "qty", "--price", "unit_price", "-o", str(out), "-q"]) == 0


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path, small_log, capsys):
    path = tmp_path / "log.csv"
    small_log.to_csv(path, index=False)
    assert cli.main(["report", str(path), "--customer", "nope", "-q", "-o", str(tmp_path / "r.html")]) == 2
    assert "column 'nope' is not in the frame" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="does not exist"):
        cli.main(["report", str(tmp_path / "missing.csv")])


def test_console_script_is_installed(tmp_path):
    exe = shutil.which("crmine")
    if exe is None:
        pytest.skip("crmine is not installed as a console script in this environment")
    result = subprocess.run([exe, "report", "--sample", "--sample-customers", "300", "-q", "-o",
                             str(tmp_path / "r.html")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r.html").stat().st_size > 10_000
