"""augmix compare: several training methods on the same data, budget and seed, evaluated on
the same corrupted test set, summarized in one table and one report.

    out/<method>/            one training run each (checkpoint, metrics, results.json)
    out/<dataset>-C/         the corrupted test set, written once in the CIFAR-C layout
    out/<dataset>-P/         with perturbations="generate": the -P sequences, written once
    out/report/              report.md and its PNG figures

Everything is resumable: a finished run is kept, an interrupted one continues from its last
checkpoint, and the corrupted set is completed rather than rewritten.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from augmix._util.errors import TrainingError
from augmix.evaluation.results import ResultsRecord

# Method names accepted besides the baselines: AugMix with and without its consistency loss.
AUGMIX_VARIANTS = {"augmix": True, "augmix-no-jsd": False}


def method_settings(method: str) -> dict[str, Any]:
    """Training-config fields that select `method` (where AugMix runs applies to AugMix only:
    the other methods of a comparison keep their per-image pipeline)."""
    from augmix.train.config import METHOD_NAMES

    if method in AUGMIX_VARIANTS:
        return {"method": "augmix", "jsd": AUGMIX_VARIANTS[method]}
    if method in METHOD_NAMES:
        return {"method": method, "jsd": False, "augment_on": "workers"}
    choices = sorted(set(METHOD_NAMES) | set(AUGMIX_VARIANTS))
    raise ValueError(f"methods must be among {choices}, got {method!r}")


def train_or_resume(config, run_dir: Path, progress: bool = True) -> Path:
    """Train `config` into `run_dir`; keep a finished run of the same settings (its records
    repaired if a kill left them short), continue an interrupted one, and refuse a run made
    with settings that change the results."""
    from augmix.train.checkpoint import FILENAME, read_checkpoint
    from augmix.train.config import RESUMABLE_OVERRIDES, changed_settings, resumed_config
    from augmix.train.trainer import repair_records, train

    if not (run_dir / FILENAME).exists():
        return train(config, out=run_dir, progress=progress)
    saved = read_checkpoint(run_dir)
    changed = changed_settings(saved["config"], config)
    if changed:
        listed = ", ".join(f"{name} {old!r} (now {new!r})" for name, (old, new) in changed.items())
        raise ValueError(f"{run_dir} holds a run made with other settings: {listed}; choose another "
                         f"--out, or delete {run_dir} to train it again with the new settings")
    if saved["epoch"] >= config.epochs:
        repair_records(run_dir)
        return run_dir
    execution = {name: getattr(config, name) for name in RESUMABLE_OVERRIDES}
    return train(resumed_config(run_dir, **execution), out=run_dir, resume=True, progress=progress)


def corrupted_test_set(clean, out: Path, *, names: Sequence[str], severities: Sequence[int],
                       seed: int, workers: int, progress: bool = True) -> Path:
    """Write (or complete) the corrupted counterpart of `clean` once, for every method."""
    from augmix.data.generate import write_cifar_c

    folder = out / f"{clean.dataset}-C"
    return write_cifar_c(clean.images, clean.labels, folder, names=names, severities=severities,
                         seed=seed, workers=workers, progress=progress)


def compare(methods: Sequence[str], *, out: str | os.PathLike, recipe: str | None = None,
            overrides: dict[str, Any] | None = None, corrupted: str | None = None,
            severities: Sequence[int] = (1, 2, 3, 4, 5), corruption_seed: int = 0,
            workers: int | None = None, progress: bool = True, perturbations: str | None = None,
            stability_subset: int | None = None) -> list[ResultsRecord]:
    """Train each method, evaluate all on the same corrupted set, write out/report/.

    `overrides` are training-config fields shared by every method (model, data, epochs,
    seed, ...); their `test_subset` limits the final evaluation too. `corrupted` is a
    released CIFAR-C folder; by default the test set is corrupted once with
    `corruption_seed` and written under `out`. For ImageNet-style folder data (FOLDER/train,
    FOLDER/val) `corrupted` is required: the ImageNet-C tree the models are evaluated on.
    `perturbations` ('generate' or a -P folder) adds stability under perturbation sequences,
    on the first `stability_subset` (default: `test_subset`) of them.
    """
    from augmix.corruptions import CORRUPTIONS
    from augmix.data.sources import cifar_root
    from augmix.evaluation.evaluator import evaluate
    from augmix.evaluation.report import write_report
    from augmix.evaluation.sources import clean_test_set, corrupted_sets, perturbed_sets, source_kind
    from augmix.evaluation.stability import evaluate_stability
    from augmix.perturbations import PERTURBATIONS
    from augmix.train.checkpoint import load_model, read_checkpoint
    from augmix.train.config import make_config

    if not methods or len(set(methods)) != len(methods):
        raise ValueError(f"methods must be distinct names, at least one, got {list(methods)}")
    out = Path(out)
    configs = {m: make_config(recipe, **{**(overrides or {}), **method_settings(m)}) for m in methods}
    data = {(c.data, c.data_root, c.verify) for c in configs.values()}
    if len(data) != 1:
        raise ValueError("every method must train on the same data")
    first = next(iter(configs.values()))
    folder_data = first.data not in ("synthetic", "cifar10", "cifar100")
    if folder_data and not corrupted:
        raise ValueError(f"compare on the image folder {first.data} needs --corrupted: the ImageNet-C "
                         f"tree (<corruption>/<severity>/<wnid>/...) to evaluate on, the released one or "
                         f"one written with `augmix corrupt`")
    dataset = "imagenet" if folder_data else first.data
    workers = workers or os.cpu_count() or 1
    if folder_data:  # the val/ tree, as for training
        root = str(Path(first.data) / "val" if (Path(first.data) / "val").is_dir() else first.data)
    else:
        root = None if first.data == "synthetic" else str(cifar_root(first.data_root))
    test_subset = first.test_subset
    # With --download, CIFAR may only arrive with the training: its test set is read afterwards.
    clean = None if first.download and first.data != "synthetic" else clean_test_set(
        root, dataset, verify=first.verify, limit=test_subset)
    if not corrupted:  # before any training: a set made with other settings is refused now
        _check_corrupted_folder(out / f"{first.data}-C", seed=corruption_seed, severities=severities,
                                images=None if clean is None else len(clean.labels))

    for method, config in configs.items():
        train_or_resume(config, out / method, progress)
    done = {method: read_checkpoint(out / method)["epoch"] for method in configs}
    unfinished = {method: epochs for method, epochs in done.items() if epochs < configs[method].epochs}
    if unfinished:
        raise TrainingError(f"runs {unfinished} (method: epochs done) stopped before their {first.epochs} "
                            f"epochs (--stop-after); they are not evaluated. Run the same command without "
                            f"--stop-after to finish them")

    if clean is None:
        clean = clean_test_set(root, dataset, verify=first.verify, limit=test_subset)
    c_folder = Path(corrupted) if corrupted else corrupted_test_set(
        clean, out, names=CORRUPTIONS, severities=severities, seed=corruption_seed, workers=workers,
        progress=progress)
    p_sets = None if perturbations is None else perturbed_sets(
        perturbations, clean, out / f"{dataset}-P", PERTURBATIONS, limit=stability_subset or test_subset,
        seed=corruption_seed, workers=workers, progress=progress)

    records = []
    for method in methods:
        model, meta = load_model(out / method)
        sets, total = corrupted_sets(str(c_folder), clean, CORRUPTIONS, severities, verify=first.verify)
        record = evaluate(model, clean.images, clean.labels, sets, name=method, dataset=dataset,
                          mean=meta["mean"], std=meta["std"], total_sets=total,
                          progress=progress,
                          meta={"seed": configs[method].seed, "model": meta["model"],
                                "epochs": meta["epoch"], "train_wall_time_s": _train_time(out / method),
                                "corruption_source": source_kind(corrupted) if corrupted else "generated",
                                "command": f"augmix compare (method {method})"})
        if p_sets is not None:
            record.stability = {**evaluate_stability(
                model, p_sets[0], dataset=dataset, mean=meta["mean"], std=meta["std"], folder=p_sets[1],
                progress=progress, desc=f"stability {method}"),
                "source": "generated" if perturbations == "generate" else str(p_sets[1])}
        record.to_json(out / method / "results.json")
        records.append(record)
    write_report(records, out / "report")
    return records


def _check_corrupted_folder(folder: Path, *, seed: int, severities: Sequence[int],
                            images: int | None) -> None:
    """ValueError naming what differs when `folder` holds a corrupted set made with other
    settings than this comparison's (it would be refused once the training is done)."""
    import json

    path = folder / "meta.json"
    if not path.is_file():
        return
    try:
        meta = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not readable ({err}); delete {folder} to make the set again") from None
    asked = {"seed": (seed, "--corruption-seed"), "severities": (sorted(severities), "severities"),
             "images": (images, "--test-subset")}
    differ = [f"{key} {meta.get(key)!r} (now {value!r}, {flag})" for key, (value, flag) in asked.items()
              if value is not None and meta.get(key) != value]
    if differ:
        raise ValueError(f"{folder} holds a corrupted test set made with other settings: "
                         f"{', '.join(differ)}; choose another --out, or delete {folder} to make it "
                         f"again with the new settings")


