"""run_synth: Yosys synthesis (and nextpnr place-and-route) of an snnhw build directory.

Everything runs with the build directory as working directory, so the RTL's
``$readmemh("mem/...")`` paths resolve as they do in simulation. Work files go
to ``DIR/synth/<target>/`` (Yosys script and log, netlist, ``stat -json``,
nextpnr log and report); the summary goes to ``DIR/synth_<target>.json``.
"""
from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jinja2

import snnhw
from snnhw.board.build_info import BoardBuild
from snnhw.codegen.manifest import Manifest, load_manifest
from snnhw.errors import OptionError
from snnhw.synth import stats as _stats
from snnhw.synth import timing as _timing
from snnhw.synth.checks import memory_mapping, unmapped_block_memories
from snnhw.synth.devices import Device, bram_lower_bound, check_target, get_device
from snnhw.synth.tools import NEXTPNR_PROGRESS, YOSYS_PROGRESS, SynthToolError, run_tool

TEMPLATES = Path(__file__).resolve().parent / "templates"
WRAPPER = "snn_synth_wrapper"
DEFAULT_FREQ_MHZ = {"ecp5": 100.0, "ice40": 50.0, "xilinx7": 100.0, "generic": 100.0}
RESULT_FORMAT = "snnhw-synth"


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class SynthResult:
    target: str
    device: str | None
    top: str  # the module Yosys synthesised as top (snn_top or the IO wrapper)
    design_top: str
    luts: int
    ffs: int
    bram: float  # primitives (RAMB36E1 equivalents on Xilinx 7; abstract memory bits on 'generic')
    dsp: int
    bram_name: str
    dsp_name: str
    abstract_memories: int  # $mem cells Yosys left unmapped (0 on a proper FPGA mapping)
    bram_needed: float  # lower bound from the manifest's block memories
    memory_bits: dict  # layer -> {memory name: bits}
    memory_bits_total: int
    block_memory_bits: int
    cells: dict  # every cell type -> count (Yosys)
    io_mode: str  # 'direct' | 'wrapper' | 'none'
    io_bits: int
    fits: bool | None
    warnings: list = field(default_factory=list)
    freq_target_mhz: float | None = None
    pnr_seed: int | None = None  # nextpnr --seed (placement varies with it: a few % of Fmax)
    pnr_router: str | None = None  # nextpnr --router (None: nextpnr's default, router1)
    fmax_mhz: float | None = None
    pnr_status: str = "not run"  # 'ok' | 'not run' | 'skipped: ...' | 'failed: ...'
    pnr_utilization: dict = field(default_factory=dict)
    critical_paths: list = field(default_factory=list)
    yosys_seconds: float = 0.0
    netlist_reused: bool = False  # place and route only, from an earlier run's netlist (pnr_only)
    pnr_seconds: float = 0.0
    files: dict = field(default_factory=dict)
    memory_mapping: dict = field(default_factory=dict)  # memory path -> 'bram' | 'lutram' | 'ff' (Yosys log)
    memory_prefix: str = "snn_top"  # instance path of the design top in memory_mapping
    luts_logic: int = 0
    lutram_luts: int = 0
    tool_versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(format=RESULT_FORMAT, snnhw_version=snnhw.__version__)
        return d

    def table(self) -> str:
        """A plain-text summary (what ``snnhw synth`` prints)."""
        return format_table([self])


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}" if v != int(v) else f"{int(v)}"
    return str(v)


def format_table(results) -> str:
    rows = [("target", "device", "LUT", "FF", "BRAM", "DSP", "Fmax MHz", "fits")]
    for r in results:
        cap = get_device(r.device, r.target) if r.device else None

        def of(v, c):
            return f"{_fmt(v)}/{c}" if cap is not None else _fmt(v)

        bram = f"{of(r.bram, cap.brams if cap else 0)} {r.bram_name}"
        rows.append((r.target, r.device or "-", of(r.luts, cap.luts if cap else 0), of(r.ffs, cap.ffs if cap else 0),
                     bram, of(r.dsp, cap.dsps if cap else 0) + f" {r.dsp_name}",
                     _fmt(r.fmax_mhz) if r.fmax_mhz else ("-" if r.pnr_status == "not run" else r.pnr_status[:20]),
                     {True: "yes", False: "NO", None: "-"}[r.fits]))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out = "\n".join(lines)
    for r in results:
        for w in r.warnings:
            out += f"\nWARNING ({r.target}): {w}"
    return out


