"""`augmix report`: Markdown tables and PNG plots comparing results records side by side.

Figures follow the AugMix paper: error per corruption, and error and RMS calibration error
by severity (0 = clean), plus reliability diagrams when the records carry histograms and the
flip probability per perturbation when they carry -P stability results.
"""
from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

from augmix._util.atomic import atomic_write
from augmix.evaluation import metrics
from augmix.evaluation.results import ResultsRecord, summarize

ERROR_BY_CORRUPTION_PNG = "error_by_corruption.png"
BY_SEVERITY_PNG = "error_and_calibration_by_severity.png"
RELIABILITY_PNG = "reliability.png"
FLIP_PROBABILITY_PNG = "flip_probability_by_perturbation.png"

logger = logging.getLogger("augmix")


# ----------------------------------------------------------------------------- data
def load_records(paths: Sequence[str | Path]) -> list[ResultsRecord]:
    """Read results records; their names label the runs, so they must differ."""
    if not paths:
        raise ValueError("runs must name at least one results record (JSON file)")
    records = [ResultsRecord.from_json(p) for p in paths]
    names = [r.name for r in records]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"runs must have distinct names, got {dupes} more than once; "
                         "rename the records' `name` field")
    return records


def _with_summary(record: ResultsRecord) -> tuple[ResultsRecord, str | None]:
    """The record, summarized if it has no summary yet; a note when that is impossible."""
    if record.summary:
        return record, None
    try:
        return summarize(record), None
    except ValueError as err:
        return record, f"{record.name}: no summary ({err})"


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"


def images_used(record: ResultsRecord) -> str:
    """'5,000 / 5,000': clean images, then images per corrupted set ('—' without any)."""
    corrupted = record.images.get("corrupted")
    return (f"{_count(record.images.get('clean'))} / "
            + ("—" if corrupted is None and not record.corruptions else _count(corrupted)))


def comparability_warning(records: Sequence[ResultsRecord]) -> str | None:
    """A sentence when the records were not evaluated on the same data set and image counts
    (their numbers are then not comparable), else None."""
    if len(records) < 2:
        return None
    datasets = {r.dataset for r in records}
    counts = {images_used(r) for r in records} - {"? / ?", "? / —"}  # unknown: records of schema 1
    if len(datasets) == 1 and len(counts) <= 1:
        return None
    what = ", ".join(f"{r.name}: {r.dataset}, {images_used(r)}" for r in records)
    return ("the runs were not evaluated on the same images (data set, clean / per corrupted set: "
            f"{what}); their numbers are not directly comparable")


def _corruption_names(records: Sequence[ResultsRecord]) -> list[str]:
    present = {c for r in records for c in r.corruptions}
    return [c for c in metrics.CORRUPTIONS + metrics.EXTRA_CORRUPTIONS if c in present]


def _mean_over_severities(record: ResultsRecord, corruption: str, key: str = "error") -> float | None:
    values = [cell[key] for cell in record.corruptions.get(corruption, {}).values() if key in cell]
    return float(np.mean(values)) if values else None


def _by_severity(record: ResultsRecord, key: str) -> list[float | None]:
    """Clean value, then the mean over the benchmark corruptions present at severities 1..5."""
    out = [record.clean.get(key)]
    for s in metrics.SEVERITIES:
        values = [record.corruptions[c][str(s)][key] for c in metrics.CORRUPTIONS
                  if key in record.corruptions.get(c, {}).get(str(s), {})]
        out.append(float(np.mean(values)) if values else None)
    return out


def _n_benchmark(record: ResultsRecord) -> int:
    return sum(c in record.corruptions for c in metrics.CORRUPTIONS)


def _perturbation_names(records: Sequence[ResultsRecord]) -> list[str]:
    """The perturbations any run has: the 10 test ones in their order, then the others."""
    present = {p for r in records for p in r.stability.get("perturbations", {})}
    return [p for p in metrics.P_PERTURBATIONS if p in present] + sorted(present - set(metrics.P_PERTURBATIONS))


def _stability_value(record: ResultsRecord, perturbation: str, key: str) -> float | None:
    return record.stability.get("perturbations", {}).get(perturbation, {}).get(key)


# ----------------------------------------------------------------------------- markdown
def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}"


