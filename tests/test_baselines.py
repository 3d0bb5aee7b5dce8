"""Defining behaviour of each baseline: Cutout, Mixup, CutMix, PGD, AutoAugment, Patch Uniform."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import stats

from augmix.baselines import METHODS, adversarial, autoaugment, cutmix, cutout, mixup, patch_uniform
from augmix.baselines.autoaugment import (
    CIFAR10_POLICY,
    IMAGENET_POLICY,
    OPS,
    RANGES,
    SIGNED_OPS,
    AutoAugment,
    RandomAutoAugment,
    Step,
)

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def clipped_span(centre: int, length: int, size: int) -> int:
    """Length of [centre - length//2, centre - length//2 + length) inside [0, size)."""
    start = centre - length // 2
    return min(start + length, size) - max(start, 0)


def constant_batch(n: int, size: int = 32) -> torch.Tensor:
    """Sample i is the constant (i + 1) / (n + 1): every pixel names its source image."""
    values = torch.arange(1, n + 1, dtype=torch.float64) / (n + 1)
    return values.view(n, 1, 1, 1).expand(n, 3, size, size).clone()


# ----------------------------------------------------------------------------- Cutout

def test_cutout_removes_one_16x16_square_when_inside():
    image = torch.rand(3, 32, 32, generator=generator(0)) + 0.5  # no zeros of its own
    out = cutout.cutout_at(image, torch.tensor([16]), torch.tensor([10]))
    zeroed = (out == 0).all(dim=0)
    assert int(zeroed.sum()) == 256
    rows, cols = torch.nonzero(zeroed, as_tuple=True)
    assert (int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())) == (8, 23, 2, 17)
    assert torch.equal(out[:, ~zeroed], image[:, ~zeroed])


def test_cutout_square_is_clipped_at_borders_for_every_centre():
    size = 32
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    ys, xs = ys.reshape(-1, 1), xs.reshape(-1, 1)
    images = torch.ones(size * size, 3, size, size)
    out = cutout.batch_cutout_at(images, ys, xs, length=16)
    counts = (out == 0).all(dim=1).sum(dim=(1, 2))
    expected = torch.tensor([clipped_span(int(y), 16, size) * clipped_span(int(x), 16, size)
                             for y, x in zip(ys[:, 0], xs[:, 0])])
    assert torch.equal(counts, expected)
    assert int(counts.max()) == 256 and int(counts.min()) == 64  # centre at a corner: 8x8


def test_batched_cutout_positions_differ_per_sample_and_repeat_with_seed():
    images = torch.ones(64, 3, 32, 32)
    out = cutout.batch_cutout(images, generator(1))
    masks = (out == 0).all(dim=1)
    assert len({m.numpy().tobytes() for m in masks}) > 48
    assert torch.equal(out, cutout.batch_cutout(images, generator(1)))
    assert not torch.equal(out, cutout.batch_cutout(images, generator(2)))


def test_cutout_centres_cover_the_whole_image_including_borders():
    ys, xs = cutout.sample_centres(20000, 1, 32, 32, generator(3))
    assert set(ys.flatten().tolist()) == set(range(32)) == set(xs.flatten().tolist())


def test_cutout_per_image_and_batched_agree_for_the_same_centres():
    images = torch.randn(8, 3, 32, 32, generator=generator(4))
    ys = torch.randint(32, (8, 2), generator=generator(5))
    xs = torch.randint(32, (8, 2), generator=generator(6))
    batched = cutout.batch_cutout_at(images, ys, xs)
    single = torch.stack([cutout.cutout_at(img, y, x) for img, y, x in zip(images, ys, xs)])
    assert torch.equal(batched, single)


def test_cutout_per_image_draws_from_the_generator():
    image = torch.randn(3, 32, 32, generator=generator(7)) + 10
    first = cutout.cutout(image, generator(8))
    assert torch.equal(first, cutout.cutout(image, generator(8)))
    assert 64 <= int((first == 0).all(dim=0).sum()) <= 256