# ---------------------------------------------------------------------------
# build directory

def rtl_files(build_dir: Path, manifest: Manifest) -> list:
    """The design's RTL files, relative to the build directory (checked to exist)."""
    manifest.require_files(build_dir, "rtl")
    return [f"rtl/{n}" for n in manifest.rtl]


def top_ports(manifest: Manifest) -> list:
    """Ports of the design top without the optional (`ifdef) ones: [Port] from the manifest."""
    return manifest.interface.top_ports()


def render_wrapper(manifest: Manifest, device: Device | None) -> str:
    ports = top_ports(manifest)
    clock = manifest.interface.clock
    inputs, outputs, lo_i, lo_o = [], [], 0, 0
    for p in ports:
        if p.name == clock:
            continue
        if p.direction == "input":
            inputs.append(dict(name=p.name, width=p.width, lo=lo_i))
            lo_i += p.width
        else:
            outputs.append(dict(name=p.name, width=p.width, lo=lo_o))
            lo_o += p.width
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    return env.get_template("synth_wrapper.v.j2").render(
        module=WRAPPER, version=snnhw.__version__, top=manifest.top, clock=clock,
        inputs=inputs, outputs=outputs, n_in=max(lo_i, 2), n_out=max(lo_o, 2),
        io_bits=sum(p.width for p in ports), device=device.name if device else "-",
        device_io=device.io if device else 0)


# ---------------------------------------------------------------------------
# Yosys

def yosys_script(target: str, files: list, top: str, work: str, netlist: bool, synth_options: str = "") -> str:
    t = check_target(target)
    lines = [f"# generated by snnhw.synth for target {target}; run from the build directory",
             *[f"read_verilog -defer {f}" for f in files],
             # vendor primitives the library instantiates (a board top's EHXPLLL) as black boxes
             *(["read_verilog -lib +/ecp5/cells_bb.v"] if target == "ecp5" else []),
             f"hierarchy -check -top {top}",
             # snnhw's RTL marks no memory "distributed" (Vivado's LUT ROM/RAM): Yosys would read it as
             # LUT RAM, which ECP5 and iCE40 cannot use for a ROM. Hand-edited RTL may: ask for logic.
             "setattr -set rom_style \"logic\" a:rom_style=distributed"]
    if target == "ice40":  # no LUT RAM at all: a RAM marked distributed becomes FFs + LUTs
        lines.append("setattr -set ram_style \"logic\" a:ram_style=distributed")
    if target == "generic":
        # technology-independent: coarse synthesis, memories kept as $mem_v2 (reported as bits),
        # logic mapped to 6-input LUTs
        lines += [f"synth -flatten -top {top} -run begin:fine", "opt -fast -full", "techmap", "opt -fast",
                  "abc -lut 6", "opt_clean", f"tee -q -o {work}/memories.il dump t:$mem_v2"]
    else:
        cmd = f"{t.yosys_cmd} -top {top}" + (f" {synth_options}" if synth_options else "")
        if netlist:
            cmd += f" -json {work}/netlist.json"
        lines.append(cmd)
    lines += [f"tee -q -o {work}/stat.json stat -json", f"tee -q -o {work}/stat.txt stat"]
    return "\n".join(lines) + "\n"


def _yosys_version(log: str) -> str:
    m = re.search(r"Yosys (\d+\.\d+\S*)", log)
    return m.group(1) if m else ""


# ---------------------------------------------------------------------------
# nextpnr

def nextpnr_args(target: str, device: Device, freq_mhz: float, work: str, seed: int = 1, lpf: str | None = None,
                 textcfg: str | None = None, router: str | None = None) -> tuple:
    """nextpnr's tool name and arguments; ``lpf`` (ECP5) places the ports on a board's pins."""
    args = [*device.pnr_args, "--package", device.package]
    if target == "ecp5":
        args += ["--speed", device.speed or "8"]
        args += ["--lpf", lpf] if lpf else ["--lpf-allow-unconstrained"]
        if textcfg:
            args += ["--textcfg", textcfg]
        tool = "nextpnr-ecp5"
    else:
        args += ["--pcf-allow-unconstrained"]
        tool = "nextpnr-ice40"
    args += ["--json", f"{work}/netlist.json", "--freq", f"{freq_mhz:g}", "--report", f"{work}/pnr_report.json",
             "--detailed-timing-report", "--timing-allow-fail", "--seed", str(seed)]
    if router is not None:
        args += ["--router", check_router(router)]
    return tool, args


