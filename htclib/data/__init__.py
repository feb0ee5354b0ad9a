"""Data: the label hierarchy, the data sets and their splits, tokenisation.

``hierarchy`` (the taxonomy, label ids), ``dataset`` (loading, splits; its public names are
re-exported here: ``htclib.data.load(...)``), ``wos`` (Web of Science's table and protocol),
``amazon`` (Amazon Beauty from its metadata), ``frames`` (views of a data set as tables),
``tokens`` (cached tokenisation). Imports nothing from the layers above.
"""

from .dataset import (
    BUNDLED,
    REPO_ROOT,
    SHARED_NAMES,
    WOS_URL,
    DataError,
    HTCDataset,
    Split,
    assemble,
    candidate_dirs,
    describe_source,
    download_wos,
    find_data,
    json_type,
    load,
    read_csv_levels,
    read_jsonl,
    read_wos_raw,
    single_path,
    split_full,
    split_indices,
    summaries,
    unpack_wos,
    wos_standard_split,
)

__all__ = [
    "BUNDLED",
    "REPO_ROOT",
    "SHARED_NAMES",
    "WOS_URL",
    "DataError",
    "HTCDataset",
    "Split",
    "assemble",
    "candidate_dirs",
    "describe_source",
    "download_wos",
    "find_data",
    "json_type",
    "load",
    "read_csv_levels",
    "read_jsonl",
    "read_wos_raw",
    "single_path",
    "split_full",
    "split_indices",
    "summaries",
    "unpack_wos",
    "wos_standard_split",
]
