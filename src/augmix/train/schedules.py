"""Learning-rate schedules of the AugMix recipes, as picklable LambdaLR factors of the step.

Both are stepped once per optimizer step; their state is the step count
(`LambdaLR.state_dict`), so a resumed run continues the curve exactly.
"""
from __future__ import annotations

import math


class Cosine:
    """The official CIFAR schedule: `lr_min/lr + (1 - lr_min/lr) * (1 + cos(pi * step / total)) / 2`.

    `cifar.py` builds it as `LambdaLR(get_lr(step, epochs * len(loader), 1, 1e-6 / lr))`.
    """

    def __init__(self, total_steps: int, min_ratio: float):
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}")
        self.total_steps, self.min_ratio = int(total_steps), float(min_ratio)

    def __call__(self, step: int) -> float:
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (
            1 + math.cos(step / self.total_steps * math.pi))


class StepThirds:
    """The official ImageNet schedule: x1, x0.1, x0.01 over thirds of the epochs, times batch/256.

    `imagenet.py`'s `adjust_learning_rate`: the learning rate is scaled linearly
    with the batch size (reference 256) and divided by 10 at epochs//3 and 2*(epochs//3).
    """

    def __init__(self, steps_per_epoch: int, epochs: int, batch_size: int):
        if steps_per_epoch < 1 or epochs < 1:
            raise ValueError(f"steps_per_epoch and epochs must be >= 1, got {steps_per_epoch}, {epochs}")
        self.steps_per_epoch, self.epochs = int(steps_per_epoch), int(epochs)
        self.batch_scale = batch_size / 256.0

    def __call__(self, step: int) -> float:
        epoch, third = step // self.steps_per_epoch, self.epochs // 3  # as official, even if 0
        decay = 1.0 if epoch < third else 0.1 if epoch < 2 * third else 0.01
        return decay * self.batch_scale


SCHEDULES = ("cosine", "step")
