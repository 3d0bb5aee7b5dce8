"""The `augmix` command line: one subcommand per module, imported only when it runs."""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from augmix._util.errors import AugMixError

# name -> one-line help. Module `augmix.cli.<name>` exposes `add_arguments(parser)` and
# `run(args) -> int | None`; only the module of the subcommand given is imported.
COMMANDS: dict[str, str] = {
    "bench": "views per second: per-image AugMix in a DataLoader vs BatchAugMix",
    "compare": "train several methods alike, evaluate all on one corrupted set, one report",
    "corrupt": "write a -C data set (CIFAR .npy, ImageNet-C tree, a copy of any image folder) or a preview grid",
    "demo": "Standard vs AugMix+JSD on the synthetic set: train, corrupt, evaluate, report",
    "eval": "evaluate a checkpoint on clean and corrupted test sets -> results JSON",
    "gallery": "write a PNG grid of images, their AugMix chains and the mix",
    "perturb": "write a -P data set (CIFAR-10-P .npy sequences or an ImageNet-P video tree)",
    "report": "Markdown tables and PNG plots comparing results records",
    "train": "train a model with a recipe (AugMix + JSD or a baseline); resume; torchrun DDP",
}


def flag(dest: str) -> str:
    """The command-line spelling of an argument's `dest`: test_subset -> --test-subset."""
    return "--" + dest.replace("_", "-")


def add_old_spelling(parser, old: str, dest: str, **options) -> None:
    """Accept `old`, a flag's former name, as a spelling of `dest`, hidden from --help."""
    parser.add_argument(old, dest=dest, **options, help=argparse.SUPPRESS, default=argparse.SUPPRESS)


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named in argv (the first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the subcommand named in `argv` gets its arguments (and its imports).
    With `argv=None` every subcommand is built in full (for documentation and tests)."""
    wanted = _command_in(argv) if argv is not None else None
    parser = argparse.ArgumentParser(prog="augmix", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if argv is None or name == wanted:
            importlib.import_module(f"augmix.cli.{name}").add_arguments(cmd)
    return parser


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 1000 else text[:997] + "..."


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (it may be replaced, e.g. in tests)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _):
        pass


def _show_status_messages() -> None:
    """The library's status messages (logger "augmix", e.g. a first-use compile) on stderr."""
    logger = logging.getLogger("augmix")
    logger.disabled = False  # a library's logging.config call (disable_existing_loggers) may have switched it off
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("augmix: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. A package error, a bad argument or an unusable file ends as one
    line on stderr and exit code 2; Ctrl-C as one line (and how to resume) and code 130."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    _show_status_messages()
    command = importlib.import_module(f"augmix.cli.{args.command}")
    try:
        return command.run(args) or 0
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (AugMixError, ValueError, OSError) as err:
        print(f"augmix {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = getattr(command, "resume_hint", lambda args: None)(args)
        print(f"augmix {args.command}: interrupted" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
