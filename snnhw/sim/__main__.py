"""python -m snnhw.sim BUILD_DIR [--images N] [--seed S] [--taps] [--no-stalls] [--lint]"""
from __future__ import annotations

import argparse
import sys

from snnhw.errors import SnnhwError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m snnhw.sim", description="bit-exact RTL simulation of a build dir")
    ap.add_argument("build_dir")
    ap.add_argument("--images", type=int, default=None, help="number of test images (default: all)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random stalls")
    ap.add_argument("--taps", action="store_true", help="compare every layer's spikes up to each image's exit step (SNNHW_TAPS build)")
    ap.add_argument("--no-stalls", action="store_true", help="no random valid/ready pauses")
    ap.add_argument("--no-extra", action="store_true", help="skip the back-to-back and reset-mid-image passes")
    ap.add_argument("--lint", action="store_true", help="only run verilator --lint-only -Wall")
    args = ap.parse_args(argv)
    try:
        if args.lint:
            from snnhw.sim.tools import lint
            lint(args.build_dir)
            lint(args.build_dir, defines=("SNNHW_TAPS",))
            print("lint clean (verilator --lint-only -Wall)")
            return 0
        from snnhw.sim import run_sim
        res = run_sim(args.build_dir, n_images=args.images, seed=args.seed, taps=args.taps,
                      stalls=not args.no_stalls, extra=not args.no_extra)
    except SnnhwError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(res.summary())
    return 0 if res.passed else 1


if __name__ == "__main__":
    sys.exit(main())
