"""The house by pipeline stage: imports flow one way, no circles, a light command line.

The layers contract lives in pyproject.toml ([tool.importlinter]); import-linter
checks it over every import, function-level ones included.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter import cli as importlinter_cli

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("augmix")


def test_layers_contract_is_kept(capsys):
    status = importlinter_cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                                           no_logo=True)
    assert status == 0, capsys.readouterr().out[-3000:]


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle(graph):
    # A package's __init__ re-exporting its own modules is not a circle between modules.
    cycles = [c for c in _cycles(graph)
              if not all(m.rsplit(".", 1)[0] == c[0].rsplit(".", 1)[0] or m == c[0].rsplit(".", 1)[0]
                         for m in c)]
    assert cycles == [], f"import circles: {cycles}"


def test_cycle_finder_finds_a_circle():
    g = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        g.add_module(module)
    g.add_import(importer="pkg.a", imported="pkg.b")
    g.add_import(importer="pkg.b", imported="pkg.c")
    g.add_import(importer="pkg.c", imported="pkg.a")
    assert _cycles(g) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_only_the_public_modules_at_the_top():
    top = sorted(p.name for p in (SRC / "augmix").iterdir() if p.suffix == ".py")
    assert top == ["__init__.py", "__main__.py", "loss.py"]


def test_library_modules_do_not_parse_arguments_print_or_exit():
    offenders = []
    for path in (SRC / "augmix").rglob("*.py"):
        if "cli" in path.relative_to(SRC / "augmix").parts or path.name == "__main__.py":
            continue
        text = path.read_text()
        for needle in (r"^\s*import argparse", r"(?<![\w.])print\(", r"\bsys\.exit\("):
            if re.search(needle, text, re.MULTILINE):
                offenders.append(f"{path.relative_to(SRC)}: {needle}")
    assert offenders == []


@pytest.mark.parametrize("argv", [["--help"], ["report", "--help"]])
def test_help_imports_neither_numba_nor_training_nor_plotting(argv):
    code = ("import sys\nfrom augmix.cli import main\ntry:\n    main(%r)\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'matplotlib') or m.startswith("
            "('augmix.train', 'augmix.baselines', 'augmix.models', 'augmix.augment.cpu_kernel')))\n"
            "print('HEAVY', heavy, file=sys.stderr)\n" % (argv,))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert "HEAVY []" in done.stderr, done.stderr[-2000:]
    assert "usage: augmix" in done.stdout


def test_the_documented_public_names_import():
    code = ("import augmix.ops, augmix.metrics\n"
            "from augmix import AugMix, AugMixDataset, AugMixLoss, BatchAugMix, jsd_consistency, metrics, ops\n"
            "from augmix.metrics import mean_corruption_error\n"
            "from augmix.ops import rotate, shear_x\n"
            "from augmix.corruptions import corrupt\n"
            "from augmix.models import create_model, list_models\n"
            "from augmix.evaluation import evaluate\n"
            "from augmix.train import TrainConfig, load_model, make_config, train\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
