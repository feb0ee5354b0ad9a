"""The WoS protocol of HGCLR/HPT: split membership, name-keyed labels, the merge, the text."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from htclib import data
from htclib.data import DataError, wos
from htclib.training.metrics import decode_best_path

HEADER = "\t".join(wos.WOS_COLUMNS)


def test_split_membership_equals_hgclr_on_46985_rows():
    train, dev, test = wos.wos_split(46985)
    # HGCLR's first test rows (row numbers of Data.txt without its header), from their files.
    assert test[:8] == [539, 27780, 37168, 22575, 17027, 39046, 41483, 32269]
    # Their script step by step, as written there: global seed 7, shuffle a Python list of
    # ids, index the rows with it, then train_test_split(0.2, 0) twice.
    np.random.seed(7)
    ids = [i for i in range(46985)]
    np.random.shuffle(ids)
    rows = np.arange(46985)[ids]
    rest, their_test = train_test_split(rows, test_size=0.2, random_state=0)
    their_train, their_dev = train_test_split(rest, test_size=0.2, random_state=0)
    assert test[:8] == their_test[:8].tolist()
    assert dev[:8] == their_dev[:8].tolist() and train[:8] == their_train[:8].tolist()
    assert (len(train), len(dev), len(test)) == (30070, 7518, 9397)
    assert not set(train) & set(dev) and not set(train) & set(test) and not set(dev) & set(test)
    assert sorted(train + dev + test) == list(range(46985))


def test_split_ignores_global_numpy_state():
    np.random.seed(123)
    a = wos.wos_split(1000)
    np.random.rand(5)
    assert wos.wos_split(1000) == a


def test_normalise_text_by_hand():
    raw = "  \"It's the model's  job; we've   NOT done it, they're sure we'd say \"\"no\"\" and we'll\"  "
    assert (
        wos.normalise_text(raw)
        == "it 's the model 's job; we 've not done it, they 're sure we 'd say \"\"no\"\" and we 'll"
    )
    assert wos.normalise_text("can't") == "ca n't"


def _row(y1, y2, domain, area, text="some abstract"):
    return wos.WosRow(str(y1), str(y2), domain, area, text)


def test_merge_is_order_dependent_like_the_script():
    counts = {"Medical": {"Depression": 130, "Atrial Fibrillation": 294}}
    rows = [
        _row(5, 7, "Medical", "Depression"),  # only itself seen so far: stays
        _row(5, 7, "Medical", "Atrial Fibrillation"),  # the larger name: stays
        _row(5, 7, "Medical", "Depression"),  # now merged into the larger one seen before
    ]
    merged, names = wos.merge_areas(rows, counts)
    assert merged == ["Depression", "Atrial Fibrillation", "Atrial Fibrillation"]
    assert names == {"5-7": ["Depression", "Atrial Fibrillation"]}
    # The first strictly larger name in order of appearance wins, not the largest.
    counts = {
        "ECE": {"Electric motor": 372, "Single-phase electric power": 6, "Satellite radio": 148}
    }
    rows = [
        _row(1, 10, "ECE", a)
        for a in (
            "Satellite radio",
            "Single-phase electric power",
            "Electric motor",
            "Single-phase electric power",
        )
    ]
    assert wos.merge_areas(rows, counts)[0] == [
        "Satellite radio",
        "Satellite radio",
        "Electric motor",
        "Satellite radio",
    ]
    with pytest.raises(wos.WosFormatError, match="row 1: area 'Nope'"):
        wos.merge_areas([_row(1, 1, "ECE", "Nope")], counts)


def test_published_counts_cover_the_full_table():
    counts = wos.area_counts()
    assert sum(sum(v.values()) for v in counts.values()) == wos.FULL_ROWS
    assert len(counts) == 7 and counts["Psychology"]["Depression"] == 380


def _table(tmp_path, rows, name="Data.txt"):
    # the abstract as Excel exports it (quoted, its quotes doubled, where it has one)
    lines = [HEADER] + [
        f"{y1}\t{y2}\t0\t{d} \t {a}  \t kw \t{wos._as_exported(t)}" for y1, y2, d, a, t in rows
    ]
    f = tmp_path / name
    f.write_bytes(("\r\n".join(lines) + "\r\n").encode())  # Windows line ends, as exported
    return f


def test_two_parent_label_is_one_label(tmp_path):
    rows = []
    for i in range(20):
        rows.append((2, 14, "Psychology", "Depression", f"sad mood study {i}"))
        rows.append((5, 7, "Medical", "Depression", f"clinical depression trial {i}"))
        rows.append((0, 7, "CS", "Parallel computing", f"gpu cluster work {i}"))
    f = _table(tmp_path, rows)
    ds = data.load("wos", f)
    h = ds.hierarchy
    assert h.keying == "name" and h.sizes == [3, 2]
    dep = h.id_of(("Medical", "Depression"))
    assert h.id_of(("Psychology", "Depression")) == dep
    assert sorted(h.name(p) for p in h.parents[dep]) == ["Medical", "Psychology"]
    assert h.display(dep) == "Medical|Psychology > Depression"
    # Gold keeps the text's own parent; best path picks the likelier parent.
    y = h.encode([[("Medical", "Depression")]])
    assert y[0, h.id_of(("Medical",))] == 1 and y[0, h.id_of(("Psychology",))] == 0
    probs = np.full((1, h.n_labels), 0.1)
    probs[0, [dep, h.id_of(("Psychology",))]] = 0.9
    assert (
        decode_best_path(probs, h)[0].tolist()
        == h.encode([[("Psychology", "Depression")]])[0].tolist()
    )
    assert h.decode(h.encode([[("Psychology", "Depression")]])[0]) == [("Psychology", "Depression")]
    assert type(h).from_json(h.to_json()) == h
    assert ds.train.texts[0] == ds.train.texts[0].lower()


def test_xlsx_and_txt_give_the_same_data(tmp_path):
    import pandas as pd

    rows = [
        (
            i % 2,
            0,
            "CS" if i % 2 == 0 else "ECE",
            "Machine learning" if i % 2 == 0 else "Electricity",
            f"Text {i}'s body" if i % 3 else f'Text {i} is "quoted" here',
        )
        for i in range(30)
    ]
    (tmp_path / "t").mkdir()
    t = _table(tmp_path / "t", rows)
    (tmp_path / "x").mkdir()
    # the xlsx holds the raw text; Data.txt, Excel's export, quotes a field with a quote in it
    assert '""quoted""' in (tmp_path / "t" / "Data.txt").read_text()
    df = pd.DataFrame(
        [[y1, y2, 0, d + " ", " " + a, "kw", txt] for y1, y2, d, a, txt in rows],
        columns=list(wos.WOS_COLUMNS),
    )
    df.to_excel(tmp_path / "x" / "Data.xlsx", index=False)
    a, b = data.load("wos", t), data.load("wos", tmp_path / "x")
    assert a.test.texts == b.test.texts and a.train.texts == b.train.texts
    assert a.train.paths == b.train.paths and a.hierarchy == b.hierarchy
    assert any('""quoted""' in t for t in a.train.texts + a.dev.texts + a.test.texts)


@pytest.mark.skipif(
    not (data.REPO_ROOT.parent / "shared/data/wos/Data1k.tsv").exists(), reason="needs ../shared"
)
def test_the_sample_as_xlsx_gives_the_same_texts(tmp_path):
    """The 1,000 sample rows written to an xlsx as Excel holds them (the export unquoted) read
    back to the same texts as the tsv: its 56 abstracts with a doubled quote included."""
    import csv

    import pandas as pd

    tsv = data.REPO_ROOT.parent / "shared/data/wos/Data1k.tsv"
    with open(tsv, newline="", encoding="utf-8") as f:
        cells = list(csv.reader(f, delimiter="\t"))
    assert sum('"' in r[6] for r in cells[1:]) == 56
    pd.DataFrame(cells[1:], columns=cells[0]).to_excel(tmp_path / "Data.xlsx", index=False)
    a, b = wos.read_wos_table(tsv), wos.read_wos_table(tmp_path / "Data.xlsx")
    assert [wos.normalise_text(r.abstract) for r in a] == [
        wos.normalise_text(r.abstract) for r in b
    ]


def test_bad_tables_name_file_and_line(tmp_path):
    f = tmp_path / "Data.txt"
    f.write_text(HEADER + "\n1\t2\t3\tCS\tx\n")
    with pytest.raises(
        DataError, match=r"Data.txt, line 2: expected 7 tab-separated fields, got 5"
    ):
        data.load("wos", f)
    f.write_text(HEADER + "\nA\t2\t3\tCS\tMachine learning\tkw\ttext\n")
    with pytest.raises(DataError, match="line 2: Y1/Y2 must be integers"):
        data.load("wos", f)


@pytest.mark.skipif(
    not (data.REPO_ROOT.parent / "shared/data/wos/Data1k.tsv").exists(), reason="needs ../shared"
)
def test_shared_sample_loads_with_the_protocol():
    ds = data.load("wos")
    assert "Data1k.tsv" in " ".join(ds.notes)
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (640, 160, 200)
    assert ds.hierarchy.keying == "name" and ds.hierarchy.sizes == [7, 128]
    rows = wos.read_wos_table(data.REPO_ROOT.parent / "shared/data/wos/Data1k.tsv")
    _, _, test = wos.wos_split(1000)
    assert ds.test.texts[0] == wos.normalise_text(rows[test[0]].abstract)
    merged, names = wos.merge_areas(rows)
    assert sorted(c for c, v in names.items() if len(v) > 1) == ["1-10", "1-9", "5-7"]
