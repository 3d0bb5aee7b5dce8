"""The AugMix method: the ops, every random draw (the plan), the per-image and batched engines."""
from augmix.augment import ops
from augmix.augment.augmix import AugMix, AugMixResult, MixPlan, OpCall
from augmix.augment.batch import BatchAugMix, BatchPlan

__all__ = ["AugMix", "AugMixResult", "BatchAugMix", "BatchPlan", "MixPlan", "OpCall", "ops"]
