import json
import zipfile

import pytest

from htclib import data
from htclib.data import DataError


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) if not isinstance(r, str) else r for r in rows) + "\n")
    return path


def rows(n=50):
    out = []
    for i in range(n):
        top = ["sci", "art"][i % 2]
        out.append({"text": f"text number {i} about {top}", "labels": [[top, f"{top}-{i % 3}"]]})
    return out


def test_jsonl_all_split_is_deterministic_and_stratified(tmp_path):
    d = tmp_path / "toy"
    d.mkdir()
    write_jsonl(d / "all.jsonl", rows(100))
    a, b = data.load("toy", d), data.load("toy", d)
    assert (len(a.train), len(a.dev), len(a.test)) == (64, 16, 20)
    assert a.test.texts == b.test.texts
    tops = [p[0][0] for p in a.test.paths]
    assert tops.count("sci") == tops.count("art") == 10
    assert data.load("toy", d, seed=1).test.texts != a.test.texts
    assert a.hierarchy.sizes == [2, 6]
    texts = [a.split(s).texts for s in ("train", "dev", "test")]
    assert not set(texts[0]) & set(texts[1]) and not set(texts[0]) & set(texts[2])
    assert not set(texts[1]) & set(texts[2]) and len(set(sum(texts, []))) == 100


def test_presplit_jsonl(tmp_path):
    for name, n in (("train", 10), ("dev", 4), ("test", 6)):
        write_jsonl(tmp_path / f"{name}.jsonl", rows(n))
    ds = data.load("x", tmp_path)
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (10, 4, 6)
    s = ds.summary()
    assert s.loc["train", "texts"] == 10 and s.loc["all", "L1 labels"] == 2
    assert s.loc["all", "texts"] == 20 and s.loc["all", "multi-path"] == 0


def test_multi_path_jsonl(tmp_path):
    f = write_jsonl(
        tmp_path / "a.jsonl", [{"text": "t", "labels": [["a", "b"], ["c", "d"], ["a", "b"]]}]
    )
    s = data.read_jsonl(f)
    assert s.paths == [[("a", "b"), ("c", "d")]]


def test_csv_levels(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("Title,Cat1,Cat2\nfoo,a,b\nbar,a,c\n")
    s = data.read_csv_levels(f, "Title", ["Cat1", "Cat2"])
    assert s.texts == ["foo", "bar"] and s.paths[1] == [("a", "c")]
    with pytest.raises(DataError, match="missing column"):
        data.read_csv_levels(f, "Title", ["Cat1", "Cat9"])
    f.write_text("Title,Cat1,Cat2\nfoo,a,b\n,a,c\n")
    with pytest.raises(DataError, match="line 3: empty text"):
        data.read_csv_levels(f, "Title", ["Cat1", "Cat2"])


@pytest.mark.parametrize(
    "line, msg",
    [
        ('{"text": "a", "labels": [["x"]]', "line 2: malformed JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        ('{"labels": [["x"]]}', "line 2: missing key 'text'"),
        ('{"text": "a"}', "line 2: missing key 'labels'"),
        ('{"text": 5, "labels": [["x"]]}', "line 2: 'text' must be a string"),
        ('{"text": "  ", "labels": [["x"]]}', "line 2: empty text"),
        ('{"text": "a", "labels": [[1, 2]]}', "line 2: label names must be non-empty strings"),
        (
            '{"text": "a", "labels": ["x", "y"]}',
            "line 2: 'labels' must be a non-empty list of label paths",
        ),
        ('{"text": "a", "labels": []}', "line 2: 'labels' must be a non-empty list"),
    ],
)
def test_bad_jsonl_lines_name_file_and_line(tmp_path, line, msg):
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"text": "ok", "labels": [["x"]]}) + "\n" + line + "\n")
    with pytest.raises(DataError, match=msg) as e:
        data.read_jsonl(f)
    assert "bad.jsonl" in str(e.value)


