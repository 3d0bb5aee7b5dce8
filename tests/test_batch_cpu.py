"""The compiled CPU kernel of BatchAugMix: byte-identical to the PIL ops, op by op and mixed."""
import numpy as np
import pytest
import torch
from PIL import Image

from augmix import BatchAugMix
from augmix._util.convert import image_to_tensor
from augmix.augment import cpu_kernel as batch_cpu
from augmix.augment.augmix import mix
from augmix.augment.ops import pil as pil_ops
from augmix.augment.plan import ALL_OPS, BatchPlan

pytestmark = pytest.mark.skipif(not batch_cpu.available(), reason="numba is not installed")

# Parameters as AugMix draws them (ints for the int ops) plus the edges of each range.
PARAMS = {
    "autocontrast": [None], "equalize": [None],
    "posterize": [1, 2, 4, 8], "solarize": [0, 1, 128, 255, 256],
    "rotate": [-30, -7, 1, 13, 30, 90], "shear_x": [-0.3, -0.071, 0.0, 0.123, 0.3],
    "shear_y": [-0.29, 0.05, 0.3], "translate_x": [-11, -1, 0, 3, 40], "translate_y": [-10, 2, 74],
    "color": [0.1, 0.55, 1.0, 1.9], "contrast": [0.1, 0.73, 1.9], "brightness": [0.1, 1.0, 1.37, 1.9],
    "sharpness": [0.1, 0.5, 1.9],
}


def _single_op_plan(name: str, param, n: int) -> BatchPlan:
    """Width 1, depth 1, chain weight 1 and skip weight 1: the output is the op's result / 255."""
    names = tuple(ALL_OPS)
    return BatchPlan(names, torch.full((n, 1, 1), names.index(name), dtype=torch.int64),
                     torch.ones((n, 1, 1), dtype=torch.float64),
                     torch.full((n, 1, 1), 0.0 if param is None else float(param), dtype=torch.float64),
                     torch.ones((n, 1), dtype=torch.float32), torch.ones(n, dtype=torch.float32))


def _nchw(arrays):
    """(N, H, W, 3) RGB or (N, H, W) grey uint8 arrays -> an NCHW tensor."""
    tensor = torch.from_numpy(np.ascontiguousarray(arrays))
    return tensor.unsqueeze(1) if tensor.ndim == 3 else tensor.permute(0, 3, 1, 2).contiguous()


def _compiled_op(images: np.ndarray, name: str, param, fill) -> np.ndarray:
    engine = BatchAugMix(compiled=True, fill=fill, threads=2)
    out = engine.apply_plan(_nchw(images), _single_op_plan(name, param, len(images)))
    levels = (out * 255).round()
    assert (levels - out * 255).abs().max() < 1e-3  # whole grey levels: nothing mixed in
    levels = levels.to(torch.uint8)
    return levels[:, 0].numpy() if images.ndim == 3 else levels.permute(0, 2, 3, 1).numpy()


def _pil_op(images: np.ndarray, name: str, param, fill) -> np.ndarray:
    fn = getattr(pil_ops, name)
    out = []
    for array in images:
        image = Image.fromarray(array)
        if name in pil_ops.GEOMETRIC:
            result = fn(image, param, fill)
        elif param is None:
            result = fn(image)
        else:
            result = fn(image, param)
        out.append(np.asarray(result))
    return np.stack(out)


@pytest.mark.parametrize("name", ALL_OPS)
def test_each_op_is_byte_identical_to_pil_on_real_cifar(name, cifar_images):
    for param in PARAMS[name]:
        fill = (10, 200, 30) if name in pil_ops.GEOMETRIC else 0
        got = _compiled_op(cifar_images, name, param, fill)
        expected = _pil_op(cifar_images, name, param, fill)
        assert np.array_equal(got, expected), f"{name}({param}): {np.mean(got != expected):.4%} differ"


@pytest.mark.parametrize("name", ["rotate", "shear_x", "shear_y", "translate_y", "equalize", "sharpness",
                                  "contrast"])
def test_ops_are_byte_identical_to_pil_at_224_px_and_non_square(name, cifar_images):
    big = np.stack([np.asarray(Image.fromarray(a).resize((224, 224), Image.Resampling.BICUBIC))
                    for a in cifar_images[:4]])
    wide = np.stack([np.asarray(Image.fromarray(a).resize((48, 20))) for a in cifar_images[:8]])
    for images in (big, wide):
        for param in PARAMS[name]:
            assert np.array_equal(_compiled_op(images, name, param, 0), _pil_op(images, name, param, 0)), \
                f"{name}({param}) at {images.shape[1:3]}"


@pytest.mark.parametrize("name", ALL_OPS)
def test_single_channel_images_follow_pil_l_mode(name, cifar_images):
    grey = np.stack([np.asarray(Image.fromarray(a).convert("L")) for a in cifar_images[:16]])
    for param in PARAMS[name]:
        assert np.array_equal(_compiled_op(grey, name, param, 0), _pil_op(grey, name, param, 0))


@pytest.mark.parametrize("kwargs", [{}, {"all_ops": True}, {"severity": 10, "width": 5, "depth": 3}])
def test_whole_mixes_equal_the_per_image_path(kwargs, cifar_images):
    """The chains are byte-identical; only the float mixing could round differently."""
    engine = BatchAugMix(seed=0, compiled=True, **kwargs)
    plan = engine.sample_plan(len(cifar_images), (32, 32))
    got = engine.apply_plan(_nchw(cifar_images), plan)
    expected = torch.stack([mix(Image.fromarray(a), p, image_to_tensor).image
                            for a, p in zip(cifar_images, plan.to_mix_plans())])
    assert (got - expected).abs().max() <= 1e-6


def test_normalization_and_clean_views_match_the_tensor_path(cifar_images):
    x = _nchw(cifar_images[:16])
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    compiled = BatchAugMix(seed=3, mean=mean, std=std, compiled=True).jsd_views(x)
    reference = BatchAugMix(seed=3, mean=mean, std=std, compiled=False).jsd_views(x)
    assert torch.allclose(compiled[:16], reference[:16], atol=1e-6)  # the clean third: exact
    assert (compiled - reference).abs().max() * 0.3 <= 1 / 255 + 1e-5  # one grey level at most
    assert ((compiled - reference).abs() > 1e-5).float().mean() < 0.01  # and rarely


def test_apply_writes_into_a_given_output_even_a_strided_one(cifar_images):
    x = _nchw(cifar_images[:8])
    engine = BatchAugMix(seed=2, compiled=True)
    plan = engine.sample_plan(8, (32, 32))
    expected = engine.apply_plan(x, plan)
    contiguous = torch.empty_like(expected)
    assert engine.apply_plan(x, plan, out=contiguous) is contiguous and torch.equal(contiguous, expected)
    strided = torch.empty((8, 32, 32, 3)).permute(0, 3, 1, 2)  # channels-last memory
    assert engine.apply_plan(x, plan, out=strided) is strided and torch.equal(strided, expected)


def test_engine_choice_and_errors(monkeypatch, cifar_images):
    assert BatchAugMix().compiled  # the default where numba is installed
    floats = _nchw(cifar_images[:4]).float() / 255
    assert BatchAugMix(seed=0, compiled=True)(floats).shape == floats.shape  # float input: tensor ops
    monkeypatch.setattr(batch_cpu, "available", lambda: False)
    assert not BatchAugMix().compiled
    with pytest.raises(ValueError, match="compiled=True needs numba"):
        BatchAugMix(compiled=True)
    with pytest.raises(ValueError, match="compiled must be"):
        BatchAugMix(compiled="yes")
