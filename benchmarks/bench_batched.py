"""Per-image AugMix in a DataLoader with N workers against BatchAugMix with N threads.

The same measurement as `augmix bench` (see augmix/bench.py): views per second
of both paths at 32 and 224 px, alternating rounds, load average recorded,
printed and written as JSON.

    python benchmarks/bench_batched.py [--workers 2] [--seconds 4] [--out out/bench_batched.json]
"""
import argparse
import sys

from augmix import bench

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_arguments(parser)
    sys.exit(bench.run(parser.parse_args()))