def test_non_utf8_and_empty_file(tmp_path):
    f = tmp_path / "latin.jsonl"
    f.write_bytes(b'{"text": "ok", "labels": [["x"]]}\n{"text": "caf\xe9", "labels": [["x"]]}\n')
    with pytest.raises(DataError, match="latin.jsonl, line 2: not valid UTF-8"):
        data.read_jsonl(f)
    e = tmp_path / "empty.jsonl"
    e.write_text("\n")
    with pytest.raises(DataError, match="empty.jsonl: file is empty"):
        data.read_jsonl(e)


def test_missing_data_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("HTCLIB_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="looked in") as e:
        data.find_data("nothing-here")
    assert str(tmp_path) in str(e.value) and "HTCLIB_DATA" in str(e.value)


def test_env_variable_is_used(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    write_jsonl(tmp_path / "mine" / "all.jsonl", rows(30))
    monkeypatch.setenv("HTCLIB_DATA", str(tmp_path))
    assert data.find_data("mine") == tmp_path / "mine"


def _wos_files(n):
    x = "\n".join(f"abstract {i} words" for i in range(n)) + "\n"
    y1 = "\n".join(str(i % 3) for i in range(n)) + "\n"
    y2 = "\n".join(str(i % 5) for i in range(n)) + "\n"
    return x, y1, y2


def test_wos_raw_layout_and_standard_split(tmp_path):
    x, y1, y2 = _wos_files(200)
    (tmp_path / "X.txt").write_text(x)
    (tmp_path / "YL1.txt").write_text(y1)
    (tmp_path / "YL2.txt").write_text(y2)
    ds = data.load("wos", tmp_path)
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (128, 32, 40)
    assert ds.train.paths[0][0][0].startswith("domain ")
    tr, dv, te = data.wos_standard_split(46985)
    assert (len(tr), len(dv), len(te)) == (30070, 7518, 9397)
    assert not set(tr) & set(te) and not set(dv) & set(te)


def test_unpack_wos_archive_nested(tmp_path):
    x, y1, y2 = _wos_files(20)
    inner = tmp_path / "WOS46985.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("WOS46985/X.txt", x)
        z.writestr("WOS46985/YL1.txt", y1)
        z.writestr("WOS46985/YL2.txt", y2)
    outer = tmp_path / "WebOfScience.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.write(inner, "WebOfScience/WOS46985.zip")
        z.writestr("WebOfScience/WOS5736/X.txt", "other\n")
    dest = data.unpack_wos(outer, tmp_path / "wos")
    assert len(data.read_wos_raw(dest)) == 20
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a zip"):
        data.unpack_wos(bad, tmp_path / "w2")


def test_wos_raw_length_mismatch(tmp_path):
    x, y1, y2 = _wos_files(10)
    (tmp_path / "X.txt").write_text(x)
    (tmp_path / "YL1.txt").write_text(y1)
    (tmp_path / "YL2.txt").write_text("1\n2\n")
    with pytest.raises(DataError, match="YL2.txt 2"):
        data.read_wos_raw(tmp_path)


def test_tokenise_cached_and_truncation_said_once_in_plain_words(toy_tok, capsys, monkeypatch):
    from htclib.data import tokens

    monkeypatch.setattr(tokens, "_said_truncation", False)
    texts = ["a b c", "word " * 50]
    ds = tokens.tokenize(texts, toy_tok, max_length=16)
    out = capsys.readouterr()
    assert "note: 1 of 2 texts are longer than 16 tokens" in out.out and not out.err
    assert ds["length"] == [5, 16]
    monkeypatch.setattr(tokens, "_said_truncation", False)  # a new process, a cached split
    again = tokens.tokenize(texts, toy_tok, max_length=16)
    assert again["input_ids"] == ds["input_ids"]
    assert "1 of 2 texts are longer" in capsys.readouterr().out  # the cache keeps the count
    tokens.tokenize(texts, toy_tok, max_length=16)
    assert capsys.readouterr().out == ""  # once a process
    with pytest.raises(ValueError, match="max_length"):
        tokens.tokenize(texts, toy_tok, max_length=0)


def test_bundled_sample_is_the_last_resort(tmp_path, monkeypatch):
    # A bare machine: no ../shared next to the checkout, no HTCLIB_DATA, no data/ folder.
    monkeypatch.delenv("HTCLIB_DATA", raising=False)
    from htclib.data import dataset

    monkeypatch.setattr(dataset, "REPO_ROOT", tmp_path / "clone")
    assert data.candidate_dirs("wos")[-1] == data.BUNDLED / "wos"
    monkeypatch.setattr(dataset, "_WARNED_BUNDLED", set())
    with pytest.warns(UserWarning, match="using the sample bundled with htclib"):
        ds = data.load("wos")
    assert ds.source == str(data.BUNDLED / "wos")
    assert (len(ds.train), len(ds.dev), len(ds.test)) == (640, 160, 200)
    assert (data.BUNDLED / "wos" / "SOURCE.md").read_text().count("CC BY 4.0") >= 1
    assert (data.BUNDLED / "wos" / "Data1k.tsv.gz").stat().st_size < 1_000_000
    with pytest.raises(FileNotFoundError, match="not found"):
        data.load("dbpedia")


def test_bundled_fallback_is_said_once_in_the_banner_not_on_stderr(tmp_path, monkeypatch):
    # A notebook on a bare machine: the banner names the fallback, and load() then stays quiet
    # (a committed notebook must not carry a stderr block).
    import warnings

    from htclib.data import dataset
    from htclib.lab.banner import banner

    monkeypatch.delenv("HTCLIB_DATA", raising=False)
    monkeypatch.setattr(dataset, "REPO_ROOT", tmp_path / "clone")
    monkeypatch.setattr(dataset, "_WARNED_BUNDLED", set())
    text = banner("cpu", False, ["wos", "dbpedia"])  # dbpedia: absent, left to load() to say
    notice = text.split("**Data:**")[1]
    assert "`wos`" in notice and "bundled with htclib" in notice and "dbpedia" not in notice
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(data.load("wos").test) == 200
    # where the real data is found, the banner says nothing about data
    monkeypatch.setattr(dataset, "REPO_ROOT", data.REPO_ROOT)
    real = tmp_path / "real" / "wos"
    real.mkdir(parents=True)
    for k in ("train", "dev", "test"):
        write_jsonl(real / f"{k}.jsonl", rows(10))
    monkeypatch.setenv("HTCLIB_DATA", str(tmp_path / "real"))
    assert "Data:" not in banner("cpu", False, ["wos"])


def test_utf8_bom_jsonl_is_read(tmp_path):
    f = tmp_path / "excel.jsonl"
    body = "".join(json.dumps(r) + "\n" for r in rows(10))
    f.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert (
        data.read_jsonl(f).texts
        == data.read_jsonl(write_jsonl(tmp_path / "plain.jsonl", rows(10))).texts
    )


@pytest.mark.parametrize(
    "n, msg",
    [
        (1, r"1 text\(s\); a train/dev/test split .* needs at least 3 texts"),
        (
            6,
            r"6 texts, 3 top-level label groups: a stratified test cut of 2 texts cannot hold one of each \(the smallest top-level label is 'a' with 2 text\(s\)\)",
        ),
    ],
)
def test_too_little_data_is_explained(tmp_path, n, msg):
    f = tmp_path / "small.jsonl"
    f.write_text(
        "".join(
            json.dumps({"text": f"t{i}", "labels": [[["a", "b", "c"][i % 3], "x"]]}) + "\n"
            for i in range(n)
        )
    )
    with pytest.raises(DataError, match=msg):
        data.load("small", f)


def test_describe_source_shows_no_absolute_path(monkeypatch, tmp_path):
    monkeypatch.delenv("HTCLIB_DATA", raising=False)
    assert data.describe_source(data.REPO_ROOT.parent / "shared/data/wos") == "../shared/data/wos"
    assert data.describe_source(data.BUNDLED / "wos").startswith("htclib/data/resources")
    monkeypatch.setenv("HTCLIB_DATA", str(tmp_path))
    assert data.describe_source(tmp_path / "mine") == "$HTCLIB_DATA/mine"