ROUTERS = ("router1", "router2")


def check_router(router: str) -> str:
    if router not in ROUTERS:
        raise OptionError(f"--router must be one of {', '.join(ROUTERS)}, got {router!r}")
    return router


def check_fit(res: SynthResult, device: Device | None, count_io: bool = True) -> list:
    """Human-readable overflows of ``res`` on ``device`` (empty when it fits).

    IO pins count only with ``count_io`` (an explicit io='direct'): otherwise
    place-and-route would use the serialising wrapper.
    """
    if device is None:
        return []
    probs = []
    unit = res.bram_name + (" (RAMB36E1 equivalents)" if res.target == "xilinx7" else "")
    for what, need, have, name in (("LUT", res.luts, device.luts, "LUTs"), ("FF", res.ffs, device.ffs, "FFs"),
                                   ("BRAM", res.bram, device.brams, unit), ("DSP", res.dsp, device.dsps,
                                                                           res.dsp_name)):
        if need > have:
            probs.append(f"{what}: needs {_fmt(need)} {name}, {device.name} has {have}")
    if count_io and res.io_mode == "direct" and device.io and res.io_bits > device.io:
        probs.append(f"IO: needs {res.io_bits} pins, {device.name} {device.package} has {device.io}")
    return probs


def run_synth(build_dir, target: str = "ecp5", device: str | None = None, freq_mhz: float | None = None,
              place_route: bool = True, progress=_stderr, io: str = "auto", seed: int = 1,
              timeout: float | None = None, synth_options: str = "", board: BoardBuild | None = None,
              bitstream: bool = False, pnr_only: bool = False, router: str | None = None) -> SynthResult:
    """Synthesise ``build_dir`` for ``target`` with Yosys; place and route on ECP5/iCE40.

    - target: 'ecp5' | 'ice40' | 'xilinx7' | 'generic'
    - device: a name from :data:`snnhw.synth.devices.DEVICES` (default LFE5U-85F, iCE40-HX8K, xc7a100t)
    - freq_mhz: nextpnr's --freq target (default 100 MHz on ECP5, 50 MHz on iCE40)
    - place_route: run nextpnr where there is one (ECP5, iCE40); skipped when the design does not fit
    - progress: callable(str) for progress lines, or None for silence
    - synth_options: extra options for the synth_* command (e.g. '-nodsp' on ECP5/iCE40)
    - io: 'auto' (wrap the top in a serialising wrapper only when its IO bits exceed the
      package's pins), 'direct' or 'wrapper'
    - board: the build's ``board/board.json`` (:class:`~snnhw.board.build_info.BoardBuild`, written by
      :func:`snnhw.board.board_top.write_board_files`):
      synthesise the board top on the board's part, package and speed grade, with its pins
      (LPF) and, unless ``freq_mhz`` is given, its clock as the timing target
    - bitstream: with ``board``, also pack the routed design into ``board/snn_board_top.bit``
      and ``.svf`` (ecppack); refused when timing misses the board clock
    - pnr_only: skip Yosys and place and route the netlist an earlier run of the same script left in
      the work directory (another seed, another clock target); refused when it is missing or older
      than the RTL or its memory files
    - router: nextpnr's router, 'router1' or 'router2' (None: nextpnr's default, router1)

    Writes ``DIR/synth_<target>.json`` (``DIR/synth_<board>.json`` for a board) and returns a
    :class:`SynthResult`.
    """
    build_dir = Path(build_dir).resolve()
    t = check_target(target)
    if board is not None:
        if target != "ecp5":
            raise OptionError(f"--board {board.board}: an ECP5 board; --target must be ecp5, not {target}")
        if device is not None and device != board.device:
            raise OptionError(f"--device {device}: board {board.board} carries a {board.device}")
        device, io = board.device, "direct"
        freq_mhz = freq_mhz or board.clock_hz / 1e6
    elif bitstream:
        raise OptionError("--bitstream needs --board: a bitstream is for a board's pins")
    dev = get_device(device, target)
    if board is not None:  # the board's package and speed grade
        dev = dataclasses.replace(dev, package=board.package, speed=board.speed)
    if io not in ("auto", "direct", "wrapper"):
        raise OptionError(f"io must be auto, direct or wrapper, got {io!r}")
    manifest = load_manifest(build_dir)
    files = rtl_files(build_dir, manifest)
    design_top = manifest.top
    say = progress or (lambda s: None)
    freq = float(freq_mhz) if freq_mhz else DEFAULT_FREQ_MHZ[target]
    if freq <= 0:
        raise OptionError(f"freq_mhz must be positive, got {freq_mhz}")

    work_rel = f"synth/{board.board}" if board is not None else f"synth/{target}"
    work = build_dir / work_rel
    work.mkdir(parents=True, exist_ok=True)
    io_bits = sum(p.width for p in top_ports(manifest))
    do_pnr = place_route and t.pnr is not None and dev is not None
    if router is not None:  # a bad name fails here, not after Yosys
        check_router(router)
    if pnr_only and not do_pnr:
        raise OptionError(f"--pnr-only: target {target} has no place and route here (ECP5 and iCE40 do, with "
                          f"a device, without --no-pnr)")
    synthesized = ("netlist.json", "stat.json", "stat.txt", "yosys.log", "memories.il")
    for stale in ("pnr_report.json", "nextpnr.log", *([] if pnr_only else synthesized)):
        (work / stale).unlink(missing_ok=True)
    if io == "auto":  # the wrapper only where nextpnr must place more IO bits than the package has pins
        io_mode = "wrapper" if do_pnr and io_bits > dev.io else "direct"
    else:
        io_mode = io
    top = design_top
    if board is not None:
        files = files + list(board.rtl)
        top = board.top
    if io_mode == "wrapper":
        wrapper, text = work / f"{WRAPPER}.v", render_wrapper(manifest, dev)
        if not (wrapper.exists() and wrapper.read_text() == text):  # unchanged keeps its age (pnr_only)
            wrapper.write_text(text)
        files = files + [f"{work_rel}/{WRAPPER}.v"]
        top = WRAPPER

    script = yosys_script(target, files, top, work_rel, netlist=do_pnr, synth_options=synth_options)
    if pnr_only:
        _check_reusable_netlist(build_dir, work_rel, script, files)
        say(f"[synth] --pnr-only: Yosys skipped, placing and routing {work_rel}/netlist.json")
        ylog, ysec = (work / "yosys.log").read_text(), 0.0
    else:
        (work / "synth.ys").write_text(script)
        say(f"[synth] Yosys {t.yosys_cmd} on {build_dir.name} (top {top}, {len(files)} files); "
            f"log {work_rel}/yosys.log")
        t0 = time.monotonic()
        ylog = run_tool("yosys", ["-s", f"{work_rel}/synth.ys"], cwd=build_dir, log_path=work / "yosys.log",
                        progress=say, progress_filter=YOSYS_PROGRESS, timeout=timeout)
        ysec = time.monotonic() - t0
    stat = _stats.load_stat_json((work / "stat.json").read_text())
    cells = _stats.cell_counts(stat, top)
    summ = _stats.summarize(cells, target)
    mem_by_layer = manifest.memory_bits_by_layer()
    bram = summ["bram"]
    if target == "generic":
        bram = _stats.mem_v2_bits((work / "memories.il").read_text()) if (work / "memories.il").exists() else 0
    res = SynthResult(
        target=target, device=dev.name if dev else None, top=top, design_top=design_top, luts=summ["luts"],
        ffs=summ["ffs"], bram=bram, dsp=summ["dsp"], bram_name=t.bram_name, dsp_name=t.dsp_name,
        abstract_memories=summ["abstract_memories"], bram_needed=bram_lower_bound(manifest.memories, target),
        memory_bits=mem_by_layer, memory_bits_total=int(sum(sum(v.values()) for v in mem_by_layer.values())),
        block_memory_bits=int(sum(m.bits for m in manifest.memories if m.style == "block")),
        cells=cells, io_mode=io_mode, io_bits=io_bits, fits=None, freq_target_mhz=freq if do_pnr else None,
        yosys_seconds=round(ysec, 1), netlist_reused=pnr_only, luts_logic=summ["luts_logic"],
        lutram_luts=summ["lutram_luts"],
        files={"yosys_script": f"{work_rel}/synth.ys", "yosys_log": f"{work_rel}/yosys.log",
               "stat": f"{work_rel}/stat.json"},
        tool_versions={"yosys": _yosys_version(ylog)}, memory_mapping=memory_mapping(ylog),
        memory_prefix=(f"{WRAPPER}.u_top" if io_mode == "wrapper" else f"{top}.u_snn" if board is not None
                       else design_top))
    if io_mode == "wrapper":
        why = (f"more than {dev.name} {dev.package}'s {dev.io} pins" if dev is not None and io_bits > dev.io
               else "wrapper requested")
        res.warnings.append(f"IO: {design_top} has {io_bits} IO bits ({why}); synthesised inside the serialising "
                            f"wrapper {WRAPPER} (adds about {2 * io_bits} FFs)")
    if target != "generic":
        for u in unmapped_block_memories(res.memory_mapping, manifest, res.memory_prefix):
            res.warnings.append(f"block memory not in block RAM: {u}")
    if summ["abstract_memories"] and target != "generic":
        res.warnings.append(f"{summ['abstract_memories']} memory cells were left unmapped by Yosys")
    if dev is not None:
        over = check_fit(res, dev, count_io=io == "direct" and board is None)
        if io == "auto" and not do_pnr and dev.io and io_bits > dev.io:
            res.warnings.append(f"IO: {design_top} has {io_bits} IO bits, {dev.name} {dev.package} has {dev.io} "
                                f"pins: place-and-route would use the serialising wrapper {WRAPPER}")
        res.fits = not over
        for o in over:
            res.warnings.append(f"does not fit {dev.name}: {o}")
    say(f"[synth] Yosys done in {ysec:.0f} s: {res.luts} LUT, {res.ffs} FF, {_fmt(res.bram)} {t.bram_name}, "
        f"{res.dsp} {t.dsp_name}")
    for w in res.warnings:
        say(f"[synth] WARNING: {w}")

    if do_pnr:
        if res.fits is False:
            res.pnr_status = "skipped: does not fit " + dev.name
            say(f"[synth] place-and-route skipped: the design does not fit {dev.name}")
        else:
            tool, args = nextpnr_args(target, dev, freq, work_rel, seed, lpf=board.lpf if board else None,
                                      textcfg=f"{work_rel}/{top}.config" if bitstream else None, router=router)
            res.pnr_seed, res.pnr_router = seed, router
            res.files.update(pnr_log=f"{work_rel}/nextpnr.log", pnr_report=f"{work_rel}/pnr_report.json",
                             netlist=f"{work_rel}/netlist.json")
            say(f"[synth] {tool} {' '.join(args)}")
            t0 = time.monotonic()
            try:
                plog = run_tool(tool, args, cwd=build_dir, log_path=work / "nextpnr.log", progress=say,
                                progress_filter=NEXTPNR_PROGRESS, timeout=timeout)
            except SynthToolError as e:
                res.pnr_status = "failed: " + str(e).splitlines()[0]
                res.warnings.append(f"place-and-route failed; see {work_rel}/nextpnr.log")
                plog = None
            res.pnr_seconds = round(time.monotonic() - t0, 1)
            if plog is not None:
                report = {}
                rp = work / "pnr_report.json"
                if rp.exists():
                    report = json.loads(rp.read_text())
                res.fmax_mhz = _timing.fmax_from(report, plog)
                res.pnr_utilization = _timing.utilization_from(report)
                res.critical_paths = _timing.critical_paths_from(report)
                res.pnr_status = "ok"
                if res.fmax_mhz is not None and res.fmax_mhz < freq:
                    res.warnings.append(f"timing: achieved {res.fmax_mhz:.1f} MHz, below the {freq:g} MHz target")
                say(f"[synth] place-and-route done in {res.pnr_seconds:.0f} s: Fmax "
                    f"{_fmt(res.fmax_mhz)} MHz (target {freq:g})")
    if bitstream:
        _pack_bitstream(build_dir, board, res, freq, work_rel, top, say)

    name = board.board if board is not None else target
    (build_dir / f"synth_{name}.json").write_text(json.dumps(res.to_dict(), indent=2, default=str) + "\n")
    return res


