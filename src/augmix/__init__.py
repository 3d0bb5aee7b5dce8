"""augmix: AugMix (Hendrycks et al., ICLR 2020) for PyTorch.

    >>> import augmix
    >>> augment = augmix.AugMix(severity=3, width=3, depth=-1, alpha=1.0, seed=0)
    >>> loss_fn = augmix.AugMixLoss(lam=12.0)
"""
import sys as _sys

from augmix.augment import ops
from augmix.augment.augmix import AugMix, AugMixResult
from augmix.augment.batch import BatchAugMix
from augmix.augment.plan import BatchPlan, MixPlan, OpCall
from augmix.data.augmix_dataset import AugMixDataset
from augmix.evaluation import metrics
from augmix.loss import AugMixLoss, jsd_consistency

# `import augmix.ops` / `from augmix.metrics import mce` keep working where the modules now live.
_sys.modules.setdefault("augmix.ops", ops)
_sys.modules.setdefault("augmix.metrics", metrics)

__version__ = "0.1.0"
__all__ = ["AugMix", "AugMixDataset", "AugMixLoss", "AugMixResult", "BatchAugMix", "BatchPlan",
           "MixPlan", "OpCall", "jsd_consistency", "metrics", "ops"]
