"""What only a CUDA device can check: training with AugMix on the device, determinism and
agreement with the CPU there. Skipped without CUDA; `make gpu-check` runs them on a GPU."""
from __future__ import annotations

import json
import math

import pytest
import torch

from augmix import BatchAugMix
from augmix.models import create_model

pytestmark = pytest.mark.cuda


def test_training_on_cuda_with_augmix_on_the_device_bf16_channels_last(tmp_path):
    from augmix.train import load_model, train

    run = train(dict(data="synthetic", model="wrn-10-1", train_subset=256, test_subset=128, epochs=2,
                     batch_size=64, eval_batch_size=128, workers=0, seed=3, device="cuda",
                     augment_on="device", amp="bf16", channels_last=True), out=tmp_path / "run", progress=False)
    epochs = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(math.isfinite(e["train_loss"]) and 0 <= e["test_error"] <= 100 for e in epochs)
    model, meta = load_model(run, device="cpu")  # a CUDA run's checkpoint loads on the CPU
    assert next(model.parameters()).device.type == "cpu" and meta["epoch"] == 2


def test_batch_augmix_on_cuda_repeats_with_the_same_seed(cifar_images):
    x = torch.from_numpy(cifar_images).permute(0, 3, 1, 2).contiguous().cuda()
    first = BatchAugMix(seed=7).cuda().jsd_views(x)
    second = BatchAugMix(seed=7).cuda().jsd_views(x)
    assert first.shape == (3 * len(x), 3, 32, 32) and first.device.type == "cuda"
    assert torch.equal(first, second)


@pytest.mark.parametrize("name", ["wrn-16-2", "allconv", "resnet-18-cifar"])
def test_models_agree_with_the_cpu(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=10).eval()
    x = torch.rand(8, 3, 32, 32)
    with torch.no_grad():
        cpu = model(x)
        cuda = model.cuda()(x.cuda()).cpu()
    assert (cpu - cuda).abs().max() <= 1e-3 * max(1.0, cpu.abs().max().item())