def _check_reusable_netlist(build_dir: Path, work_rel: str, script: str, files: list) -> None:
    """Refuse ``pnr_only`` unless the work directory holds what this script synthesizes, newer than the RTL."""
    work = build_dir / work_rel
    script_file, netlist = work / "synth.ys", work / "netlist.json"
    missing = [str(p) for p in (script_file, netlist, work / "stat.json", work / "yosys.log") if not p.exists()]
    if missing:
        raise OptionError(f"--pnr-only: no earlier synthesis to reuse ({', '.join(missing)} missing); run "
                          f"snnhw synth {build_dir} without --pnr-only first")
    if script_file.read_text() != script:
        raise OptionError(f"--pnr-only: {script_file} differs from the synthesis this run asks for (other RTL "
                          f"files, top or options); run snnhw synth {build_dir} without --pnr-only")
    inputs = [*files, *(str(m.relative_to(build_dir)) for m in sorted((build_dir / "mem").glob("*")))]
    newer = [f for f in inputs if (build_dir / f).stat().st_mtime > netlist.stat().st_mtime]  # RTL, or its ROMs
    if newer:
        raise OptionError(f"--pnr-only: {newer[0]} is newer than {netlist}; run snnhw synth {build_dir} "
                          f"without --pnr-only")


def _pack_bitstream(build_dir: Path, board, res: SynthResult, freq: float, work_rel: str, top: str,
                    say) -> None:
    """ecppack the routed design into the board's .bit/.svf; refuse a design that misses the clock."""
    for stale in (board.bitstream, board.svf):
        (build_dir / stale).unlink(missing_ok=True)
    if res.pnr_status != "ok":
        raise SynthToolError(f"no bitstream for {board.board}: place-and-route {res.pnr_status}")
    if res.fmax_mhz is None or res.fmax_mhz < freq:
        raise SynthToolError(f"no bitstream for {board.board}: Fmax {_fmt(res.fmax_mhz)} MHz is below the board "
                             f"clock {freq:g} MHz (a bitstream would compute wrong results); regenerate the board "
                             f"files with a lower --clock-mhz or try another --seed")
    config = f"{work_rel}/{top}.config"
    args = ["--compress", "--svf", board.svf, config, board.bitstream]
    say(f"[synth] ecppack {' '.join(args)}")
    t0 = time.monotonic()
    run_tool("ecppack", args, cwd=build_dir, log_path=build_dir / work_rel / "ecppack.log", progress=say)
    res.files.update(bitstream=board.bitstream, svf=board.svf, config=config)
    say(f"[synth] bitstream {board.bitstream} ({(build_dir / board.bitstream).stat().st_size} bytes) and "
        f"{board.svf} in {time.monotonic() - t0:.0f} s")


