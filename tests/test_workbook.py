"""The committed notebooks open on the current cpu results: executed from the committed
records, with nothing volatile in them (CI fails when one is stale)."""

import json
import re

import pytest

from htclib.lab import workbook
from htclib.lab.profiles import NOTEBOOKS

REPO = workbook.REPO


def _nb(name):
    return json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text())


def test_committed_notebooks_are_current():
    """Each notebook's digest (records of its profile, package source, its cells) matches the
    checkout: records landed or code changed since it ran means `make notebooks`."""
    stale = workbook.stale()
    assert not stale, (
        f"stale notebooks {stale}: run `make notebooks` (python -m htclib.workbook) and commit"
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_shows_results_and_nothing_volatile(name):
    nb = _nb(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("outputs") or c["id"] == "parameters-cell" or "parameters" in
               c["metadata"].get("tags", []) for c in code[:1])  # fmt: skip
    shown = [c for c in code if c.get("outputs")]
    assert len(shown) >= 2, "executed from the records: the results are visible on opening"
    assert not workbook.stderr_cells(nb), "a warning or progress bar left in the outputs"
    text = json.dumps(nb)
    assert str(REPO) not in text and not re.search(r"/(work|home|root|tmp)/\w", text)
    assert "papermill" not in nb["metadata"] and workbook.WIDGET_MIME not in text
    assert '"profile = \\"cpu\\"' in text or 'profile = \\"cpu\\"' in text


def test_records_digest_follows_the_records(tmp_path):
    runs = tmp_path / "runs" / "k1"
    runs.mkdir(parents=True)
    (runs / "result.json").write_text("{}")
    a = workbook.records_digest(tmp_path)
    (runs / "history.json").write_text("[]")  # not a record a notebook reads
    assert workbook.records_digest(tmp_path) == a
    (runs / "test_pred.json").write_text("{}")
    assert workbook.records_digest(tmp_path) != a


def test_normalise_drops_what_changes_between_runs():
    nb = {
        "metadata": {"papermill": {"duration": 3}, "kernelspec": {"name": "python3"}},
        "cells": [
            {"cell_type": "code", "metadata": {"papermill": {}, "execution": {}, "tags": ["x"]},
             "outputs": [{"output_type": "display_data",
                          "data": {workbook.WIDGET_MIME: {"model_id": "abc"}, "text/plain": "VBox"}},
                         {"output_type": "stream", "name": "stdout", "text": "kept"},
                         {"output_type": "execute_result", "data": {
                             "text/plain": ["<pandas.io.formats.style.Styler at 0x7fc6dc0ad650>"]}}],
             "source": ""},
        ],
    }  # fmt: skip
    out = workbook.normalise(nb)
    assert out["metadata"] == {"kernelspec": {"name": "python3"}}
    assert out["cells"][0]["metadata"] == {"tags": ["x"]}
    assert [o.get("text") for o in out["cells"][0]["outputs"]] == ["kept", None]
    assert out["cells"][0]["outputs"][1]["data"]["text/plain"] == "<pandas.io.formats.style.Styler>"
