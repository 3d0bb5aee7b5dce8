"""The AugMix ops on NCHW tensor batches, one parameter per sample.

Each op takes a batch `images` of shape (N, C, H, W) with C in {1, 3}, uint8
(grey levels 0..255) or floating point (0..1), on any device, and a parameter
that is a number (shared) or a 1-D tensor of N values (one per sample). The
result has the input's shape, dtype and device.

On uint8 batches the ops reproduce `augmix.ops.pil` (Pillow 10+): the
histogram ops and posterize/solarize exactly, color/contrast/brightness with
PIL's integer luma and truncating blend, sharpness with PIL's 3x3 SMOOTH
kernel (rounded, border untouched), and the affine ops with PIL's bilinear
sampling (pixel centres at +0.5, neighbours clamped to the edge, fill where
the sample point leaves the image, truncation), computed in float32 where PIL
uses double, so an output rarely differs by one grey level. Float batches
get the same formulas without the 8-bit rounding; posterize and equalize,
being defined on 256 levels, quantize to them.
"""
from __future__ import annotations

from numbers import Real
from typing import Sequence, Union

import torch

from augmix.augment.ops.pillow import LUMA, LUMA_ROUND, LUMA_SHIFT, ROTATE_DIGITS, SMOOTH_CENTRE_EXTRA, SMOOTH_SCALE

Fill = Union[int, Sequence[int]]
Param = Union[float, torch.Tensor]



def check_images(images: torch.Tensor, argument: str = "images") -> None:
    """Raise ValueError unless `images` is an (N, C, H, W) uint8 or float batch, C in {1, 3}."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{argument} must be a torch.Tensor (N, C, H, W), got {type(images).__name__}")
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"{argument} must be an NCHW batch with 1 or 3 channels, "
                         f"got shape {tuple(images.shape)}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise ValueError(f"{argument} must be uint8 (0..255) or floating point (0..1), got {images.dtype}")


def per_sample(value: Param, n: int, argument: str, device: torch.device,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A number or N values -> a 1-D tensor of N values on `device`."""
    if isinstance(value, torch.Tensor):
        if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != n):
            raise ValueError(f"{argument} must be a number or a 1-D tensor of {n} values "
                             f"(one per sample), got shape {tuple(value.shape)}")
        return value.to(device=device, dtype=dtype).expand(n)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{argument} must be a number or a 1-D tensor of {n} values, "
                         f"got {type(value).__name__}")
    return torch.full((n,), value, dtype=dtype, device=device)


def _host(value: Param, images: torch.Tensor) -> torch.device:
    """Where to inspect a parameter: on the CPU unless it already lives on the images' device,
    so that decisions about it (distinct values, whole pixels) need no device sync."""
    on_device = isinstance(value, torch.Tensor) and value.device.type != "cpu"
    return images.device if on_device else torch.device("cpu")


def _fill_tensor(images: torch.Tensor, fill: Fill) -> torch.Tensor:
    """fill (a grey level for every channel, or one level per channel) as (1, C, 1, 1)."""
    channels = images.shape[1]
    levels = [fill] * channels if isinstance(fill, Real) else list(fill)
    if len(levels) != channels or any(isinstance(v, bool) or not isinstance(v, Real) or not 0 <= v <= 255
                                      for v in levels):
        raise ValueError(f"fill must be a grey level 0..255 or {channels} such levels, got {fill!r}")
    out = torch.tensor(levels, dtype=torch.float32, device=images.device).view(1, channels, 1, 1)
    return out.to(torch.uint8) if images.dtype == torch.uint8 else (out / 255).to(images.dtype)


def _levels(images: torch.Tensor) -> torch.Tensor:
    """Grey levels 0..255 as uint8 (float input in [0, 1] is rounded to them)."""
    if images.dtype == torch.uint8:
        return images
    return (images * 255).round_().clamp_(0, 255).to(torch.uint8)


