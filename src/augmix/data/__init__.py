"""Data sets: CIFAR readers and downloader, the AugMix wrapper, the embedded synthetic set."""
from augmix.data.arrays import ArrayImageDataset
from augmix.data.augmix_dataset import AugMixDataset
from augmix.data.cifar import CIFAR, download_cifar, load_cifar
from augmix.data.folder import ImageFolder
from augmix.data.synthetic import CLASSES as SYNTHETIC_CLASSES
from augmix.data.synthetic import SyntheticShapes, make_synthetic

__all__ = ["ArrayImageDataset", "AugMixDataset", "CIFAR", "ImageFolder", "SyntheticShapes",
           "SYNTHETIC_CLASSES", "download_cifar", "load_cifar", "make_synthetic"]