def _esc(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _meta_value(meta: dict, key: str, fmt: str = "{}") -> str:
    value = meta.get(key)
    if value is None:
        return "—"
    try:
        return _esc(fmt.format(value))
    except (TypeError, ValueError):  # meta is free-form: show what is there
        return _esc(str(value))


def _stability_markdown(records: Sequence[ResultsRecord]) -> list[str]:
    """Stability under perturbation sequences: the means, then FP and uT5D per perturbation."""
    perturbations = _perturbation_names(records)
    if not perturbations:
        return []
    runs = [r for r in records if r.stability]
    out = ["", "## Stability under perturbations (-P)", "",
           "Flip probability: how often the top-1 prediction changes from one frame to the next (noise "
           "sequences: from the first frame), in %. Top-5 distance: how far the top 5 classes move "
           "(0 to 15). Means over the 10 test perturbations; mFR and mT5D divide each perturbation's "
           "value by AlexNet's first (ImageNet-P), in %. Lower is more stable.", ""]

    def number(value):
        return "—" if value is None else f"{value:.3f}"

    out += _table(["Run", "Mean flip probability", "Mean top-5 distance", "mFR", "mT5D", "Difficulty",
                   "Sequences", "Baseline"],
                  [[_esc(r.name), _pct(r.stability.get("mean_flip_probability")),
                    number(r.stability.get("mean_top5_distance")), _pct(r.stability.get("mfr")),
                    _pct(r.stability.get("mt5d")), str(r.stability.get("difficulty", 1)),
                    _esc(r.stability.get("source", "—")), _esc(r.stability.get("baseline") or "—")]
                   for r in runs])
    for r in runs:
        if r.stability.get("note"):
            out += ["", f"Note: {_esc(r.name)}: {_esc(r.stability['note'])}"]
    for key, title, fmt in (("flip_probability", "Flip probability by perturbation (%)", _pct),
                            ("top5_distance", "Top-5 distance by perturbation", number)):
        if not any(_stability_value(r, p, key) is not None for r in runs for p in perturbations):
            continue
        out += ["", f"### {title}", ""]
        out += _table(["Perturbation"] + [_esc(r.name) for r in runs],
                      [[p + ("" if p in metrics.P_PERTURBATIONS else " (validation)")]
                       + [fmt(_stability_value(r, p, key)) for r in runs] for p in perturbations])
    return out


def _bound(meta: dict) -> str:
    """'model (12 / 3 / 80)': the part the run spent most time in, and the three times."""
    if meta.get("bound_by") is None:
        return "—"
    seconds = " / ".join(_meta_value(meta, f"{part}_s", "{:.0f}") for part in ("source", "loader", "model"))
    return f"{_meta_value(meta, 'bound_by')} ({seconds})"


def markdown(records: Sequence[ResultsRecord], figures: Sequence[str], notes: Sequence[str] = ()
             ) -> str:
    """The report text: summary, per-corruption and per-severity tables, figures, run details."""
    names = [_esc(r.name) for r in records]
    out = ["# Robustness report", "",
           "Errors and calibration errors in %, lower is better. Mean corruption error is the "
           "plain mean over the 15 corruptions x 5 severities (CIFAR-C convention); mCE and "
           "relative mCE are AlexNet-normalized (ImageNet-C only). RMS calibration error uses "
           "adaptive bins of 100 examples.", ""]

    out += ["## Summary", ""]
    rows = []
    for r in records:
        s = r.summary
        rows.append([_esc(r.name), _esc(r.dataset), images_used(r), _pct(r.clean.get("error")),
                     _pct(s.get("mean_corruption_error")), _pct(s.get("mce")),
                     _pct(s.get("relative_mce")), _pct(r.clean.get("rms_calibration_error")),
                     _pct(s.get("mean_rms_calibration_error_corrupted"))])
    out += _table(["Run", "Dataset", "Images (clean / each corrupted set)", "Clean error",
                   "Mean corruption error", "mCE",
                   "Relative mCE", "RMS calib. error (clean)", "RMS calib. error (corrupted)"],
                  rows)
    aggregations = {r.name: r.summary.get("rms_calibration_aggregation") for r in records}
    if any(aggregations.values()):
        out += ["", "Corrupted RMS calibration error aggregation: " + ", ".join(
            f"{n}: {a or '—'}" for n, a in aggregations.items())
            + " (per_corruption_pooled: severities pooled per corruption, then the mean over "
              "corruptions; per_cell: the mean over the 75 corruption x severity cells)."]
    for note in notes:
        out += ["", f"Note: {note}"]

    out += ["", "## Clean test set", ""]
    out += _table(["Run", "Top-1 error", "Top-5 error", "RMS calib. error", "ECE", "NLL (nats)"],
                  [[_esc(r.name), _pct(r.clean.get("error")), _pct(r.clean.get("top5_error")),
                    _pct(r.clean.get("rms_calibration_error")), _pct(r.clean.get("ece")),
                    "—" if r.clean.get("nll") is None else f"{r.clean['nll']:.3f}"]
                   for r in records])

    corruptions = _corruption_names(records)
    if corruptions:
        out += ["", "## Error by corruption", "", "Mean over severities 1-5."
                + (" Validation corruptions (not in the means): "
                   + ", ".join(c for c in corruptions if c in metrics.EXTRA_CORRUPTIONS) + "."
                   if any(c in metrics.EXTRA_CORRUPTIONS for c in corruptions) else ""), ""]
        partial = False
        rows = []
        for c in corruptions:
            row = [c]
            for r in records:
                cell = _pct(_mean_over_severities(r, c))
                if 0 < len(r.corruptions.get(c, {})) < len(metrics.SEVERITIES):
                    cell, partial = cell + " †", True
                row.append(cell)
            rows.append(row)
        out += _table(["Corruption"] + names, rows)
        if partial:
            out += ["", "† mean over the severities present only (fewer than 5)."]
        for key, title in (("error", "Error by severity"),
                           ("rms_calibration_error", "RMS calibration error by severity")):
            series = [_by_severity(r, key) for r in records]
            if all(v is None for values in series for v in values):
                continue
            out += ["", f"## {title}", "",
                    "Severity 0 is the clean test set; severities 1-5 average the benchmark "
                    "corruptions present (" + ", ".join(
                        f"{r.name}: {_n_benchmark(r)} of 15" for r in records) + ").", ""]
            out += _table(["Severity"] + names,
                          [["0 (clean)" if s == 0 else str(s)] + [_pct(v[s]) for v in series]
                           for s in range(6)])

    out += _stability_markdown(records)

    if figures:
        out += ["", "## Figures", ""]
        out += [f"![{f}]({f})" for f in figures]

    out += ["", "## Runs", ""]
    out += _table(["Run", "Corrupted-set source images/s", "Loader images/s", "Model images/s",
                   "Bound by (s waiting for source / loader / model)", "Wall time (s)", "Seed",
                   "Hardware", "Command"],
                  [[_esc(r.name), _meta_value(r.meta, "source_images_per_s", "{:.0f}"),
                    _meta_value(r.meta, "loader_images_per_s", "{:.0f}"),
                    _meta_value(r.meta, "model_images_per_s", "{:.0f}"), _bound(r.meta),
                    _meta_value(r.meta, "wall_time_s", "{:.1f}"), _meta_value(r.meta, "seed"),
                    _meta_value(r.meta, "hardware"),
                    "—" if r.meta.get("command") is None
                    else "`" + _meta_value(r.meta, "command") + "`"] for r in records])
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- plots
def _color(i: int) -> str:
    return f"C{i % 10}"


def _grouped_bars(records: Sequence[ResultsRecord], categories: list[str], value, n_main: int,
                  ylabel: str, title: str, apart: str) -> Figure:
    """Bars per category, one per run (`value(record, category)`, a fraction or None), the
    categories after the first `n_main` set apart as `apart`."""
    fig = Figure(figsize=(max(8.0, 0.65 * len(categories) + 2), 4.8), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(categories))
    width = 0.8 / len(records)
    for i, r in enumerate(records):
        heights = [np.nan if v is None else 100 * v for v in (value(r, c) for c in categories)]
        ax.bar(x + (i - (len(records) - 1) / 2) * width, heights, width, label=r.name,
               color=_color(i))
    ax.set_xticks(x, [c.replace("_", " ") for c in categories], rotation=40, ha="right",
                  rotation_mode="anchor")
    if 0 < n_main < len(categories):
        ax.axvline(n_main - 0.5, color="gray", linestyle="--", linewidth=1)
        ax.text(n_main - 0.4, 0.98, f"{apart}\n(not in the means)",
                transform=ax.get_xaxis_transform(), va="top", fontsize=8, color="dimgray")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    # above the axes, so that it never hides a bar
    fig.legend(loc="outside upper center", ncols=min(len(records), 4), frameon=False)
    return fig


def plot_error_by_corruption(records: Sequence[ResultsRecord]) -> Figure:
    """Grouped bars: mean error over severities per corruption, one bar per run."""
    corruptions = _corruption_names(records)
    return _grouped_bars(records, corruptions, _mean_over_severities,
                         sum(c in metrics.CORRUPTIONS for c in corruptions),
                         "Error (%), mean over severities 1-5", "Error by corruption",
                         "validation corruptions")


def plot_flip_probability(records: Sequence[ResultsRecord]) -> Figure:
    """Grouped bars: flip probability per perturbation, one bar per run."""
    names = _perturbation_names(records)
    return _grouped_bars(records, names, lambda r, p: _stability_value(r, p, "flip_probability"),
                         sum(p in metrics.P_PERTURBATIONS for p in names),
                         "Flip probability (%)", "Flip probability by perturbation",
                         "validation perturbations")


def plot_by_severity(records: Sequence[ResultsRecord]) -> Figure:
    """Two panels as in the paper: error and RMS calibration error vs severity (0 = clean)."""
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, key, label in ((axes[0], "error", "Error (%)"),
                           (axes[1], "rms_calibration_error", "RMS calibration error (%)")):
        for i, r in enumerate(records):
            values = [np.nan if v is None else 100 * v for v in _by_severity(r, key)]
            ax.plot(range(6), values, marker="o", label=r.name, color=_color(i))
        ax.set_xticks(range(6), ["clean", "1", "2", "3", "4", "5"])
        ax.set_xlabel("Corruption severity")
        ax.set_ylabel(label)
        ax.set_title(label.replace(" (%)", "") + " by severity")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    # one legend for both panels, above them, so that it never hides a line
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center",
               ncols=min(len(records), 4), frameon=False)
    return fig


