"""The Pillow constants the three implementations of the ops share (Pillow 10+).

`ops.pil` calls Pillow itself; `ops.tensor` and the compiled CPU kernel
(`augmix.augment.cpu_kernel`) reproduce its C code, so they read these values
from here rather than each keeping a copy.
"""
from __future__ import annotations

import math

from PIL import Image

# Geometric ops resample bilinearly (the official AugMix code).
RESAMPLE = Image.Resampling.BILINEAR
# ITU-R 601-2 luma in Pillow's 16-bit fixed point (Convert.c, L24): (r*R + g*G + b*B + 0x8000) >> 16.
LUMA = (19595, 38470, 7471)
LUMA_SHIFT = 16
LUMA_ROUND = 1 << (LUMA_SHIFT - 1)
# ImageFilter.SMOOTH: (1 1 1; 1 5 1; 1 1 1) / 13, rounded; the 1-pixel border is kept.
SMOOTH_CENTRE_EXTRA = 4  # the centre weight 5 = the 3x3 box's 1 + 4
SMOOTH_SCALE = 13
# Image.rotate rounds cos and sin of the angle (taken modulo 360 first) to this many digits.
ROTATE_DIGITS = 15


def rotate_matrix(degrees: float, width: int, height: int) -> tuple[float, ...]:
    """The affine matrix Image.rotate builds (about the centre, cos/sin rounded to 15 digits,
    of the angle taken modulo 360 first, which changes their last bits)."""
    angle = -math.radians(degrees % 360.0)
    a, b = round(math.cos(angle), ROTATE_DIGITS), round(math.sin(angle), ROTATE_DIGITS)
    d, e = round(-math.sin(angle), ROTATE_DIGITS), round(math.cos(angle), ROTATE_DIGITS)
    cx, cy = width / 2, height / 2
    return (a, b, a * -cx + b * -cy + cx, d, e, d * -cx + e * -cy + cy)