def test_cutout_rejects_bad_arguments():
    with pytest.raises(ValueError, match="length"):
        cutout.cutout(torch.zeros(3, 8, 8), generator(0), length=0)
    with pytest.raises(ValueError, match="NCHW"):
        cutout.batch_cutout(torch.zeros(3, 8, 8), generator(0))


# ----------------------------------------------------------------------------- Mixup

def test_mixup_mixes_labels_with_the_same_lambda_as_images():
    n = 16
    images, labels = constant_batch(n, size=4), torch.arange(n)
    for seed in range(5):
        mixed, (targets_a, targets_b, lam) = mixup.mixup(images, labels, generator(seed))
        value = images[:, 0, 0, 0]
        differ = targets_a != targets_b
        assert differ.any()
        # Each mixed image is lam * (image of label a) + (1 - lam) * (image of label b).
        recovered = ((mixed[differ, 0, 0, 0] - value[targets_b[differ]])
                     / (value[targets_a[differ]] - value[targets_b[differ]]))
        assert torch.allclose(recovered, torch.full_like(recovered, lam), atol=1e-9)
        assert torch.equal(targets_a, labels)
        assert sorted(targets_b.tolist()) == labels.tolist()  # a permutation of the batch


def test_mixup_lambda_follows_beta_alpha_alpha():
    images, labels = torch.zeros(2, 1, 1, 1), torch.arange(2)
    for alpha in (1.0, 0.2):
        g = generator(11)
        lams = [mixup.mixup(images, labels, g, alpha=alpha)[1][2] for _ in range(2000)]
        assert stats.kstest(lams, stats.beta(alpha, alpha).cdf).pvalue > 1e-3


def test_mixup_loss_is_the_lambda_weighted_cross_entropies():
    logits = torch.randn(8, 10, generator=generator(12))
    targets_a = torch.randint(10, (8,), generator=generator(13))
    targets_b = torch.randint(10, (8,), generator=generator(14))
    lam = 0.3
    loss = mixup.mixup_loss(F.cross_entropy, logits, targets_a, targets_b, lam)
    log_p = F.log_softmax(logits, dim=1)
    expected = -(lam * log_p[torch.arange(8), targets_a]
                 + (1 - lam) * log_p[torch.arange(8), targets_b]).mean()
    assert torch.allclose(loss, expected)
    soft = lam * F.one_hot(targets_a, 10) + (1 - lam) * F.one_hot(targets_b, 10)
    assert torch.allclose(loss, F.cross_entropy(logits, soft.float()))


def test_mixup_rejects_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        mixup.mixup(torch.zeros(2, 3), torch.zeros(2), generator(0), alpha=0.0)
    with pytest.raises(ValueError, match="batch size"):
        mixup.mixup(torch.zeros(2, 3), torch.zeros(3), generator(0))


# ----------------------------------------------------------------------------- CutMix

def test_cutmix_lambda_is_the_exact_kept_area():
    n, size = 16, 32
    images, labels = constant_batch(n, size), torch.arange(n)
    value = images[:, 0, 0, 0]
    clipped_seen = False
    for seed in range(60):
        mixed, (targets_a, targets_b, lam) = cutmix.cutmix(images, labels, generator(seed),
                                                           prob=1.0)
        for j in torch.nonzero(targets_a != targets_b)[:, 0]:
            own = (mixed[j] == value[targets_a[j]]).all(dim=0)
            pasted = (mixed[j] == value[targets_b[j]]).all(dim=0)
            assert int(own.sum()) + int(pasted.sum()) == size * size
            assert float(own.sum()) / size**2 == pytest.approx(lam, abs=1e-12)
            if pasted.any():
                rows, cols = torch.nonzero(pasted, as_tuple=True)
                h = int(rows.max() - rows.min() + 1)
                w = int(cols.max() - cols.min() + 1)
                assert h * w == int(pasted.sum())  # one rectangle
                touches = rows.min() == 0 or cols.min() == 0 or rows.max() == size - 1 \
                    or cols.max() == size - 1
                clipped_seen |= bool(touches) and h != w
    assert clipped_seen


