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


def init_from_env(device_kind: str) -> Group:
    """Join torchrun's process group (if WORLD_SIZE > 1); `device_kind` is 'cuda' or 'cpu'."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Group()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
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
