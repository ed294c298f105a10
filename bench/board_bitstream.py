"""Bitstreams for a board: resources, Fmax against the board clock, bitstream size.

    python bench/board_bitstream.py                       # example + mnist_paper on the ULX3S, seeds 1-3
    python bench/board_bitstream.py --models example --seeds 1

For each model it runs the same two commands a user runs (recorded in the
JSON): ``snnhw generate MODEL --bits 8 --calib DATA -P P --board BOARD -o DIR``
then, per nextpnr seed, ``snnhw synth DIR --board BOARD --bitstream --seed S``,
and reads ``DIR/synth_<board>.json``. The example is calibrated on
examples/mnist_sample.npz; mnist_paper (../shared/models/mnist_paper.onnx,
calibrated on ../shared/data/mnist.npz) is skipped with a message when
../shared is absent. Writes docs/figures/board_bitstream.json: the rows of
the models run, and the rows of other models kept from the existing file (each
row records its own commands and ``measured_by``, the bench command that made it).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import portable_paths, run_logged, write_json  # noqa: E402

SNNHW = [sys.executable, "-m", "snnhw.cli"]
MODELS = {
    # name: (model, calibration data, parallelism); mnist_paper at the largest P that fits the LFE5U-85F
    "example": ("examples/mnist_small.onnx", "examples/mnist_sample.npz", 16),
    "mnist_paper": ("{shared}/models/mnist_paper.onnx", "{shared}/data/mnist.npz", 8),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--board", default="ulx3s")
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    p.add_argument("--work", type=Path, default=REPO / "build" / "bench_board")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "figures" / "board_bitstream.json")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.models:
        model, data, par = (s.format(shared=args.shared) if isinstance(s, str) else s for s in MODELS[name])
        if not Path(model).exists() or not Path(data).exists():
            print(f"SKIP {name}: {model} or {data} missing (the shared data sets are not beside this checkout)")
            continue
        out = args.work / f"{name}_{args.board}"
        log = args.work / f"{name}_{args.board}.log"
        log.unlink(missing_ok=True)
        gen = [*SNNHW, "generate", model, "--bits", "8", "--calib", data, "-P", str(par), "--test-images", "4",
               "--board", args.board, "-o", out]
        print(f"[{name}] generate ...", flush=True)
        run_logged(gen, log, REPO)
        seeds = []
        for seed in args.seeds:
            cmd = [*SNNHW, "synth", out, "--board", args.board, "--bitstream", "--seed", str(seed)]
            print(f"[{name}] synth seed {seed} ...", flush=True)
            try:
                secs = run_logged(cmd, log, REPO)
                ok = True
            except SystemExit as e:  # timing missed at this seed: no bitstream, recorded as such
                print(e)
                secs, ok = None, False
            r = json.loads((out / f"synth_{args.board}.json").read_text())
            bit = out / "board" / "snn_board_top.bit"
            seeds.append(dict(seed=seed, fmax_mhz=r["fmax_mhz"], bitstream=ok and bit.exists(),
                              bitstream_bytes=bit.stat().st_size if ok and bit.exists() else None,
                              seconds=secs, luts=r["luts"], ffs=r["ffs"], bram=r["bram"], dsp=r["dsp"]))
            if ok and bit.exists():
                shutil.copy(bit, args.work / f"{name}_{args.board}_seed{seed}.bit")
        board = json.loads((out / "board" / "board.json").read_text())
        fmax = [s["fmax_mhz"] for s in seeds if s["fmax_mhz"] is not None]
        rows.append(dict(model=name, board=args.board, device=board["device"], parallelism=par,
                         clock_mhz=board["clock_hz"] / 1e6, baud=board["baud"], design_id=f"0x{board['design_id']:08x}",
                         luts=seeds[0]["luts"], ffs=seeds[0]["ffs"], bram=seeds[0]["bram"], dsp=seeds[0]["dsp"],
                         fmax_mhz_median=statistics.median(fmax) if fmax else None, seeds=seeds,
                         commands=[portable_paths(" ".join(map(str, c)))
                                   for c in (gen, [*SNNHW, "synth", out, "--board", args.board, "--bitstream",
                                                   "--seed", "S"])]))
        print(f"[{name}] {rows[-1]['luts']} LUT, {rows[-1]['bram']} DP16KD, Fmax median "
              f"{rows[-1]['fmax_mhz_median']} MHz at a {rows[-1]['clock_mhz']:g} MHz board clock")
    command = portable_paths(" ".join(["python", "bench/board_bitstream.py", *(argv or sys.argv[1:])]))
    for row in rows:
        row["measured_by"] = command
    run = {(r["model"], r["board"]) for r in rows}
    if args.out.exists():  # keep the rows of the models (or boards) not run this time
        old = json.loads(args.out.read_text())
        kept = [r for r in old.get("rows", []) if (r["model"], r["board"]) not in run]
        for r in kept:
            r.setdefault("measured_by", old.get("command"))
        rows = sorted(kept + rows, key=lambda r: (list(MODELS).index(r["model"]), r["board"]))
    write_json(args.out, dict(command=command, rows=rows))


if __name__ == "__main__":
    main()