def test_cutmix_box_is_clipped_at_borders():
    # lam = 0.75: side int(32 * sqrt(0.25)) = 16, i.e. 8 pixels either side of the centre.
    assert cutmix.cutmix_box(32, 32, 0.75, 16, 16) == (8, 24, 8, 24)
    assert cutmix.cutmix_box(32, 32, 0.75, 0, 0) == (0, 8, 0, 8)
    assert cutmix.cutmix_box(32, 32, 0.75, 31, 2) == (23, 32, 0, 10)
    assert cutmix.kept_fraction((23, 32, 0, 10), 32, 32) == 1 - 90 / 1024
    assert cutmix.cutmix_box(32, 32, 1.0, 5, 5) == (5, 5, 5, 5)


def test_cutmix_applies_with_its_probability():
    images, labels = constant_batch(4, 8), torch.arange(4)
    g = generator(21)
    applied = [cutmix.cutmix(images, labels, g)[1][2] < 1.0 for _ in range(1000)]
    assert 0.44 < np.mean(applied) < 0.56
    out, (a, b, lam) = cutmix.cutmix(images, labels, generator(0), prob=0.0)
    assert out is images and lam == 1.0 and torch.equal(a, b)


def test_cutmix_rejects_bad_arguments():
    with pytest.raises(ValueError, match="prob"):
        cutmix.cutmix(torch.zeros(2, 3, 4, 4), torch.zeros(2), generator(0), prob=1.5)
    with pytest.raises(ValueError, match="beta"):
        cutmix.cutmix(torch.zeros(2, 3, 4, 4), torch.zeros(2), generator(0), beta=-1.0, prob=1.0)


# ----------------------------------------------------------------------------- PGD

