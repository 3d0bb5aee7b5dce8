"""BatchAugMix: AugMix over NCHW batches on any device, every draw made per sample.

The recipe is the per-image one (`augmix.augment`): for each sample, `width`
chains of 1-3 ops drawn uniformly with replacement, each at a level
~ U(0.1, severity) with a random sign for the geometric ops, chain weights
~ Dirichlet(alpha), skip weight ~ Beta(alpha, alpha), mixed in float32.
The draws come from one `torch.Generator` (a few numbers per sample; the plan
is kept on the CPU, so a CPU generator gives the same plan for images on any
device); the images stay on their device. At each chain step the rows that
drew the same op are made adjacent and transformed in one call
(`augmix.ops.tensor`), so an op runs only on the samples that chose it, and
the batch is never looped over in Python.
"""
from __future__ import annotations

import ctypes
import math
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import torch
from torch import nn

from augmix._util.convert import check_channels, mean_std, normalize_, to_unit_float
from augmix.augment.ops import tensor as tensor_ops
from augmix.augment.plan import (
    PARAMETERLESS_OPS,
    SIGNED_OPS,
    BatchPlan,
    ProcessGenerator,
    check_params,
    sample_batch_plan,
)


def _cpu_kernel():
    """`augmix.augment.cpu_kernel`, imported when a BatchAugMix is first made (the command
    line's help imports `augmix` and must not import the kernel)."""
    from augmix.augment import cpu_kernel
    return cpu_kernel


# Rows transformed at once on the CPU: enough to amortize the per-call cost, small enough to
# stay in cache (large temporaries cost page faults on every call).
CPU_CHUNK_BYTES = 1 << 23


_HUGE_PAGE = 2 << 20
_MADV_HUGEPAGE = 14
_madvise = None
if sys.platform.startswith("linux"):
    try:
        _madvise = ctypes.CDLL(None, use_errno=True).madvise
        _madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    except (OSError, AttributeError):  # pragma: no cover - a libc without madvise
        _madvise = None