def synth_main(build_dir, targets=("ecp5",), device: str | None = None, freq_mhz: float | None = None,
               place_route: bool = True, core: bool = False, echo=print, progress=_stderr, seed: int = 1,
               board=None, bitstream: bool = False, pnr_only: bool = False, router: str | None = None) -> list:
    """What ``snnhw synth DIR --target T [--target T2] --device D --freq F [--seed S] [--no-pnr]`` does.

    Runs :func:`run_synth` for each target, echoes the table, warnings and
    the worst critical path, with ``core=True`` also writes the FuseSoC core
    file (the CLI does not: ``snnhw generate`` already wrote it), and
    returns the results. Errors are SnnhwError subclasses (OptionError for a
    bad target/device, SynthToolError when a tool is missing or fails).
    """
    from snnhw.synth.fusesoc import write_core_file
    from snnhw.synth.timing import format_critical_path

    if isinstance(targets, str):
        targets = (targets,)
    if device is not None and len(targets) > 1:
        raise OptionError("--device names one part: give a single --target with it")
    results = []
    for t in targets:
        results.append(run_synth(build_dir, t, device=device, freq_mhz=freq_mhz, place_route=place_route,
                                 progress=progress, seed=seed, board=board, bitstream=bitstream,
                                 pnr_only=pnr_only, router=router))
    echo(format_table(results))
    for r in results:
        for cp in r.critical_paths[:1]:
            echo(f"\ncritical path ({r.target}, {r.device}):\n" + format_critical_path(cp, max_nets=12))
        name = board.board if board is not None else r.target
        echo(f"wrote {Path(build_dir) / f'synth_{name}.json'}")
    if core:
        echo(f"wrote {write_core_file(build_dir)}")
    return results
