"""augmix.augment.ops.tensor against the PIL ops on real CIFAR-10 images, one parameter per sample."""
import numpy as np
import pytest
import torch
from PIL import Image
from test_ops_pil import PARAMS

from augmix.augment import ops
from augmix.augment.ops import pil as pil_ops
from augmix.augment.ops import tensor as tensor_ops

GEOMETRIC = set(pil_ops.GEOMETRIC)
NAMES = sorted(PARAMS)


def _nchw(arrays: np.ndarray) -> torch.Tensor:
    if arrays.ndim == 3:
        arrays = arrays[..., None]
    return torch.from_numpy(np.ascontiguousarray(arrays)).permute(0, 3, 1, 2).contiguous()


def _per_sample_params(name, n):
    """Cycle the op's test parameters over the samples, so one call mixes them all."""
    values = PARAMS[name]
    if values == [None]:
        return None, [None] * n
    chosen = [values[i % len(values)] for i in range(n)]
    return torch.tensor(chosen, dtype=torch.float64), chosen


def _run_both(name, arrays, fill=0):
    tensor_params, params = _per_sample_params(name, len(arrays))
    args = () if tensor_params is None else (tensor_params,)
    kwargs = {"fill": fill} if name in GEOMETRIC else {}
    got = getattr(tensor_ops, name)(_nchw(arrays), *args, **kwargs)
    expected = [np.asarray(getattr(pil_ops, name)(Image.fromarray(a), *(() if p is None else (p,)), **kwargs))
                for a, p in zip(arrays, params)]
    got = got.permute(0, 2, 3, 1).numpy()
    expected = np.stack(expected)
    return got.reshape(expected.shape).astype(int), expected.astype(int)


def _assert_agrees(name, got, expected):
    diff = np.abs(got - expected)
    if name in GEOMETRIC:  # float32 where PIL uses double: a truncation can land one level lower
        assert diff.mean() <= 1 and (diff <= 2).mean() >= 0.99, (name, diff.mean())
        assert (diff == 0).mean() >= 0.98 and diff.max() <= 1, (name, (diff == 0).mean(), diff.max())
    else:
        assert diff.max() <= 1, (name, diff.max())
        assert (diff == 0).mean() >= 0.999, (name, (diff == 0).mean())


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_pil_on_real_cifar(name, cifar_images):
    got, expected = _run_both(name, cifar_images)
    _assert_agrees(name, got, expected)


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_pil_at_224(name, cifar_images):
    arrays = np.stack([np.asarray(Image.fromarray(a).resize((224, 224), Image.Resampling.BICUBIC))
                       for a in cifar_images[:6]])
    got, expected = _run_both(name, arrays)
    _assert_agrees(name, got, expected)


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_pil_on_grey_images(name, cifar_images):
    grey = np.stack([np.asarray(Image.fromarray(a).convert("L")) for a in cifar_images[:12]])
    got, expected = _run_both(name, grey)
    _assert_agrees(name, got, expected)


@pytest.mark.parametrize("name", sorted(GEOMETRIC))
@pytest.mark.parametrize("fill", [128, (255, 0, 64)])
def test_fill_matches_pil(name, fill, cifar_images):
    got, expected = _run_both(name, cifar_images[:12], fill)
    _assert_agrees(name, got, expected)


@pytest.mark.parametrize("name", ["translate_x", "translate_y"])
def test_fractional_translation_interpolates_like_pil(name, cifar_images):
    """AugMix translates by whole pixels (a strided copy); other amounts take the bilinear path."""
    arrays = cifar_images[:8]
    pixels = [2.5, -1.25, 0.5, 7.75, -3.5, 0.0, 1.0, -9.9]
    got = getattr(tensor_ops, name)(_nchw(arrays), torch.tensor(pixels)).permute(0, 2, 3, 1).numpy()
    expected = np.stack([np.asarray(getattr(pil_ops, name)(Image.fromarray(a), p))
                         for a, p in zip(arrays, pixels)])
    _assert_agrees(name, got.astype(int), expected.astype(int))


def test_equalize_clamps_like_pil():
    """A histogram whose rounding would map the top level to 256: PIL keeps it at 255."""
    values = np.concatenate([np.repeat(np.arange(255, dtype=np.uint8), 2), [254, 255, 255]])
    image = np.resize(values, (1, 1, 1, 16 * 32)).astype(np.uint8).reshape(1, 16, 32)
    got = tensor_ops.equalize(_nchw(image)).numpy()[0, 0]
    expected = np.asarray(pil_ops.equalize(Image.fromarray(image[0])))
    assert np.array_equal(got, expected)


