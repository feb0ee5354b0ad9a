"""The defaults a run's cache key leaves out, frozen: a literal, not the dataclasses' live
defaults.

Why frozen: a key prunes the fields equal to these values, so that a config gaining a new
field keeps every finished run's key. Were the live defaults used, changing a default's value
would make a config of the *new* value hash like the finished runs of the *old* one, and those
runs would be read back as the new setting (it happened once: ``model.encoder_dropout`` became
True on 2026-11-30; its entry here stays False). So:

- a new config field goes in here with the value every earlier run had (its default then);
- a default that changes keeps its old value here, and runs of the new default get new keys.

``tests/test_keys.py`` fails when a config field is missing here, and checks that a changed
default moves the key.
"""

KEY_DEFAULTS = {
    "contrastive": {
        "batch_size": 64,
        "denominator": "simcse",
        "epochs": 10,
        "lr": 0.01,
        "max_steps": None,
        "projection_dim": 256,
        "temperature": 0.1,
    },
    "data": {
        "level_cols": None,
        "n_dev": None,
        "n_test": None,
        "n_train": None,
        "name": "wos",
        "path": None,
        "split_seed": 0,
        "text_col": "text",
        "train_fraction": None,
    },
    "model": {
        "dropout_masks": "rand",
        "peft_size": None,
        "encoder": "minilm",
        "encoder_dropout": False,
        "head_bias": "prior",
        "head_dropout": 0.1,
        "head_probe": None,
        "level_lengths": [10, 20],
        "method": "spp",
        "pooling": "cls",
        "prefix": {
            "dropout": 0.0,
            "init": "random",
            "init_std": 0.5,
            "length": 20,
            "projection": False,
            "projection_hidden": 512,
            "shift_positions": False,
            "top_layers": None,
        },
        "recipe": "htclib",
        "transfer": "copy",
    },
    "train": {
        "batch_size": 16,
        "bf16": False,
        "bucketing": False,
        "clip_norm": 1.0,
        "device": None,
        "early_stop_on": "headline",
        "epoch_repeats": 1,
        "eval_batch_size": 64,
        "grad_accum": 1,
        "head_lr": 0.001,
        "lr": 0.01,
        "max_epochs": 40,
        "max_length": 128,
        "max_steps": None,
        "mixed_precision": None,
        "pad_to_max": False,
        "patience": 5,
        "schedule": "linear",
        "seed": 0,
        "selection": "single",
        "threshold": 0.5,
        "warmup_ratio": 0.0,
        "weight_decay": 0.0,
    },
}
