"""The paper profile end to end at tiny scale: a synthetic WoS Data.txt in the published layout
and a synthetic meta_Beauty.json.gz, built and loaded by name, every row of the paper's tables
trained by the grid (a tiny random BERT, one epoch) into the tables."""

import gzip
import json
import os
import time

import pytest

from htclib.data import wos
from htclib.lab import profiles
from tests.conftest import tiny_workspace

pytestmark = pytest.mark.integration


def test_the_paper_profile_plans_every_row_of_tables_2_and_3():
    p = profiles.get_profile("paper")
    assert p.datasets == ["wos", "amazon-beauty"] and p.selection == "hgclr"
    assert p.encoder == "bert-base-uncased" and p.batch_size == 48 and len(p.seeds) >= 3
    _, cfgs = profiles.grid_plan("paper")
    rows = {c.name.rsplit("/", 1)[0] for c in cfgs}
    for row in ("wos/cls", "wos/spp-P30", "wos/local-non-10-20", "wos/local-transform-10-20",
                "wos/local-copy-10-20", "wos/local-copy-10-30", "wos/spp-P30-cl-simcse",
                "amazon-beauty/cls", "amazon-beauty/spp-P30",
                "amazon-beauty/spp-P30-cl-simcse"):  # fmt: skip
        assert row in rows, row
    assert all(c.train.selection == "hgclr" and c.train.patience == 6 for c in cfgs)


def _wos_table(folder, n=240):
    # real (domain, area, Y1, Y2) of the published table: the protocol merges by its counts
    areas = [("CS", "Computer vision", "0", "0"), ("ECE", "Operational amplifier", "1", "15"),
             ("biochemistry", "Molecular biology", "6", "0"),
             ("biochemistry", "Immunology", "6", "3")]  # fmt: skip
    lines = ["\t".join(wos.WOS_COLUMNS)]
    for i in range(n):
        d, a, y1, y2 = areas[i % 4]
        lines.append(f"{y1}\t{y2}\t0\t{d}\t{a}\tkw\ttop{i % 2} sub{i % 4} w{i % 7} text {i}")
    (folder / "wos").mkdir(parents=True)
    (folder / "wos" / "Data.txt").write_text("\r\n".join(lines) + "\r\n")


def _beauty_meta(path, n=120):
    cats = [["Beauty", "Skin Care", "Face"], ["Beauty", "Skin Care", "Body"],
            ["Beauty", "Hair Care", "Shampoos"], ["Beauty", "Makeup", "Eyes", "Mascara"]]  # fmt: skip
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for i in range(n):
            d = {"asin": f"B{i:05d}", "title": f"top{i % 2} sub{i % 4} w{i % 5} product {i}",
                 "categories": [cats[i % 4]]}  # fmt: skip
            f.write(repr(d) + "\n")


@pytest.fixture
def profiles_restored(monkeypatch):
    # a profile file registers itself by name and in $HTCLIB_PROFILES: undo both afterwards
    monkeypatch.setenv(profiles.PROFILES_ENV, "")
    before = dict(profiles.PROFILES)
    yield
    profiles.PROFILES.clear()
    profiles.PROFILES.update(before)


def test_a_profile_file_names_its_errors(tmp_path, profiles_restored):
    f = tmp_path / "mine.json"
    f.write_text(json.dumps({"base": "paper", "name": "mine", "max_epochs": 2, "bogus": 1}))
    with pytest.raises(ValueError, match=r"mine.json: \['bogus'\] are not Profile fields"):
        profiles.get_profile(str(f))
    f.write_text(json.dumps({"base": "nope", "name": "mine"}))
    with pytest.raises(ValueError, match="mine.json: base 'nope' is not a profile"):
        profiles.get_profile(str(f))
    f.write_text(json.dumps({"base": "paper", "name": "mine", "max_epochs": 2}))
    assert profiles.get_profile(str(f)).max_epochs == 2 and "mine" in profiles.PROFILES
    assert str(f.resolve()) in os.environ[profiles.PROFILES_ENV]


# one epoch of a tiny random BERT at the paper's CL lr collapses, as the warning says: expected
@pytest.mark.filterwarnings("ignore:contrastive pre-training. the loss sat:UserWarning")
def test_paper_profile_end_to_end_through_ray_into_tables_and_notebooks(
    tmp_path, monkeypatch, profiles_restored
):
    """Download (found here), every row of the tiny paper profile as Ray tasks on 2 local
    workers, the tables written by the grid's report in a fresh interpreter, and notebooks 03
    and 06 executed from the records: each of those processes knows the profile from its file."""
    pytest.importorskip("ray")
    from htclib.data.amazon import build_amazon_beauty
    from htclib.lab import grid, run

    (tmp_path / "ws").mkdir()
    work = tiny_workspace(tmp_path / "ws")
    data = tmp_path / "data"
    _wos_table(data)
    _beauty_meta(tmp_path / "meta_Beauty.json.gz")
    build_amazon_beauty(tmp_path / "meta_Beauty.json.gz", data / "amazon-beauty", progress=False)
    monkeypatch.setenv("HTCLIB_DATA", str(data))
    assert grid.fetch("wos") == "found" and grid.fetch("amazon-beauty") == "found"
    with pytest.raises(FileNotFoundError, match="cannot download"):
        grid.fetch("no-such-set")
    tiny = {
        "base": "paper", "name": "paper-tiny", "encoder": str(work / "enc"),
        "max_length": {"wos": 24, "amazon-beauty": 16}, "max_epochs": 1, "patience": 1,
        "batch_size": 16, "seeds": [0], "global_lengths": [4], "sweep_lengths": [2, 4],
        "local_lengths": {"wos": [[2, 4]]}, "cl_epochs": 1, "cl_batch_size": 16,
    }  # fmt: skip
    prof = tmp_path / "paper-tiny.json"
    prof.write_text(json.dumps(tiny))
    out = tmp_path / "out"
    t0 = time.perf_counter()
    argv = ["--profile", str(prof), "--out", str(out), "--download", "--engine", "ray"]
    assert grid.main(argv) == 0
    t_grid = time.perf_counter() - t0
    results = out / "results" / "paper-tiny"
    _, cfgs = profiles.grid_plan("paper-tiny")
    assert len(cfgs) >= 10
    assert all((results / "runs" / c.key() / "result.json").exists() for c in cfgs)
    md = (results / "results.md").read_text()  # written by the grid's report subprocess
    assert "## wos" in md and "## amazon-beauty" in md
    for row in ("| cls |", "| spp |", "| local |", "| spp+cl |"):
        assert row in md, row
    assert "+hgclr" in md  # every row says which checkpoint rule it used
    assert "SPP >= CLS-tuning" in md and "CL -> BCE beats BCE" in md
    t1 = time.perf_counter()
    argv = ["--profile", str(prof), "--records-only", "--only", "03", "--only", "06"]
    assert run.main([*argv, "--out", str(out)]) == 0
    figures = sorted(p.name for p in (out / "figures" / "paper-tiny").glob("*.png"))
    assert "03_f1_vs_prefix_length.png" in figures and "06_claims.png" in figures, figures
    print(f"ray grid: {len(cfgs)} runs in {t_grid:.0f} s; notebooks 03 and 06: "
          f"{time.perf_counter() - t1:.0f} s")  # fmt: skip
