"""The `augmix` command line: one subcommand per module, imported only when used."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

# name -> (module implementing it, one-line help). Each module exposes
# `add_arguments(parser)` and `run(args) -> int | None`.
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("augmix.bench", "views per second: per-image AugMix in a DataLoader vs BatchAugMix"),
    "compare": ("augmix.compare", "train several methods alike, evaluate all on one corrupted set, one report"),
    "corrupt": ("augmix.corruptions.generate",
                "write a -C data set (CIFAR .npy layout or ImageNet-C JPEG tree) or a preview grid"),
    "demo": ("augmix.demo", "Standard vs AugMix+JSD on the synthetic set: train, corrupt, evaluate, report"),
    "eval": ("augmix.evaluate", "evaluate a checkpoint on clean and corrupted test sets -> results JSON"),
    "gallery": ("augmix.gallery", "write a PNG grid of images, their AugMix chains and the mix"),
    "report": ("augmix.report", "Markdown tables and PNG plots comparing results records"),
    "train": ("augmix.train", "train a model with a recipe (AugMix + JSD or a baseline); resume; torchrun DDP"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="augmix", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return importlib.import_module(args._module).run(args) or 0
    except (ValueError, FileNotFoundError) as err:
        print(f"augmix {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
