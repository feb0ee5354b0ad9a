"""The shared real data sets load with the counts their SOURCE.md states."""

import math

import pytest

from htclib import data


def _available(name):
    try:
        data.find_data(name)
        return True
    except FileNotFoundError:
        return False


@pytest.mark.integration
@pytest.mark.parametrize(
    "name, n, sizes, multi",
    [
        # name-keyed with the literature's merges (SOURCE.md's 132 is the path-keyed count)
        ("wos", 1000, [7, 128], 0),
        ("dbpedia", 5000, [9, 70, 219], 0),
        ("amazon3", 5836, [6, 62, 317], 17),
    ],
)
def test_shared_data_counts(name, n, sizes, multi):
    if not _available(name):
        pytest.skip(f"{name} not available here")
    ds = data.load(name)
    assert len(ds.train) + len(ds.dev) + len(ds.test) == n
    assert ds.hierarchy.sizes == sizes
    assert sum(len(p) > 1 for s in (ds.train, ds.dev, ds.test) for p in s.paths) == multi
    assert len(ds.test) == math.ceil(0.2 * n)  # sklearn rounds the test share up
