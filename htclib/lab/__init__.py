"""The lab around the method: what runs the experiments and reads their records.

``profiles`` (named experiment grids), ``grid`` and ``ray_engine`` (running them), ``run`` and
``workbook`` (the notebooks), ``records``, ``results`` and ``report`` (tables), ``stats``,
``method_stats`` and ``claims`` (verdicts), ``plots``, ``widgets`` (the prefix-length explorer),
``analysis``, ``banner``. The top layer: it may import everything below it.
"""
