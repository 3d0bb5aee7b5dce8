"""The AugMix method: the ops, every random draw (the plan), the per-image and batched engines."""
from augmix.augment import ops
from augmix.augment.augmix import AugMix, AugMixResult
from augmix.augment.batch import BatchAugMix
from augmix.augment.plan import BatchPlan, MixPlan, OpCall, ProcessGenerator

__all__ = ["AugMix", "AugMixResult", "BatchAugMix", "BatchPlan", "MixPlan", "OpCall", "ProcessGenerator", "ops"]