def _train_time(run_dir: Path) -> float | None:
    """Seconds of training summed over the run's epochs (resumed parts included)."""
    import json

    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return None
    return sum(json.loads(line).get("epoch_s", 0.0) for line in path.read_text().splitlines() if line)


def comparison_table(records: Sequence[ResultsRecord]) -> str:
    """A plain-text table: clean error, mean corruption error, RMS calibration errors, and the
    mean flip probability when a record has stability results."""
    def pct(value):
        return "—" if value is None else f"{100 * value:.2f}"

    stability = any(r.stability for r in records)
    rows = [("method", "clean err %", "mean corr. err %", "RMS calib clean %", "RMS calib corr. %")
            + (("mean flip prob. %",) if stability else ()) + ("train s",)]
    for r in records:
        train_s = r.meta.get("train_wall_time_s")
        rows.append((r.name, pct(r.clean.get("error")), pct(r.summary.get("mean_corruption_error")),
                     pct(r.clean.get("rms_calibration_error")),
                     pct(r.summary.get("mean_rms_calibration_error_corrupted")))
                    + ((pct(r.stability.get("mean_flip_probability")),) if stability else ())
                    + ("—" if train_s is None else f"{train_s:.0f}",))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                       enumerate(zip(row, widths))) for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0])] + lines[1:])


# ----------------------------------------------------------------------------- command line
