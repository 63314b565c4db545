# SPDX-License-Identifier: Apache-2.0
"""Every Python example in the README and docs/user runs as written.

A page's examples run in order in one namespace, as a reader would run them in one notebook.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "user").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc_example__"}
    for k, code in enumerate(blocks):
        exec(compile(code, f"<{page.name} example {k}>", "exec"), namespace)