def small_cnn(seed: int) -> torch.nn.Module:
    """A fixed random CNN with batch-norm (to see the mode handling)."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten(), torch.nn.Linear(128, 10))
    g = generator(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return model


@pytest.fixture(scope="module")
def cifar_batch(cifar_images, cifar_labels):
    images = torch.from_numpy(cifar_images).permute(0, 3, 1, 2).float() / 255
    return images, torch.from_numpy(cifar_labels)


def test_pgd_raises_the_loss_and_stays_in_the_epsilon_ball(cifar_batch):
    images, labels = cifar_batch
    model, normalize = small_cnn(0).eval(), adversarial.normalizer(CIFAR_MEAN, CIFAR_STD)

    def loss(x):
        with torch.no_grad():
            return float(F.cross_entropy(model(normalize(x)), labels))

    eps = adversarial.EPSILON
    random_only = adversarial.pgd_attack(model, images, labels, normalize=normalize, steps=0,
                                         generator=generator(1), mode="eval")
    for steps in (adversarial.TRAIN_STEPS, adversarial.EVAL_STEPS):
        adv = adversarial.pgd_attack(model, images, labels, normalize=normalize, steps=steps,
                                     generator=generator(1), mode="eval")
        assert float((adv - images).abs().max()) <= eps + 1e-6
        assert float(adv.min()) >= 0 and float(adv.max()) <= 1
        assert loss(adv) > loss(random_only) + 0.1 and loss(random_only) > 0.9 * loss(images)
    assert float((random_only - images).abs().max()) <= eps + 1e-6


def test_pgd_model_sees_normalized_inputs(cifar_batch):
    images, labels = cifar_batch[0][:16], cifar_batch[1][:16]
    model, normalize = small_cnn(2).eval(), adversarial.normalizer(CIFAR_MEAN, CIFAR_STD)

    class Normalized(torch.nn.Module):
        def forward(self, x):
            return model(normalize(x))

    with_normalize = adversarial.pgd_attack(model, images, labels, normalize=normalize,
                                            generator=generator(3), mode="eval")
    wrapped = adversarial.pgd_attack(Normalized(), images, labels, generator=generator(3),
                                     mode="eval")
    unnormalized = adversarial.pgd_attack(model, images, labels, generator=generator(3),
                                          mode="eval")
    assert torch.allclose(with_normalize, wrapped)
    assert not torch.allclose(with_normalize, unnormalized)


def test_pgd_handles_model_mode_explicitly(cifar_batch):
    images, labels = cifar_batch[0][:16], cifar_batch[1][:16]
    model = small_cnn(4).train()
    running_mean = model[1].running_mean.clone()
    adversarial.pgd_attack(model, images, labels, generator=generator(5), mode="eval")
    assert model.training  # restored
    assert torch.equal(model[1].running_mean, running_mean)  # eval: BN stats untouched
    assert all(p.grad is None for p in model.parameters())
    adversarial.pgd_attack(model, images, labels, generator=generator(5), mode="train")
    assert model.training and not torch.equal(model[1].running_mean, running_mean)
    model.eval()
    adversarial.pgd_attack(model, images, labels, generator=generator(5), mode="train")
    assert not any(m.training for m in model.modules())
    model.train()
    model[1].eval()  # a frozen batch-norm inside a training model keeps its own mode
    adversarial.pgd_attack(model, images, labels, generator=generator(5), mode="eval")
    assert model.training and not model[1].training and model[0].training


def test_pgd_works_inside_no_grad(cifar_batch):
    images, labels = cifar_batch[0][:16], cifar_batch[1][:16]
    model = small_cnn(6).eval()
    outside = adversarial.pgd_attack(model, images, labels, generator=generator(7), mode="eval")
    with torch.no_grad():
        inside = adversarial.pgd_attack(model, images, labels, generator=generator(7),
                                        mode="eval")
    assert torch.equal(inside, outside) and not torch.equal(inside, images)


def test_pgd_rejects_bad_arguments(cifar_batch):
    images, labels = cifar_batch[0][:2], cifar_batch[1][:2]
    model = small_cnn(0)
    with pytest.raises(ValueError, match="generator"):
        adversarial.pgd_attack(model, images, labels, mode="eval")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adversarial.pgd_attack(model, images * 2 - 0.5, labels, generator=generator(0),
                               mode="eval")
    with pytest.raises(ValueError, match="mode"):
        adversarial.pgd_attack(model, images, labels, generator=generator(0), mode="test")
    assert torch.equal(adversarial.pgd_attack(model, images, labels, steps=0,
                                              random_start=False, mode="eval"), images)


# ----------------------------------------------------------------------------- AutoAugment

def test_cifar_policy_has_its_25_sub_policies_of_two_steps():
    assert len(CIFAR10_POLICY) == 25 and len(IMAGENET_POLICY) == 25
    for sub_policy in CIFAR10_POLICY + IMAGENET_POLICY:
        assert len(sub_policy) == 2 and all(isinstance(step, Step) for step in sub_policy)
    # First and last rows of the paper's reduced-CIFAR-10 policy table.
    assert CIFAR10_POLICY[0] == (Step("invert", 0.1, 7), Step("contrast", 0.2, 6))
    assert CIFAR10_POLICY[-1] == (Step("translate_y", 0.7, 9), Step("autocontrast", 0.9, 1))
    assert len(set(CIFAR10_POLICY)) == 25


@pytest.mark.parametrize("op", sorted(OPS))
def test_each_op_runs_on_real_cifar_images(op, cifar_images):
    for array in cifar_images[:4]:
        img = Image.fromarray(array)
        for level in (0, 4, 9):
            for sign in ((1, -1) if op in SIGNED_OPS else (1,)):
                out = autoaugment.apply_ops(img, [(op, sign * autoaugment.magnitude(op, level))])
                assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == img.size


def test_every_sub_policy_runs_on_real_cifar_images(cifar_images):
    img = Image.fromarray(cifar_images[0])
    for sub_policy in CIFAR10_POLICY + IMAGENET_POLICY:
        forced = tuple(Step(s.op, 1.0, s.level) for s in sub_policy)
        applied = autoaugment.sample_sub_policy(forced, np.random.default_rng(0))
        assert [op for op, _ in applied] == [s.op for s in sub_policy]
        out = autoaugment.apply_ops(img, applied)
        assert out.mode == "RGB" and out.size == (32, 32)


def test_geometric_ops_fill_with_grey_128(cifar_images):
    img = Image.fromarray(cifar_images[1])
    shifted = np.asarray(autoaugment.apply_ops(img, [("translate_x", RANGES["translate_x"][9])]))
    assert (shifted[:, -14:] == 128).all()  # 150/331 of 32 pixels is 14.5
    rotated = np.asarray(autoaugment.apply_ops(img, [("rotate", 30.0)]))
    assert (rotated[0, 0] == 128).all() and (rotated[-1, -1] == 128).all()


def test_policy_probabilities_are_respected():
    rng, n = np.random.default_rng(0), 20000
    policy = AutoAugment("cifar10")
    counts = dict.fromkeys(OPS, 0)
    negative = signed = 0
    for _ in range(n):
        for op, value in policy.sample(rng):
            counts[op] += 1
            if op in SIGNED_OPS and value != 0:
                signed += 1
                negative += value < 0
    # Expected uses per call: each sub-policy equally likely, each step with its probability.
    for op in OPS:
        expected = n * sum(s.probability for sp in CIFAR10_POLICY for s in sp if s.op == op) / 25
        assert abs(counts[op] - expected) <= 5 * math.sqrt(expected) + 1, op
    assert abs(negative / signed - 0.5) < 0.02


def test_step_probability_frequencies_with_seeded_generator():
    rng, n = np.random.default_rng(1), 4000
    sub_policy = (Step("invert", 0.3, 0), Step("equalize", 0.8, 0))
    draws = [[op for op, _ in autoaugment.sample_sub_policy(sub_policy, rng)] for _ in range(n)]
    for op, p in (("invert", 0.3), ("equalize", 0.8)):
        freq = np.mean([op in d for d in draws])
        assert abs(freq - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_autoaugment_repeats_with_the_same_seed(cifar_images):
    img = Image.fromarray(cifar_images[2])
    policy = AutoAugment("cifar10")
    outs = [np.asarray(policy(img, np.random.default_rng(s))) for s in (5, 5)]
    assert np.array_equal(*outs)
    different = [np.asarray(policy(img, np.random.default_rng(s))) for s in range(20)]
    assert len({a.tobytes() for a in different}) > 5


def test_random_autoaugment_draws_over_the_search_space(cifar_images):
    rng = np.random.default_rng(2)
    sub_policies = [autoaugment.random_sub_policy(rng) for _ in range(3000)]
    steps = [s for sp in sub_policies for s in sp]
    ops = [s.op for s in steps]
    assert set(ops) == set(RANGES)
    counts = np.array([ops.count(op) for op in RANGES])
    assert stats.chisquare(counts).pvalue > 1e-3
    assert {s.probability for s in steps} == {i / 10 for i in range(11)}
    assert {s.level for s in steps} == set(range(10))
    augment = RandomAutoAugment()
    for array in cifar_images[:8]:
        out = augment(Image.fromarray(array), rng)
        assert out.mode == "RGB" and out.size == (32, 32)


def test_autoaugment_rejects_bad_arguments():
    with pytest.raises(ValueError, match="policy"):
        AutoAugment("svhn")
    with pytest.raises(ValueError, match="RGB"):
        autoaugment.apply_ops(Image.new("L", (8, 8)), [])
    with pytest.raises(ValueError, match="level"):
        Step("rotate", 0.5, 10)
    with pytest.raises(ValueError, match="fill"):
        AutoAugment(fill=(0, 0, 300))


# ----------------------------------------------------------------------------- Patch Uniform

def test_patch_uniform_noise_stays_in_one_clipped_patch():
    images = torch.full((3, 3, 32, 32), 0.5)
    ys, xs = torch.tensor([[16], [0], [31]]), torch.tensor([[16], [31], [3]])
    out = patch_uniform.patch_uniform_at(images, ys, xs, torch.full_like(images, 0.7))
    changed = (out != images).all(dim=1)
    for j in range(3):
        expected = clipped_span(int(ys[j]), 25, 32) * clipped_span(int(xs[j]), 25, 32)
        assert int(changed[j].sum()) == expected
    assert float(out.max()) == 1.0  # 0.5 + 0.7 clipped


def test_patch_uniform_batch_is_bounded_and_per_sample(cifar_batch):
    images = cifar_batch[0][:32]
    out = patch_uniform.patch_uniform(images, generator(9), max_scale=0.2)
    diff = (out - images).abs()
    assert float(out.min()) >= 0 and float(out.max()) <= 1 and float(diff.max()) <= 0.2
    changed = (diff > 0).any(dim=1)
    for mask in changed:
        rows, cols = torch.nonzero(mask, as_tuple=True)
        assert int(rows.max() - rows.min()) < 25 and int(cols.max() - cols.min()) < 25
    # 32 centres among 1024 pixels rarely coincide: the patches are drawn per sample.
    assert len({m.numpy().tobytes() for m in changed}) > 24
    assert torch.equal(out, patch_uniform.patch_uniform(images, generator(9), max_scale=0.2))


# ----------------------------------------------------------------------------- registry

def test_registry_records_published_defaults_and_sources():
    assert {"cutout", "mixup", "cutmix", "autoaugment", "adversarial"} <= set(METHODS)
    stages = {"none", "pil", "normalized", "pixels", "batch", "attack"}
    for name, method in METHODS.items():
        assert method.stage in stages and method.description, name
        assert method.source, name
    assert METHODS["cutout"].defaults == {"length": 16, "n_holes": 1}
    assert METHODS["mixup"].defaults == {"alpha": 1.0}
    assert METHODS["cutmix"].defaults == {"beta": 1.0, "prob": 0.5}
    pgd = METHODS["adversarial"].defaults
    assert (pgd["epsilon"], pgd["step_size"], pgd["steps"], pgd["eval_steps"]) == \
        (8 / 255, 2 / 255, 7, 20)


def test_docs_example_runs():
    doc = Path(__file__).resolve().parents[1] / "docs" / "baselines.md"
    (block,) = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    namespace: dict = {}
    exec(compile(block, str(doc), "exec"), namespace)
    assert namespace["x_adv"].shape == (8, 3, 32, 32) and namespace["loss"].item() > 0
    assert namespace["augmented"].size == (32, 32)


def test_every_method_is_a_registered_object_with_the_trainers_hooks():
    from types import SimpleNamespace

    from augmix.baselines import Step

    assert list(METHODS)[:2] == ["augmix", "standard"]
    plain = SimpleNamespace(jsd=False, augment_on="workers")
    images, labels = torch.rand(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    step = Step(generator(0), 0, torch.nn.Identity(), adversarial.normalizer(CIFAR_MEAN, CIFAR_STD))
    for name, method in METHODS.items():
        assert method.name == name
        if name in ("augmix", "adversarial"):
            continue
        batch = method.configure(plain).batch_transform(images, labels, step)
        logits = torch.randn(4, 10)
        assert batch.inputs.shape == images.shape and method.loss(logits, batch).ndim == 0
        assert batch.normalized == (name in ("cutout", "autoaugment")), name
    with pytest.raises(ValueError, match="JSD loss needs method 'augmix'"):
        METHODS["mixup"].configure(SimpleNamespace(jsd=True, augment_on="workers"))
    mixup_batch = METHODS["mixup"].batch_transform(images, labels, step)
    targets_b, lam = mixup_batch.mixed_with
    expected = mixup.mixup_loss(F.cross_entropy, images.flatten(1)[:, :10], labels, targets_b, lam)
    assert torch.allclose(METHODS["mixup"].loss(images.flatten(1)[:, :10], mixup_batch), expected)