def _like(levels: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """uint8 grey levels back in the input's type (float: 0..1)."""
    return levels if images.dtype == torch.uint8 else levels.to(images.dtype) / 255


def _apply_lut(index: torch.Tensor, lut: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Map each (sample, channel) row of grey levels `index` (N*C, H*W) through its own table
    in `lut` (N*C, 256)."""
    return _like(lut.to(torch.uint8).gather(1, index).view(images.shape), images)


# Photometric ops --------------------------------------------------------------------------

def autocontrast(images: torch.Tensor, _unused: None = None) -> torch.Tensor:
    """Stretch each sample's channel so its darkest pixel is 0 and its brightest 255 (1.0)."""
    check_images(images)
    n, c = images.shape[:2]
    flat = images.reshape(n, c, -1)
    lo, hi = flat.amin(2), flat.amax(2)
    constant = hi <= lo  # PIL leaves a constant channel as it is
    if images.is_floating_point():
        scale = torch.where(constant, 1.0, hi - lo)
        return torch.where(constant.view(n, c, 1, 1), images,
                           (images - lo.view(n, c, 1, 1)) / scale.view(n, c, 1, 1))
    # PIL: lut[i] = clamp(int(i * scale - lo * scale)), scale = 255 / (hi - lo), in double.
    lo64, hi64 = lo.double(), hi.double()
    span = torch.where(constant, 1.0, hi64 - lo64)
    scale = torch.full_like(span, 255.0) / span  # a true division, as Python's
    levels = torch.arange(256, dtype=torch.float64, device=images.device)
    lut = (levels * scale[..., None] + (-lo64 * scale)[..., None]).trunc_().clamp_(0, 255)
    lut = torch.where(constant[..., None], levels, lut).reshape(n * c, 256)
    return _apply_lut(_levels(images).reshape(n * c, -1).long(), lut, images)


def equalize(images: torch.Tensor, _unused: None = None) -> torch.Tensor:
    """Equalize each sample's channel histogram with PIL's integer recipe."""
    check_images(images)
    n, c = images.shape[:2]
    index = _levels(images).reshape(n * c, -1).long()
    hist = torch.zeros((n * c, 256), dtype=torch.int64, device=images.device)
    hist.scatter_add_(1, index, torch.ones((1, 1), dtype=torch.int64, device=images.device).expand_as(index))
    # PIL: step = (count - count of the top level) // 255; lut[i] = (step // 2 + below(i)) // step.
    top = 255 - (hist > 0).flip(1).int().argmax(1)
    step = (index.shape[1] - hist.gather(1, top.view(-1, 1))) // 255
    below = hist.cumsum(1) - hist
    identity = torch.arange(256, device=images.device).expand(n * c, 256)
    keep = ((hist > 0).sum(1, keepdim=True) <= 1) | (step == 0)
    lut = torch.where(keep, identity, (step // 2 + below) // step.clamp(min=1)).clamp_(0, 255)
    return _apply_lut(index, lut, images)


def posterize(images: torch.Tensor, bits: Param) -> torch.Tensor:
    """Keep the `bits` (0..8) most significant bits of each channel value."""
    check_images(images)
    n = images.shape[0]
    bits_t = per_sample(bits, n, "bits", _host(bits, images), torch.int32)
    if ((bits_t < 0) | (bits_t > 8)).any():
        raise ValueError(f"bits must be in 0..8, got {bits_t.tolist()}")
    mask = (255 - ((1 << (8 - bits_t)) - 1)).to(device=images.device, dtype=torch.uint8).view(n, 1, 1, 1)
    return _like(_levels(images) & mask, images)


def solarize(images: torch.Tensor, threshold: Param) -> torch.Tensor:
    """Invert every value at or above `threshold` (a grey level 0..256; 256 changes nothing)."""
    check_images(images)
    n = images.shape[0]
    t = per_sample(threshold, n, "threshold", images.device, torch.int16).view(n, 1, 1, 1)
    if images.dtype == torch.uint8:  # 255 - v == v ^ 255; XOR is far cheaper than torch.where
        return images ^ (images >= t).to(torch.uint8).mul_(255)
    return torch.where(images * 255 >= t, 1 - images, images)


def _blend(degenerate: torch.Tensor, images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """PIL's Image.blend: degenerate + factor * (image - degenerate), truncated on uint8."""
    f = factor.to(torch.float32).view(-1, 1, 1, 1)
    if images.dtype != torch.uint8:
        return (degenerate + f.to(images.dtype) * (images - degenerate)).clamp_(0, 1)
    d = degenerate.to(torch.float32)
    return (d + f * (images.to(torch.float32) - d)).clamp_(0, 255).to(torch.uint8)


def _luma(images: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) grey image as PIL's convert('L') makes it (rounded fixed point on uint8)."""
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    if images.dtype == torch.uint8:
        r, g, b = (ch.to(torch.int32) for ch in (r, g, b))
        return ((r * LUMA[0] + g * LUMA[1] + b * LUMA[2] + LUMA_ROUND) >> LUMA_SHIFT).to(torch.uint8)
    return (r * LUMA[0] + g * LUMA[1] + b * LUMA[2]) / (1 << LUMA_SHIFT)


def color(images: torch.Tensor, factor: Param) -> torch.Tensor:
    """Blend with the greyscale image: 0 grey, 1 unchanged (single-channel input is unchanged)."""
    check_images(images)
    f = per_sample(factor, images.shape[0], "factor", images.device)
    if images.shape[1] == 1:
        return images.clone()
    return _blend(_luma(images).expand_as(images), images, f)


def contrast(images: torch.Tensor, factor: Param) -> torch.Tensor:
    """Blend with the image's mean grey level (rounded on uint8, as PIL): 0 flat, 1 unchanged."""
    check_images(images)
    n = images.shape[0]
    f = per_sample(factor, n, "factor", images.device)
    grey = images if images.shape[1] == 1 else _luma(images)
    if images.dtype == torch.uint8:
        mean = (grey.reshape(n, -1).sum(1, dtype=torch.int64).double() / grey[0].numel() + 0.5).floor()
    else:
        mean = grey.reshape(n, -1).mean(1)
    return _blend(mean.to(images.dtype).view(n, 1, 1, 1).expand_as(images), images, f)


def brightness(images: torch.Tensor, factor: Param) -> torch.Tensor:
    """Blend with black: 0 black, 1 unchanged."""
    check_images(images)
    f = per_sample(factor, images.shape[0], "factor", images.device)
    return _blend(torch.zeros_like(images), images, f)


def _smooth(images: torch.Tensor) -> torch.Tensor:
    """PIL's ImageFilter.SMOOTH ((1 1 1; 1 5 1; 1 1 1) / 13, rounded); the 1-pixel border is kept."""
    out = images.clone()
    if min(images.shape[2:]) < 3:
        return out
    x = images.to(torch.int16 if images.dtype == torch.uint8 else images.dtype)
    rows = x[:, :, :-2] + x[:, :, 1:-1] + x[:, :, 2:]
    box = rows[..., :-2] + rows[..., 1:-1] + rows[..., 2:]
    total = box + SMOOTH_CENTRE_EXTRA * x[:, :, 1:-1, 1:-1]
    if images.dtype == torch.uint8:  # round(total / 13), never a tie since 13 is odd
        out[:, :, 1:-1, 1:-1] = ((2 * total + SMOOTH_SCALE) // (2 * SMOOTH_SCALE)).to(torch.uint8)
    else:
        out[:, :, 1:-1, 1:-1] = total / SMOOTH_SCALE
    return out


def sharpness(images: torch.Tensor, factor: Param) -> torch.Tensor:
    """Blend with the 3x3 smoothed image (border untouched): 0 smooth, 1 unchanged."""
    check_images(images)
    f = per_sample(factor, images.shape[0], "factor", images.device)
    return _blend(_smooth(images), images, f)


# Geometric ops ----------------------------------------------------------------------------
# Coordinates follow PIL: output pixel (x, y) samples the input at (xin, yin) measured from
# the image's top-left corner (pixel centres at +0.5); it gets the fill colour unless
# 0 <= xin < W and 0 <= yin < H; otherwise the value interpolates the pixels around
# (xin - 0.5, yin - 0.5), with indices clamped to the image.
#
# All four taps are gathered from one flat buffer per channel: the image, a 1-pixel copy of
# its edge (the clamping) and 2 pixels of fill around that. A sample outside the image
# points its taps at the fill corner, so no mask touches the pixel data.

_MARGIN = 3  # edge copy + fill on each side


def _padded(images: torch.Tensor, fill: Fill) -> torch.Tensor:
    """(N, C, (H + 6) * (W + 6)): the image, its clamped edge, then fill."""
    n, c, h, w = images.shape
    rows = torch.arange(-1, h + 1, device=images.device).clamp_(0, h - 1)
    cols = torch.arange(-1, w + 1, device=images.device).clamp_(0, w - 1)
    out = _fill_tensor(images, fill).expand(n, c, h + 2 * _MARGIN, w + 2 * _MARGIN).clone()
    inner = slice(_MARGIN - 1, -(_MARGIN - 1))
    out[:, :, inner, inner] = images.index_select(2, rows).index_select(3, cols)
    return out.view(n, c, -1)


def _sample(images: torch.Tensor, xin: torch.Tensor, yin: torch.Tensor, fill: Fill,
            maps: torch.Tensor) -> torch.Tensor:
    """PIL's bilinear sample of every output pixel at (xin, yin): float64 tensors broadcasting
    to (U, 1, H*W) in row-major pixel order, one map per distinct parameter, and sample i
    uses map `maps[i]`. Only taps with a non-zero weight somewhere are gathered; the
    arithmetic runs on flat (N, C, H*W) tensors, which torch vectorizes well."""
    n, c, h, w = images.shape
    width = w + 2 * _MARGIN
    xin, yin = torch.broadcast_tensors(xin, yin)
    valid = (xin >= 0) & (xin < w) & (yin >= 0) & (yin < h)
    x0, y0 = (xin - 0.5).floor(), (yin - 0.5).floor()
    fx, fy = xin - 0.5 - x0, yin - 0.5 - y0
    base = ((y0.long() + _MARGIN) * width + (x0.long() + _MARGIN)) * valid
    base = base.index_select(0, maps)
    fx, fy = (f.to(torch.float32).index_select(0, maps) for f in (fx, fy))
    # PIL interpolates in double and truncates; float32 here (see the module docstring).
    as_float = images.dtype if images.is_floating_point() else torch.float32
    flat = _padded(images, fill).to(as_float)  # one conversion, then the taps come out as float

    def tap(offset: int) -> torch.Tensor:
        return flat.gather(2, (base + offset if offset else base).expand(n, c, h * w))

    def lerp(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return a.add_((b - a).mul_(weight))

    need_x, need_y = bool((fx != 0).any()), bool((fy != 0).any())
    if need_x and need_y:
        top, bottom = (lerp(tap(dy), tap(dy + 1), fx) for dy in (0, width))
        values = lerp(top, bottom, fy)
    elif need_x or need_y:
        weight, step = (fx, 1) if need_x else (fy, width)
        values = lerp(tap(0), tap(step), weight)
    else:
        values = tap(0)
    values = values.to(images.dtype)
    return values.view(n, c, h, w)


def _grid(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre x and y of every pixel, each (1, 1, H*W) float64 in row-major order."""
    h, w = images.shape[2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64, device=images.device) + 0.5,
                            torch.arange(w, dtype=torch.float64, device=images.device) + 0.5,
                            indexing="ij")
    return xs.reshape(1, 1, -1), ys.reshape(1, 1, -1)


def _distinct(value: Param, images: torch.Tensor, argument: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct per-sample values as (U, 1, 1) float64, and each sample's index into them:
    AugMix's geometric parameters take few values, so the sampling maps are built once each."""
    values = per_sample(value, images.shape[0], argument, _host(value, images), torch.float64)
    distinct, maps = torch.unique(values, return_inverse=True)
    return distinct.to(images.device).view(-1, 1, 1), maps.to(images.device)


def _shear_rows(images: torch.Tensor, factor: torch.Tensor, fill: Fill) -> torch.Tensor:
    """shear_x: row y of sample n moves by s = factor[n] * (y + 0.5), i.e. whole pixels k and a
    fraction r. Both taps of every row are windows of one padded buffer (strided copies);
    the pixels whose sample point leaves the row (a prefix and a suffix) get the fill."""
    n, c, h, w = images.shape
    shift = factor.view(n, 1) * (torch.arange(h, dtype=torch.float64, device=factor.device) + 0.5)
    whole = shift.floor()
    pad = int(whole.abs().max()) + 2
    frac = (shift - whole).to(device=images.device, dtype=torch.float32).view(n, h, 1, 1)
    whole, shift = whole.long().to(images.device), shift.to(images.device)
    edge = images.index_select(3, torch.tensor([0, w - 1], device=images.device))
    border = _fill_tensor(images, fill).expand(n, c, h, pad)
    padded = torch.cat([border, edge[..., :1], images, edge[..., 1:], border], 3)
    windows = padded.unfold(3, w, 1)  # (n, c, h, positions, w); window p starts at p - pad - 1
    rows = torch.arange(n, device=images.device).view(n, 1), torch.arange(h, device=images.device)
    start = whole + pad + 1
    as_float = images.dtype if images.is_floating_point() else torch.float32
    a = windows[rows[0], :, rows[1], start].to(as_float)  # (n, h, c, w)
    b = windows[rows[0], :, rows[1], start + 1].to(as_float)
    values = a + (b - a) * frac.to(as_float)
    out = torch.empty_like(images)
    out.permute(0, 2, 1, 3).copy_(values)  # truncates on uint8, as PIL
    # PIL fills where x + 0.5 + shift leaves [0, w): a prefix and a suffix of each row.
    xin = torch.arange(w, dtype=torch.float64, device=images.device) + 0.5 + shift.view(n, h, 1)
    outside = ((xin < 0) | (xin >= w)).view(n, 1, h, w)
    fill_values = _fill_tensor(images, fill)
    return out.mul_(~outside).add_(outside * fill_values)


def shear_x(images: torch.Tensor, factor: Param, fill: Fill = 0) -> torch.Tensor:
    """Output pixel (x, y) samples input (x + factor*y, y)."""
    check_images(images)
    f = per_sample(factor, images.shape[0], "factor", _host(factor, images), torch.float64)
    return _shear_rows(images, f, fill)


def shear_y(images: torch.Tensor, factor: Param, fill: Fill = 0) -> torch.Tensor:
    """Output pixel (x, y) samples input (x, factor*x + y): shear_x of the transposed image."""
    check_images(images)
    f = per_sample(factor, images.shape[0], "factor", _host(factor, images), torch.float64)
    return _shear_rows(images.transpose(2, 3), f, fill).transpose(2, 3).contiguous()


def _shift(images: torch.Tensor, shift: torch.Tensor, pad: int, dim: int, fill: Fill) -> torch.Tensor:
    """Whole-pixel translation along dim (3: x, 2: y): out[i] = images[i + shift], fill outside.

    Every shifted image is a window of one fill-padded buffer, so the move is a strided copy
    (no per-pixel index), many times faster than gathering.
    """
    n, c, h, w = images.shape
    block = list(images.shape)
    block[dim] = pad
    border = _fill_tensor(images, fill).expand(block)
    padded = torch.cat([border, images, border], dim)
    pick = torch.arange(n, device=images.device), pad + shift
    if dim == 3:
        return padded.unfold(3, w, 1)[pick[0], :, :, pick[1]]
    windows = padded.reshape(n, c, -1).unfold(2, h * w, w)
    return windows[pick[0], :, pick[1]].view(n, c, h, w)


def _translate(images: torch.Tensor, pixels: Param, dim: int, fill: Fill) -> torch.Tensor:
    shift = per_sample(pixels, images.shape[0], "pixels", _host(pixels, images), torch.float64)
    if bool((shift == shift.round()).all()):  # AugMix's case: int(level * size / 30) pixels
        return _shift(images, shift.long().to(images.device), int(shift.abs().max()), dim, fill)
    xs, ys = _grid(images)
    p, maps = _distinct(pixels, images, "pixels")
    return _sample(images, xs + p, ys, fill, maps) if dim == 3 else _sample(images, xs, ys + p, fill, maps)


def translate_x(images: torch.Tensor, pixels: Param, fill: Fill = 0) -> torch.Tensor:
    """Output pixel (x, y) samples input (x + pixels, y): content moves left for pixels > 0."""
    check_images(images)
    return _translate(images, pixels, 3, fill)


def translate_y(images: torch.Tensor, pixels: Param, fill: Fill = 0) -> torch.Tensor:
    """Output pixel (x, y) samples input (x, y + pixels): content moves up for pixels > 0."""
    check_images(images)
    return _translate(images, pixels, 2, fill)


def rotate(images: torch.Tensor, degrees: Param, fill: Fill = 0) -> torch.Tensor:
    """Rotate counter-clockwise about the centre (PIL's matrix, bilinear)."""
    check_images(images)
    h, w = images.shape[2:]
    degrees_u, maps = _distinct(degrees, images, "degrees")
    angle = -torch.deg2rad(degrees_u % 360.0)  # Image.rotate reduces the angle modulo 360 first
    # Image.rotate rounds cos/sin to 15 decimals and maps about (w/2, h/2).
    scale = 10.0 ** ROTATE_DIGITS
    cos = torch.round(torch.cos(angle) * scale) / scale
    sin = torch.round(torch.sin(angle) * scale) / scale
    xs, ys = _grid(images)
    xs, ys = xs - w / 2.0, ys - h / 2.0
    return _sample(images, cos * xs + sin * ys + w / 2.0, -sin * xs + cos * ys + h / 2.0, fill, maps)