def test_constant_images_are_left_alone_by_the_histogram_ops():
    x = torch.full((2, 3, 8, 8), 77, dtype=torch.uint8)
    assert torch.equal(tensor_ops.autocontrast(x), x) and torch.equal(tensor_ops.equalize(x), x)


@pytest.mark.parametrize("name", NAMES)
def test_each_sample_gets_its_own_parameter(name, cifar_images):
    """A batch with per-sample parameters equals the samples run one at a time."""
    x = _nchw(cifar_images[:8])
    params, _ = _per_sample_params(name, 8)
    fn = getattr(tensor_ops, name)
    batched = fn(x) if params is None else fn(x, params)
    for i in range(8):
        single = fn(x[i:i + 1]) if params is None else fn(x[i:i + 1], float(params[i]))
        assert torch.equal(batched[i:i + 1], single), (name, i)


@pytest.mark.parametrize("name", NAMES)
def test_float_input_follows_the_uint8_result(name, cifar_images):
    """Float batches (0..1) get the same op without the 8-bit rounding: within one level
    (1.5 where uint8 rounds the degenerate image, which a factor of 1.9 extrapolates by 0.9)."""
    x = _nchw(cifar_images[:16])
    params, _ = _per_sample_params(name, 16)
    fn = getattr(tensor_ops, name)
    args = () if params is None else (params,)
    as_uint8 = fn(x, *args).float() / 255
    as_float = fn(x.float() / 255, *args)
    assert as_float.dtype == torch.float32 and as_float.shape == x.shape
    assert 0 <= as_float.min() and as_float.max() <= 1
    diff = (as_float - as_uint8).abs()
    tolerance = 1.5 if name in ("color", "contrast", "sharpness") else 1.01
    assert diff.max() <= tolerance / 255, (name, diff.max() * 255)
    if name == "autocontrast":  # PIL's table truncates; the float stretch does not
        assert diff.mean() > 0


def test_dispatch_on_image_type(cifar_images):
    image = Image.fromarray(cifar_images[0])
    assert isinstance(ops.rotate(image, 5), Image.Image)
    x = _nchw(cifar_images[:2])
    out = ops.rotate(x, torch.tensor([5.0, -5.0]))
    assert isinstance(out, torch.Tensor) and out.shape == x.shape and out.dtype == torch.uint8
    assert np.array_equal(ops.posterize(x, 2)[0].permute(1, 2, 0).numpy(),
                          np.asarray(ops.posterize(image, 2)))


@pytest.mark.parametrize("call,expected", [
    (lambda: tensor_ops.rotate(torch.zeros(3, 8, 8, dtype=torch.uint8), 3), "NCHW"),
    (lambda: tensor_ops.rotate(torch.zeros(1, 4, 8, 8, dtype=torch.uint8), 3), "1 or 3 channels"),
    (lambda: tensor_ops.equalize(torch.zeros(1, 3, 8, 8, dtype=torch.int32)), "uint8"),
    (lambda: tensor_ops.equalize(np.zeros((1, 3, 8, 8), np.uint8)), "torch.Tensor"),
    (lambda: tensor_ops.rotate(torch.zeros(2, 3, 8, 8), torch.ones(3)), "degrees.*2 values"),
    (lambda: tensor_ops.solarize(torch.zeros(2, 3, 8, 8), "128"), "threshold"),
    (lambda: tensor_ops.posterize(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), 9), "bits"),
    (lambda: tensor_ops.shear_x(torch.zeros(2, 3, 8, 8), 0.1, fill=(1, 2)), "fill"),
    (lambda: tensor_ops.shear_x(torch.zeros(2, 3, 8, 8), 0.1, fill=300), "fill"),
])
def test_bad_input_names_the_argument(call, expected):
    with pytest.raises(ValueError, match=expected):
        call()


@pytest.mark.cuda
@pytest.mark.parametrize("name", NAMES)
def test_cuda_matches_cpu(name, cifar_images):
    x = _nchw(cifar_images[:16])
    params, _ = _per_sample_params(name, 16)
    fn = getattr(tensor_ops, name)
    args = () if params is None else (params,)
    cpu = fn(x, *args).int()
    cuda = fn(x.cuda(), *(a.cuda() for a in args)).cpu().int()
    assert (cpu - cuda).abs().max() <= 1
