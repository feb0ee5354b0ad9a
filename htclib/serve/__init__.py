"""Serving trained models: ``predict`` (load an artifact, label texts, several prefixes in one
batch) and ``cli`` (the ``htclib`` command). Imports training, method and data, never the lab.
"""
