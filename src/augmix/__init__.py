"""augmix: AugMix (Hendrycks et al., ICLR 2020) for PyTorch.

    >>> import augmix
    >>> augment = augmix.AugMix(severity=3, width=3, depth=-1, alpha=1.0, seed=0)
    >>> loss_fn = augmix.AugMixLoss(lam=12.0)
"""
from augmix import ops
from augmix.augment import AugMix, AugMixResult, MixPlan, OpCall
from augmix.batch import BatchAugMix, BatchPlan
from augmix.data.augmix_dataset import AugMixDataset
from augmix.loss import AugMixLoss, jsd_consistency

__version__ = "0.1.0"
__all__ = ["AugMix", "AugMixDataset", "AugMixLoss", "AugMixResult", "BatchAugMix", "BatchPlan",
           "MixPlan", "OpCall", "jsd_consistency", "ops"]
