"""Data sets: the AugMix wrapper and the embedded synthetic set."""
from augmix.data.augmix_dataset import AugMixDataset
from augmix.data.synthetic import CLASSES as SYNTHETIC_CLASSES, SyntheticShapes, make_synthetic

__all__ = ["AugMixDataset", "SyntheticShapes", "make_synthetic", "SYNTHETIC_CLASSES"]
