"""Training and one run: the loop and what it needs.

``train`` (the BCE loop, ``fit``), ``checkpoint`` (resume), ``selection`` (which epoch is kept,
early stopping), ``topdown`` (local SPP level by level), ``pretrain`` (SimCSE pre-training of a
prefix), ``metrics``, ``artifacts`` (saving and loading a trained model), ``experiment`` (one run
from a config, its record), ``baselines`` (the classical ones), ``provenance``. Imports
:mod:`htclib.method`, :mod:`htclib.data` and :mod:`htclib.io`, nothing from lab or serve.
"""
