"""Per-image AugMix in a DataLoader with N workers against BatchAugMix with N threads.

The same measurement as `augmix bench` (src/augmix/data/throughput.py): views per
second of both paths at 32 and 224 px, alternating rounds, load average recorded,
printed and written as JSON.

    python benchmarks/bench_batched.py [--workers 2] [--seconds 4] [--out out/bench_batched.json]
"""
import sys

from augmix.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