def plot_reliability(records: Sequence[ResultsRecord]) -> Figure | None:
    """Reliability diagrams (accuracy per confidence bin), one column per run with histograms."""
    panels = [(r, key) for r in records for key in ("clean", "corrupted") if key in r.reliability]
    if not panels:
        return None
    runs = [r for r in records if r.reliability]
    keys = [k for k in ("clean", "corrupted") if any(k in r.reliability for r in runs)]
    fig = Figure(figsize=(3.6 * len(runs) + 0.4, 3.6 * len(keys) + 0.3), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(keys), len(runs), squeeze=False))
    for col, r in enumerate(runs):
        for row, key in enumerate(keys):
            ax = axes[row, col]
            hist = r.reliability.get(key)
            if hist is None:
                ax.set_axis_off()
                continue
            edges = np.asarray(hist["bin_edges"])
            centers, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
            acc = np.array([np.nan if a is None else a for a in hist["accuracy"]])
            conf = np.array([np.nan if c is None else c for c in hist["confidence"]])
            ax.bar(centers, acc, widths, color=_color(records.index(r)), edgecolor="black",
                   linewidth=0.5, label="accuracy")
            ax.bar(centers, conf - acc, widths, bottom=acc, color="red", alpha=0.25,
                   edgecolor="red", linewidth=0.5, label="gap to confidence")
            ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            ax.set_aspect("equal")
            ax.set_xlabel("Confidence")
            ax.set_ylabel("Accuracy")
            ece = metrics.ece_from_histogram(hist)
            title = textwrap.shorten(r.name, width=34, placeholder="...")
            ax.set_title(f"{title}\n{key}: ECE {100 * ece:.1f}%, n = {sum(hist['count'])}",
                         fontsize=10)
            ax.legend(loc="upper left", fontsize=8)
    return fig


