"""The end-to-end example of docs/python.md runs as written."""

import os
import re

import pytest

from conftest import REPO

pytest.importorskip("transformers")


def test_the_end_to_end_example_runs(tmp_path, capsys):
    text = (REPO / "docs" / "python.md").read_text()
    section = text[text.index("### End to end"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "docs/python.md", "exec"), {"__name__": "docs_example"})
    finally:
        os.chdir(cwd)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "<semid.Index 'items.semid': 2000 items, ID length 4>"
    assert len(printed) == 3 and printed[1].startswith("['product ")
