"""The paper's method, readable in one sitting: what deep prefix tuning adds to a frozen encoder.

``prefix`` (trainable key/value prefixes in every layer, fed as a ``DynamicCache``), ``heads``
(the multi-label head), ``models`` (CLS-tuning and global SPP), ``local`` (one prefix and head
per level), ``transfer`` (non / copy / transform: how a lower level starts from the upper one),
``contrastive`` (SimCSE's loss and projection), ``dropout`` (the encoder's dropout masks),
``encoders`` (loading, freezing, the pooler check), ``recipes`` (named training recipes),
``configs`` and ``keydefaults`` (the model's config and how it keys a run). How these are
trained lives one layer up, in :mod:`htclib.training`. Imports only :mod:`htclib.data` and
:mod:`htclib.io`.
"""