def empty_output(shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    """A float32 output buffer. On Linux, large CPU buffers are marked for transparent huge
    pages: the kernel then maps them 2 MB at a time on first write instead of 4 KB, which
    makes a fresh 224 px JSD batch's output about 3x cheaper to fault in (benchmarks/)."""
    out = torch.empty(shape, dtype=torch.float32, device=device)
    if _madvise is not None and out.device.type == "cpu" and out.numel() * 4 >= 4 * _HUGE_PAGE:
        start = -(-out.data_ptr() // _HUGE_PAGE) * _HUGE_PAGE
        end = (out.data_ptr() + out.numel() * 4) // _HUGE_PAGE * _HUGE_PAGE
        _madvise(start, end - start, _MADV_HUGEPAGE)  # advice only: failure changes nothing
    return out


def check_batch(x, argument: str = "x", single_ok: bool = False) -> None:
    """Raise unless `x` is an NCHW batch (or, with `single_ok`, a CHW image) with C in {1, 3},
    not empty, uint8 (0..255) or floating point in [0, 1]; the message names `argument`."""
    expected = "a CHW image (C, H, W) or an NCHW batch (N, C, H, W)" if single_ok else "an NCHW batch (N, C, H, W)"
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{argument} must be {expected} (a torch.Tensor), got {type(x).__name__}")
    ndims = (3, 4) if single_ok else (4,)
    if x.ndim not in ndims or x.shape[-3] not in (1, 3):
        raise ValueError(f"{argument} must be {expected} with C = 1 or 3 channels, got shape {tuple(x.shape)}")
    if x.dtype != torch.uint8 and not x.is_floating_point():
        raise ValueError(f"{argument} must be uint8 (0..255) or floating point (0..1), got dtype {x.dtype}")
    if x.numel() == 0:
        raise ValueError(f"{argument} is empty (shape {tuple(x.shape)}): expected {expected} of at least "
                         f"one 1x1 image")
    if x.is_floating_point():
        lo, hi = (float(v) for v in torch.aminmax(x))
        if math.isnan(lo) or math.isnan(hi):
            raise ValueError(f"{argument} holds NaN values: expected images in [0, 1] (float) or 0..255 (uint8)")
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"{argument} must hold values in [0, 1] (float) or 0..255 (uint8), got values "
                             f"in [{lo:.4g}, {hi:.4g}]; pass images before normalization and give "
                             f"mean/std to normalize the output")


def apply_chains(images: torch.Tensor, ops: torch.Tensor, params: torch.Tensor,
                 names: Sequence[str], fill: tensor_ops.Fill = 0) -> torch.Tensor:
    """Run one chain per row: row r gets ops[r, 0], ops[r, 1], ... (-1: nothing) on images[r].

    Before each step the rows are reordered so that those drawing the same op are adjacent;
    each op then transforms its own slice in one call (`ops` and `params` are CPU tensors).
    """
    state = images
    order = torch.arange(ops.shape[0])  # state row i holds chain order[i]
    for step in range(ops.shape[1]):
        drawn = ops[order, step]
        regroup = torch.argsort(drawn, stable=True)
        order, drawn = order[regroup], drawn[regroup]
        state = state.index_select(0, regroup.to(state.device))
        ends = torch.bincount(drawn + 1, minlength=len(names) + 1).cumsum(0).tolist()
        for index, name in enumerate(names):
            start, end = ends[index], ends[index + 1]
            if start == end:
                continue
            fn = getattr(tensor_ops, name)
            rows = state[start:end]
            if name in PARAMETERLESS_OPS:
                state[start:end] = fn(rows)
                continue
            param = params[order[start:end], step]  # the op moves it to the device when needed
            state[start:end] = fn(rows, param, fill) if name in SIGNED_OPS else fn(rows, param)
    return state.index_select(0, torch.argsort(order).to(state.device))


class BatchAugMix(nn.Module):
    """AugMix over an (N, C, H, W) batch, uint8 (0..255) or float (0..1), on any device.

    `forward(x)` returns the mixed batch as float32 in [0, 1] (normalized with
    `mean`/`std` when given); `jsd_views(x)` returns [clean; aug1; aug2]
    concatenated (3N samples) for one forward pass with the JSD loss. Every
    draw is per sample, from `generator` (a torch.Generator; a CPU one gives
    the same plan for images on any device) or one made from `seed` on first use
    in each process (fresh entropy for None; `augmix.augment.plan.ProcessGenerator`
    says what repeats), so copies in DataLoader workers never repeat each other;
    `forward` and `jsd_views` also take a generator for one call. Float input
    must be unnormalized, in [0, 1] (anything else is an error, not clamped). On the CPU
    the batch is split into chunks run by `threads` threads (default:
    torch.get_num_threads()); the result does not depend on it. uint8 batches on
    the CPU run through the compiled kernel of `augmix.augment.cpu_kernel` when numba is
    installed (`compiled=None`, the default; False forces the tensor ops, True
    requires numba): the same chains, byte for byte, many times faster.

    >>> aug = BatchAugMix(seed=0)
    >>> aug(torch.zeros(4, 3, 32, 32, dtype=torch.uint8)).shape
    torch.Size([4, 3, 32, 32])
    """

    def __init__(self, severity: float = 3, width: int = 3, depth: int = -1, alpha: float = 1.0,
                 all_ops: bool = False, *, fill: tensor_ops.Fill = 0,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None,
                 seed: int | None = None, generator: torch.Generator | None = None,
                 threads: int | None = None, compiled: bool | None = None):
        super().__init__()
        if compiled not in (None, True, False):
            raise ValueError(f"compiled must be None (when numba is installed), True or False, got {compiled!r}")
        kernel_available = _cpu_kernel().available()
        if compiled and not kernel_available:
            raise ValueError("compiled=True needs numba (pip install numba)")
        self.compiled = kernel_available if compiled is None else compiled
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be None (torch.get_num_threads()) or an int >= 1, "
                             f"got {threads!r}")
        self.threads = threads
        check_params(severity, width, depth, alpha)
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        stats = mean_std(mean, std)
        self.severity, self.width, self.depth, self.alpha = severity, width, depth, alpha
        self.all_ops, self.fill = bool(all_ops), fill
        self._generator = generator
        self._process_generator = ProcessGenerator(seed, kind="torch")
        self.normalize = stats is not None
        if self.normalize:
            self.register_buffer("mean", stats[0].view(1, -1, 1, 1), persistent=False)
            self.register_buffer("std", stats[1].view(1, -1, 1, 1), persistent=False)

    @property
    def generator(self) -> torch.Generator:
        """The generator given, or this process' one made from `seed`."""
        return self._generator if self._generator is not None else self._process_generator()

    def sample_plan(self, n: int, image_size: tuple[int, int],
                    generator: torch.Generator | None = None) -> BatchPlan:
        """Draw plans for n images of `image_size` = (width, height), from `generator` if given."""
        return sample_batch_plan(generator or self.generator, n, image_size, severity=self.severity,
                                 width=self.width, depth=self.depth, alpha=self.alpha, all_ops=self.all_ops)

    def _check(self, x: torch.Tensor) -> None:
        check_batch(x, "x")
        tensor_ops._fill_tensor(x, self.fill)  # reject a bad fill before any work
        if self.normalize:
            check_channels(x.shape[1], self.mean.numel())

    def _normalize_(self, out: torch.Tensor) -> torch.Tensor:
        return normalize_(out, self.mean, self.std) if self.normalize else out

    def apply_plan(self, x: torch.Tensor, plan: BatchPlan, sources: torch.Tensor | None = None,
                   out: torch.Tensor | None = None) -> torch.Tensor:
        """Mix image `sources[i]` (default i) of `x` with plan i: float32 (len(plan), C, H, W),
        written into `out` when given."""
        self._check(x)
        return self._apply_plan(x, plan, sources, out)

    def _apply_plan(self, x: torch.Tensor, plan: BatchPlan, sources: torch.Tensor | None = None,
                    out: torch.Tensor | None = None) -> torch.Tensor:
        n_out = len(plan)
        sources = torch.arange(n_out) if sources is None else sources
        if out is None:
            out = empty_output((n_out, *x.shape[1:]), x.device)
        if x.device.type != "cpu":
            self._mix_rows(x, plan, sources, out, slice(0, n_out))
        elif self._use_compiled(x):  # the kernel clamps and normalizes as it mixes
            target = out if out.is_contiguous() else empty_output(tuple(out.shape), out.device)
            self._apply_compiled(x, plan, sources, target)
            return out if target is out else out.copy_(target)
        else:
            self._apply_on_cpu(x, plan, sources, out)
        out.clamp_(0, 1)  # a convex mix, but float rounding can overshoot by an ulp
        return self._normalize_(out)

    def _use_compiled(self, x: torch.Tensor) -> bool:
        return self.compiled and x.dtype == torch.uint8 and x.device.type == "cpu"

    def _threads(self) -> int:
        return self.threads or torch.get_num_threads()

    def _apply_compiled(self, x: torch.Tensor, plan: BatchPlan, sources: torch.Tensor,
                        out: torch.Tensor, clean_out: torch.Tensor | None = None) -> None:
        """The compiled kernel over `threads` Python threads, a few chunks each (chains differ
        in cost); it releases the GIL, so the threads run in parallel. It mixes, clamps and
        normalizes, and writes x itself (as float) into `clean_out` when given."""
        n_out, threads = len(plan), self._threads()
        kernel = _cpu_kernel()
        compiled = kernel.compiled()
        codes, values, matrices = kernel.kernel_steps(plan.names, plan.ops.numpy(), plan.params.numpy(),
                                                         x.shape[3], x.shape[2])
        channels = x.shape[1]
        # One value per channel for the kernel (a single mean/std applies to every channel).
        mean = (self.mean if self.normalize else torch.zeros(1)).reshape(-1).expand(channels).cpu().numpy()
        std = (self.std if self.normalize else torch.ones(1)).reshape(-1).expand(channels).cpu().numpy()
        images = x.contiguous().numpy()
        mixing = (images, sources.numpy().astype(np.int64), codes, values, matrices, plan.chain_weights.numpy(),
                  plan.skip_weights.numpy(), tensor_ops._fill_tensor(x, self.fill).view(-1).numpy(), mean, std,
                  out.numpy())
        step = max(1, -(-n_out // (4 * threads))) if threads > 1 else n_out
        tasks = [(compiled.mix_rows, mixing, s, min(s + step, n_out)) for s in range(0, n_out, step)]
        if clean_out is not None:
            tasks.append((compiled.unit_rows, (images, mean, std, clean_out.numpy()), 0, len(x)))
        if threads == 1:
            for kernel, arguments, start, stop in tasks:
                kernel(*arguments, start, stop)
            return
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda task: task[0](*task[1], task[2], task[3]), tasks))

    def _apply_on_cpu(self, x: torch.Tensor, plan: BatchPlan, sources: torch.Tensor,
                      out: torch.Tensor) -> None:
        """Cache-sized chunks, spread over `threads` Python threads that each run torch
        single-threaded: many small ops scale far better this way than with torch's own
        threads, whose barriers stall whenever another process takes a core."""
        n_out, threads = len(plan), self._threads()
        per_chunk = max(1, CPU_CHUNK_BYTES // (plan.ops.shape[1] * x[0].numel() * x.element_size()))
        per_chunk = min(per_chunk, -(-n_out // threads))
        chunks = [slice(s, min(s + per_chunk, n_out)) for s in range(0, n_out, per_chunk)]
        if threads == 1 or len(chunks) == 1:
            for rows in chunks:
                self._mix_rows(x, plan, sources, out, rows)
            return
        previous = torch.get_num_threads()

        def work(rows: slice) -> None:
            torch.set_num_threads(1)  # per OS thread under OpenMP
            self._mix_rows(x, plan, sources, out, rows)
        try:
            with ThreadPoolExecutor(min(threads, len(chunks))) as pool:
                list(pool.map(work, chunks))
        finally:
            torch.set_num_threads(previous)

    def _mix_rows(self, x: torch.Tensor, plan: BatchPlan, sources: torch.Tensor, out: torch.Tensor,
                  rows: slice) -> None:
        """Run the chains of plan rows `rows` and write their mixes into out[rows]."""
        width, depth = plan.ops.shape[1:]
        images = x.index_select(0, sources[rows].to(x.device))
        chains = apply_chains(images.repeat_interleave(width, 0), plan.ops[rows].reshape(-1, depth),
                              plan.params[rows].reshape(-1, depth), plan.names, self.fill)
        scale = 1 / 255 if x.dtype == torch.uint8 else 1.0
        m = plan.skip_weights[rows].to(x.device).view(-1, 1, 1)
        weights = (m * scale) * plan.chain_weights[rows].to(x.device).unsqueeze(1)
        clean = images.reshape(len(images), 1, -1).to(torch.float32) * ((1 - m) * scale)
        torch.baddbmm(clean, weights, chains.view(len(images), width, -1).to(torch.float32),
                      out=out[rows].view(len(images), 1, -1))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The AugMix view of every image of x (N, C, H, W); draws from `generator` if given."""
        self._check(x)
        return self._apply_plan(x, self.sample_plan(x.shape[0], (x.shape[3], x.shape[2]), generator))

    def jsd_views(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """[clean; aug1; aug2] as one (3N, C, H, W) float32 batch for the JSD loss."""
        self._check(x)
        n = x.shape[0]
        plan = self.sample_plan(2 * n, (x.shape[3], x.shape[2]), generator)
        out = empty_output((3 * n, *x.shape[1:]), x.device)
        if self._use_compiled(x):
            self._apply_compiled(x, plan, torch.arange(2 * n) % n, out[n:], clean_out=out[:n])
            return out
        self._normalize_(out[:n].copy_(to_unit_float(x)))
        self._apply_plan(x, plan, torch.arange(2 * n) % n, out[n:])
        return out

    def extra_repr(self) -> str:
        return (f"severity={self.severity}, width={self.width}, depth={self.depth}, alpha={self.alpha}, "
                f"all_ops={self.all_ops}, fill={self.fill}")
