"""Training: the run's settings and recipes, the trainer, checkpoints, schedules, distributed runs.

    >>> from augmix.train import make_config, train
    >>> run_dir = train(make_config("synthetic-wrn-16-2", epochs=1), out="runs/quick")  # doctest: +SKIP
"""

_PUBLIC = {"train": "augmix.train.trainer", "TrainConfig": "augmix.train.config",
           "make_config": "augmix.train.config", "load_model": "augmix.train.checkpoint"}


def __getattr__(name: str):
    # Resolved on first use, so that importing one training module does not load them all.
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'augmix.train' has no attribute {name!r}")


__all__ = sorted(_PUBLIC)
