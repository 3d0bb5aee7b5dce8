"""augmix.augment.ops on PIL images against each op's definition as Pillow calls, pixel for pixel."""
import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

from augmix.augment import ops

BILINEAR = Image.Resampling.BILINEAR


def _pillow_definition(name, image, param):
    """The op as the AugMix paper's code defines it, in Pillow calls, for a drawn parameter (the
    image size as IMAGE_SIZE). Whole AugMix outputs against the official code itself:
    test_official_golden.py."""
    size = image.size
    affine = {"shear_x": (1, param, 0, 0, 1, 0), "shear_y": (1, 0, 0, param, 1, 0),
              "translate_x": (1, 0, param, 0, 1, 0), "translate_y": (1, 0, 0, 0, 1, param)}
    if name in affine:
        return image.transform(size, Image.AFFINE, affine[name], resample=BILINEAR)
    enhancers = {"color": ImageEnhance.Color, "contrast": ImageEnhance.Contrast,
                 "brightness": ImageEnhance.Brightness, "sharpness": ImageEnhance.Sharpness}
    if name in enhancers:
        return enhancers[name](image).enhance(param)
    return {"autocontrast": lambda: ImageOps.autocontrast(image),
            "equalize": lambda: ImageOps.equalize(image),
            "posterize": lambda: ImageOps.posterize(image, param),
            "solarize": lambda: ImageOps.solarize(image, param),
            "rotate": lambda: image.rotate(param, resample=BILINEAR)}[name]()


# Five or more values per op across (and beyond) the ranges AugMix draws.
PARAMS = {
    "autocontrast": [None], "equalize": [None],
    "posterize": [1, 2, 3, 4, 8],
    "solarize": [0, 26, 128, 230, 256],
    "rotate": [-30, -8, -1, 3, 17, 30],
    "shear_x": [-0.3, -0.09, -0.01, 0.05, 0.21, 0.3],
    "shear_y": [-0.3, -0.09, -0.01, 0.05, 0.21, 0.3],
    "translate_x": [-10, -3, -1, 2, 5, 10],
    "translate_y": [-10, -3, -1, 2, 5, 10],
    "color": [0.1, 0.118, 0.4, 0.64, 1.0, 1.9],
    "contrast": [0.1, 0.118, 0.4, 0.64, 1.0, 1.9],
    "brightness": [0.1, 0.118, 0.4, 0.64, 1.0, 1.9],
    "sharpness": [0.1, 0.118, 0.4, 0.64, 1.0, 1.9],
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_op_equals_its_pillow_definition_on_real_cifar(name, cifar_images):
    fn = getattr(ops, name)
    for array in cifar_images[:16]:
        image = Image.fromarray(array)
        for param in PARAMS[name]:
            expected = np.asarray(_pillow_definition(name, image, param))
            got = np.asarray(fn(image, param))
            assert got.shape == expected.shape
            assert np.array_equal(got, expected), (name, param)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_op_equals_its_pillow_definition_at_224(name, cifar_images):
    image = Image.fromarray(cifar_images[0]).resize((224, 224), Image.Resampling.BICUBIC)
    scale = 224 / 32  # translations scale with the image
    for param in PARAMS[name]:
        if name.startswith("translate"):
            param = int(param * scale)
        expected = np.asarray(_pillow_definition(name, image, param))
        assert np.array_equal(np.asarray(getattr(ops, name)(image, param)), expected), (name, param)


def test_grayscale_images_work(cifar_images):
    image = Image.fromarray(cifar_images[1]).convert("L")
    for name, params in PARAMS.items():
        out = getattr(ops, name)(image, params[-1])
        assert out.mode == "L" and out.size == image.size
        assert np.array_equal(np.asarray(out), np.asarray(_pillow_definition(name, image, params[-1])))


def test_translate_direction_and_fill():
    array = np.zeros((8, 8, 3), np.uint8)
    array[:, 4] = 200  # one bright column at x=4
    image = Image.fromarray(array)
    moved = np.asarray(ops.translate_x(image, 2))
    assert (moved[:, 2] == 200).all() and (moved[:, 4] == 0).all()  # content moves left
    filled = np.asarray(ops.translate_x(image, 3, fill=128))
    assert (filled[:, -3:] == 128).all()  # every band of the uncovered strip is grey


def test_fill_applies_to_every_band_and_accepts_tuples(cifar_images):
    image = Image.fromarray(cifar_images[2])
    corner = np.asarray(ops.rotate(image, 30, fill=128))[0, 0]
    assert corner.tolist() == [128, 128, 128]
    corner = np.asarray(ops.shear_x(image, -0.3, fill=(128, 0, 0)))[31, 0]  # the authors' quirk
    assert corner.tolist() == [128, 0, 0]
    with pytest.raises(ValueError, match="fill"):
        ops.rotate(image, 10, fill=(1, 2))


def test_ops_are_pure(cifar_images):
    image = Image.fromarray(cifar_images[3])
    before = np.asarray(image).copy()
    for name, params in PARAMS.items():
        first = np.asarray(getattr(ops, name)(image, params[0]))
        second = np.asarray(getattr(ops, name)(image, params[0]))
        assert np.array_equal(first, second)
    assert np.array_equal(np.asarray(image), before)
