"""`augmix report`: arguments and output; the work is done by `augmix.evaluation.report`."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="results record(s) written by `augmix eval` (JSON)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for report.md and the PNG plots")


def run(args: argparse.Namespace) -> int:
    from augmix._util import validate
    from augmix.evaluation.report import load_records, write_report  # matplotlib: not for --help

    validate.out_folder(args.out)
    written = write_report(load_records(args.runs), args.out)
    for path in written:
        print(path)
    return 0