def _write(path: Path, data: bytes | str) -> Path:
    with atomic_write(path) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _save_png(fig: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return _write(path, buffer.getvalue())


def write_report(records: Sequence[ResultsRecord], out_dir: str | Path) -> list[Path]:
    """Write report.md and the PNG figures into `out_dir`; returns the written paths."""
    out_dir = Path(out_dir)
    summarized = [_with_summary(r) for r in records]
    records = [r for r, _ in summarized]
    notes = [n for _, n in summarized if n]
    warning = comparability_warning(records)
    if warning:
        logger.warning("warning: %s", warning)
        notes.insert(0, warning)
    figures: dict[str, Figure] = {}
    if _corruption_names(records):
        figures[ERROR_BY_CORRUPTION_PNG] = plot_error_by_corruption(records)
        figures[BY_SEVERITY_PNG] = plot_by_severity(records)
    if _perturbation_names(records):
        figures[FLIP_PROBABILITY_PNG] = plot_flip_probability(records)
    reliability = plot_reliability(records)
    if reliability is not None:
        figures[RELIABILITY_PNG] = reliability
    without = [r.name for r in records if not r.reliability]
    if without:
        notes.append("no reliability diagram for " + ", ".join(without)
                     + " (the record has no `reliability` histogram)")
    written = [_save_png(fig, out_dir / name) for name, fig in figures.items()]
    written.append(_write(out_dir / "report.md", markdown(records, list(figures), notes)))
    return written


# ----------------------------------------------------------------------------- CLI
