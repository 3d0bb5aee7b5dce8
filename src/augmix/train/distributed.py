"""The process group a run belongs to: torchrun's environment, or a single process.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; with more than one process the
group is initialized with nccl on GPUs and gloo on CPUs. Helpers reduce
numbers and gather Python objects across ranks, and are no-ops alone.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Group:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def _env_int(name: str, default: str | None, low: int, high: int | None = None) -> int:
    """torchrun's variable `name` as an int in [low, high); ValueError naming it otherwise."""
    text = os.environ.get(name, default)
    if text is None:
        raise ValueError(f"environment variable {name} is not set (WORLD_SIZE > 1): start "
                         f"distributed runs with torchrun")
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an int, got {text!r}") from None
    if value < low or (high is not None and value >= high):
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"environment variable {name} must be {bound}, got {value}")
    return value


def init_from_env(device_kind: str) -> Group:
    """Join torchrun's process group (if WORLD_SIZE > 1); `device_kind` is 'cuda' or 'cpu'."""
    world_size = _env_int("WORLD_SIZE", "1", 1)
    if world_size == 1:
        return Group()
    rank = _env_int("RANK", None, 0, world_size)
    local_rank = _env_int("LOCAL_RANK", "0", 0, world_size)
    if device_kind == "cuda" and local_rank >= torch.cuda.device_count():
        raise ValueError(f"LOCAL_RANK {local_rank} needs CUDA device {local_rank}, but this machine "
                         f"has {torch.cuda.device_count()}; start fewer processes per node "
                         f"(--nproc_per_node) or pass --device cpu")
    if not dist.is_initialized():
        if device_kind == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo")
    return Group(rank, world_size, local_rank)


def sum_across(values: list[float], group: Group, device: torch.device) -> list[float]:
    """Element-wise sum of `values` over all ranks (float64)."""
    if not group.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def gather_objects(obj, group: Group) -> list:
    """Every rank's `obj`, in rank order."""
    if not group.distributed:
        return [obj]
    out: list = [None] * group.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(group: Group) -> None:
    """Wait for every rank (no-op alone)."""
    if group.distributed:
        dist.barrier()


def shutdown(group: Group) -> None:
    if group.distributed and dist.is_initialized():
        dist.destroy_process_group()
