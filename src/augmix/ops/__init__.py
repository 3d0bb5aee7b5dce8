"""AugMix augmentation primitives with explicit parameters and no randomness.

`augmix.ops.<op>(image, param)` works on PIL images (`augmix.ops.pil`, the
paper's definitions). Geometric ops also take `fill`.
"""
from augmix.ops.pil import (GEOMETRIC, autocontrast, brightness, color, contrast, equalize,
                            posterize, rotate, sharpness, shear_x, shear_y, solarize,
                            translate_x, translate_y)

__all__ = ["GEOMETRIC", "autocontrast", "brightness", "color", "contrast", "equalize",
           "posterize", "rotate", "sharpness", "shear_x", "shear_y", "solarize",
           "translate_x", "translate_y"]
