"""generate_design: QNetwork -> self-contained build directory (RTL, memories,
test vectors, manifest, report, Makefile).

The hardware is the library of hand-written modules in ``snnhw/rtl_lib/``,
copied unchanged; :mod:`snnhw.codegen.layout` plans widths and memories,
:mod:`snnhw.codegen.design` describes every block, and the only
design-specific Verilog is ``snn_top.v`` (library instances, parameters,
wiring) and the simulation wrapper ``snn_tb_top.v``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import jinja2
import numpy as np

import snnhw
from snnhw.codegen.cycles import cycle_model, engine_loads
from snnhw.codegen.design import ABORT, Instance, describe_blocks, top_instances
from snnhw.codegen.layout import WEIGHT_BANK_WORDS, DesignPlan, hex_lines, plan_design
from snnhw.codegen.manifest import (MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, TAPS_DEFINE, CycleModel,
                                    CycleRow, ExitInfo, Interface, LayerInfo, MAxis, Manifest, Memory, Numeric,
                                    Parameter, Port, SAxis, SynapseInfo, Tap, Vectors, write_manifest)
from snnhw.errors import DataError, OptionError
from snnhw.frontend.qformat import save_qnet
from snnhw.ir import INPUT, ROLE_OUTPUT, QNetwork
from snnhw.reference.early_exit import ExitRule, exit_outputs

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "rtl_templates"
LIBRARY_DIR = Path(__file__).resolve().parent.parent / "rtl_lib"
QNET_FILE = "model.snn.npz"
EXIT_QUEUE_DEPTH = 16  # images between layer 0 and the output stream before layer 0 waits (snn_exit_queue)
LIBRARY_NOTE = """// A module of snnhw's hardware library (snnhw/rtl_lib/{module}.v), copied
// unchanged into this build; this design's parameters are set in snn_top.v.
"""


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=False, lstrip_blocks=False)
    return env


def _options(qnet: QNetwork, P: int) -> str:
    return (f"bits={qnet.bits} reset={qnet.reset} v_init={qnet.v_init} input_scale={qnet.input_scale:.6g} "
            f"max_timesteps={qnet.max_timesteps} parallelism={P}")


def _top_context(plan: DesignPlan, qnet: QNetwork, source_note: str) -> dict:
    """What snn_top.v.j2 prints: streams, wires and library instances (snnhw.codegen.design)."""
    blocks = describe_blocks(plan)
    streams, instances, wires = top_instances(plan, blocks)
    oc = plan.out_block.ctx
    ew = exit_margin_bits(plan)
    # early exit: the images' rules from layer 0 to the output stream, the exit request back
    instances.append(Instance("snn_exit_queue", "u_exit_queue",
                              "early exit: each image's rule (sampled with its first pixel) to the output stream, "
                              "the exit request back to layer 0, the image abort to every engine", [
                                  ("MARGIN_BITS", str(ew)), ("STEP_W", str(plan.STW)),
                                  ("DEPTH", str(EXIT_QUEUE_DEPTH))], [
                                  ("clk", "clk"), ("rst", "rst"), ("push", "exit_push"),
                                  ("push_margin", "pix_cfg_exit_margin"), ("push_min_steps", "pix_cfg_exit_min_steps"),
                                  ("room", "exit_room"), ("exit_now", "exit_now"), ("head_margin", "exit_margin"),
                                  ("head_min_steps", "exit_min_steps"), ("pop", "exit_pop"),
                                  ("exit_req", "exit_req"), ("img_abort", ABORT)]))
    wires += [("exit_push", 1), ("exit_room", 1), ("exit_now", 1), ("exit_margin", ew),
              ("exit_min_steps", plan.STW), ("exit_pop", 1), ("exit_req", 1), (ABORT, 1)]
    # the output layer's potentials become the m_axis stream
    instances.append(Instance("snn_output_stream", "u_output_stream",
                              f"output stream of layer {oc['index']} (argmax per step, early exit, then the "
                              "potentials)", [
                                  ("LANES", str(oc["P"])), ("CHANNELS", str(oc["C_OUT"])),
                                  ("POSITIONS", str(oc["H_OUT"] * oc["W_OUT"])), ("POTENTIAL_BITS", str(oc["MB"])),
                                  ("DATA_WIDTH", str(plan.OW)), ("STEP_W", str(plan.STW))], [
                                  ("clk", "clk"), ("rst", "rst")] + [(n, n) for n in (
                                      "res_valid", "res_last", "res_group", "res_addr", "res_pos", "res_potentials",
                                      "res_eos_valid", "res_eos_last", "res_eos_ready")] + [
                                  ("m_valid", "res_out_valid"), ("m_ready", "res_out_ready"),
                                  ("m_data", "res_out_tdata"), ("m_user", "res_out_tuser"), ("m_last", "res_out_tlast"),
                                  ("cfg_margin", "exit_margin"), ("cfg_min_steps", "exit_min_steps"),
                                  ("cfg_pop", "exit_pop"), ("exit_req", "exit_req")]))
    port_instances, port_wires = _port_slices(plan, ew)
    instances, wires = port_instances + instances, wires + port_wires
    layer_map, taps = [], []
    for d, blk in zip(blocks, plan.blocks):
        c = blk.ctx
        desc = f"L{c['index']} {c['name']}: {c['kind']} {tuple(c['in_shape'])} -> {tuple(c['out_shape'])}"
        if blk.kind == "flatten":
            layer_map.append(desc + " (address re-mapping)")
        elif blk.kind == "maxpool":
            layer_map.append(desc + " (spike gate)")
        else:
            role = ", analog input" if blk.kind == "analog" else ", output layer" if blk.kind == "output" else ""
            layer_map.append(f"{desc}{role}, P={c['P']}")
        if blk.kind in ("analog", "neuron", "maxpool"):
            shape = tuple(c["out_shape"])
            n = int(np.prod(shape))
            tp = dict(layer=c["index"], name=c["name"], stream=f"e{c['index']}", width=c["TOUT"],
                      is3d=len(shape) == 3, AW=max(1, (n - 1).bit_length()), CW=c["OCW"], YW=c["OYW"], XW=c["OXW"],
                      H=shape[1] if len(shape) == 3 else 1, W=shape[2] if len(shape) == 3 else 1)
            taps.append(tp)
    init = max((b.ctx.get("VDEPTH", 0) for b in plan.blocks), default=0)
    init = max([init] + [b.ctx.get("N_CLR", 0) for b in plan.blocks]) + 4
    return dict(streams=streams, instances=instances, wires=wires, blocks=blocks, taps=taps, layer_map=layer_map,
                OW=plan.OW, STW=plan.STW, EW=ew, T_MAX=plan.T_MAX, K=oc["K"], n_pixels=int(np.prod(qnet.input_shape)),
                init_cycles=init, source_note=source_note)


def _port_slices(plan: DesignPlan, ew: int) -> tuple:
    """A register slice on each AXI4-Stream port: the design's boundary starts and ends at registers.
    The configuration inputs travel with the pixels, so they are still sampled with an image's first
    pixel as it is accepted on s_axis."""
    cfg = [("cfg_exit_min_steps", plan.STW), ("cfg_exit_margin", ew), ("cfg_timesteps", plan.STW)]
    s_fields = cfg + [("tlast", 1), ("tdata", 8)]
    m_fields = [("tuser", 1), ("tlast", 1), ("tdata", plan.OW)]

    def cat(prefix, fields):
        return "{" + ", ".join(f"{prefix}{n}" for n, _ in fields) + "}"

    sw, mw = sum(w for _, w in s_fields), sum(w for _, w in m_fields)
    instances = [
        Instance("snn_axis_register", "u_s_axis_slice", "s_axis register slice (pixels with their configuration)",
                 [("WIDTH", str(sw))], [
                     ("clk", "clk"), ("rst", "rst"), ("s_valid", "s_axis_tvalid"), ("s_ready", "s_axis_tready"),
                     ("s_data", "{" + ", ".join([n for n, _ in cfg] + ["s_axis_tlast", "s_axis_tdata"]) + "}"),
                     ("m_valid", "pix_valid"), ("m_ready", "pix_ready"), ("m_data", cat("pix_", s_fields))]),
        Instance("snn_axis_register", "u_m_axis_slice", "m_axis register slice", [("WIDTH", str(mw))], [
            ("clk", "clk"), ("rst", "rst"), ("s_valid", "res_out_valid"), ("s_ready", "res_out_ready"),
            ("s_data", cat("res_out_", m_fields)), ("m_valid", "m_axis_tvalid"), ("m_ready", "m_axis_tready"),
            ("m_data", cat("m_axis_", m_fields))]),
    ]
    wires = ([("pix_valid", 1), ("pix_ready", 1)] + [(f"pix_{n}", w) for n, w in s_fields]
             + [("res_out_valid", 1), ("res_out_ready", 1)] + [(f"res_out_{n}", w) for n, w in m_fields])
    return instances, wires


def exit_margin_bits(plan: DesignPlan) -> int:
    """Bits of cfg_exit_margin: the output potential's bits + 1 (a margin of 2**potential_bits can never be met)."""
    return int(plan.out_block.ctx["MB"]) + 1


def exit_port_values(rule: ExitRule, potential_bits: int, step_bits: int) -> tuple:
    """(cfg_exit_margin, cfg_exit_min_steps) that run ``rule``: values too wide for the ports are saturated
    to ones that behave the same (a margin above 2**potential_bits - 1 is never met, since top1 - top2 is at
    most that; a min_steps of 2**step_bits - 1 >= T_MAX allows no exit before the last step)."""
    margin = min(int(rule.margin), 1 << potential_bits)
    return margin, min(int(rule.min_steps), (1 << step_bits) - 1)


def top_ports(plan: DesignPlan, taps) -> list:
    """Every port of ``snn_top`` in declaration order (``taps``: the tap contexts of :func:`_top_context`).

    The one description of the top's interface that readers use (wrappers, synthesis IO counts);
    ``snn_top.v.j2`` declares the same ports (tests/test_manifest.py compares them).
    """
    ports = [
        Port("clk", "input", 1, "clock (rising edge)"),
        Port("rst", "input", 1, "synchronous reset, active high"),
        Port("s_axis_tdata", "input", 8, "AXI4-Stream slave: one uint8 pixel per beat, C-H-W order"),
        Port("s_axis_tvalid", "input", 1, "AXI4-Stream slave: pixel valid"),
        Port("s_axis_tready", "output", 1, "AXI4-Stream slave: ready (registered; falls when the port's register slice is full)"),
        Port("s_axis_tlast", "input", 1, "AXI4-Stream slave: last pixel of an image"),
        Port("m_axis_tdata", "output", plan.OW, "AXI4-Stream master: class after a step (tuser = 0) or a final "
             "output potential, signed (tuser = 1)"),
        Port("m_axis_tvalid", "output", 1, "AXI4-Stream master: valid"),
        Port("m_axis_tready", "input", 1, "AXI4-Stream master: ready"),
        Port("m_axis_tlast", "output", 1, "AXI4-Stream master: last beat of an image"),
        Port("m_axis_tuser", "output", 1, "AXI4-Stream master: 0 = class beat, 1 = potential beat"),
        Port("cfg_timesteps", "input", plan.STW, f"time steps T (1..{plan.T_MAX}), sampled with an image's first "
             "pixel"),
        Port("cfg_exit_margin", "input", exit_margin_bits(plan), "early exit: top1 - top2 output potential "
             "margin (unsigned; 0 = no early exit), sampled with an image's first pixel"),
        Port("cfg_exit_min_steps", "input", plan.STW, "early exit: the earliest exit is after this many steps "
             "(0 counts as 1), sampled with an image's first pixel"),
        Port("status_framing_error", "output", 1, "sticky: an image's tlast disagreed with the pixel count"),
    ]
    for tp in taps:
        i = tp["layer"]
        ports += [
            Port(f"tap{i}_valid", "output", 1, f"layer {i} ({tp['name']}) emits a spike", TAPS_DEFINE),
            Port(f"tap{i}_eos", "output", 1, f"layer {i} ({tp['name']}) ends a time step", TAPS_DEFINE),
            Port(f"tap{i}_step", "output", plan.STW, f"layer {i}: time step of the event (0-based)", TAPS_DEFINE),
            Port(f"tap{i}_addr", "output", tp["AW"], f"layer {i}: neuron index of the spike, C-H-W order",
                 TAPS_DEFINE),
        ]
    return ports


def _report(qnet, plan, manifest: Manifest, source_note, folding=None) -> str:
    lines = ["# snnhw design report", "", f"- generated by snnhw {snnhw.__version__}",
             f"- model: {source_note or qnet.source or '(unnamed)'}",
             f"- options: {_options(qnet, plan.parallelism_spec)}",
             f"- input: {tuple(qnet.input_shape)} uint8 pixels, {manifest.interface.pixels_per_image} "
             f"beats per image; output: {manifest.interface.classes} classes",
             f"- default simulation: {plan.timesteps} time steps (built maximum {plan.T_MAX})",
             "- early exit (defaults of cfg_exit_margin / cfg_exit_min_steps): "
             + (f"margin {manifest.exit.margin}, min_steps {manifest.exit.min_steps}" if manifest.exit.margin
                else "off (margin 0)"), "",
             "## Layers", "", "| # | layer | kind | in | out | P | weight bits | membrane bits | memory bits |",
             "|---|---|---|---|---|---|---|---|---|"]

    def opt(v):
        return "-" if v is None else v

    for row in manifest.layers:
        lines.append(f"| {row.index} | {row.name} | {row.engine} | {tuple(row.in_shape)} | "
                     f"{tuple(row.out_shape)} | {opt(row.parallelism)} | {opt(row.weight_bits)} | "
                     f"{opt(row.mem_bits)} | {row.memory_bits} |")
    lines += ["", "## Memories", "", "| layer | memory | kind | words | bits/word | total bits | style | file |",
              "|---|---|---|---|---|---|---|---|"]
    for m in manifest.memories:
        lines.append(f"| {m.layer} | {m.name} | {m.kind} | {m.depth} | {m.width} | "
                     f"{m.bits} | {m.style} | {m.file or ''} |")
    lines += ["", f"Total memory: {manifest.memory_bits} bits.", "", "## Cycle model", ""]
    cm = manifest.cycle_model
    lines += [cm.formula, "", f"Estimated from the golden model on {cm.images} test image(s), "
              f"{cm.timesteps} steps:", "",
              "| layer | engine | cycles/event | sweep cycles | busy cycles/image | bound cycles/image |",
              "|---|---|---|---|---|---|"]
    for r in cm.layers:
        lines.append(f"| {r.name} | {r.engine} | {r.cycles_per_event} | {r.sweep_cycles} | "
                     f"{r.busy_cycles:.0f} | {r.bound_cycles:.0f} |")
    lines += ["", f"- throughput bound: ~{cm.throughput_cycles_per_image:.0f} cycles/image "
              f"(bottleneck: {cm.bottleneck})",
              f"- latency estimate: ~{cm.latency_cycles_estimate:.0f} cycles/image",
              f"- steps run per image: {cm.mean_steps:.2f} on average (of {cm.timesteps}; early exit: manifest `exit`)",
              f"- synaptic operations per image (golden, all {cm.timesteps} steps): {cm.synops_per_image:.0f}",
              f"- ideal (busiest engine's bound, docs/hardware.md): {cm.bound_cycles:.0f} cycles/image "
              f"({cm.bound_engine})"]
    if folding is not None:
        lines += ["", "## Parallelism plan (-P auto)", ""] + folding.table()
    lines += ["", "Measured cycles: `make sim` prints them (and writes sim/results.json).", ""]
    return "\n".join(lines)


MAKEFILE = """\
# Generated by snnhw {version}; do not edit.
# `make sim` verifies the RTL bit-exactly against the golden vectors
# (cocotb + Verilator); needs the Python environment where snnhw is installed.
PYTHON ?= python3
IMAGES ?=

.PHONY: sim sim-taps lint clean

sim:
\t$(PYTHON) -m snnhw.sim . $(if $(IMAGES),--images $(IMAGES),)

sim-taps:
\t$(PYTHON) -m snnhw.sim . --taps $(if $(IMAGES),--images $(IMAGES),)

lint:
\t$(PYTHON) -m snnhw.sim . --lint

clean:
\trm -rf sim_build sim
"""


def generate_design(qnet: QNetwork, out_dir, *, parallelism=1, timesteps: int = 16, test_images=None,
                    test_labels=None, taps: bool = False, source_note: str = "",
                    weight_bank_words: int = WEIGHT_BANK_WORDS, device=None,
                    exit_rule: ExitRule | None = None) -> dict:
    """Write the accelerator for ``qnet`` into ``out_dir``; return the manifest as a dict (its JSON).

    ``test_images`` (uint8, (N, C, H, W)) become the simulation vectors
    together with the golden model's outputs for ``timesteps`` steps; without
    them four seeded random images are used. Weight ROMs deeper than
    ``weight_bank_words`` are split into registered banks (timing). ``parallelism``: lanes of every
    neuron engine (an int, or (lanes, kernel columns)), per layer (a dict {layer name or index: lanes,
    'default': lanes}), or
    ``'auto'``: :func:`snnhw.codegen.folding.plan_folding` chooses them for ``device`` (a device name) from
    the cycle model on the test images (with an early-exit rule: over the steps each image runs, and
    the budget left after the busiest engine shortens the others, since images then do not overlap).
    ``exit_rule`` (default: none, margin 0) is the early-exit rule the build's defaults carry (manifest
    ``exit``, the simulation's default, the rule the board's host link starts with); the vectors gain
    its exit steps. Raises FitError/OptionError before writing anything when the network cannot be mapped.
    """
    from snnhw.reference.golden import run_golden  # lazy: needs the conv kernel

    source_note = source_note or qnet.source or "(unnamed model)"
    auto = isinstance(parallelism, str) and parallelism.lower() == "auto"
    if auto and device is None:
        raise OptionError("parallelism 'auto' needs a device (--device NAME, e.g. LFE5U-85F)")
    if device is not None and not auto:
        raise OptionError("a device is only used by parallelism 'auto' (-P auto --device NAME)")
    plan = plan_design(qnet, parallelism=1 if auto else parallelism, timesteps=timesteps, source_note=source_note,
                       weight_bank_words=weight_bank_words)
    if test_images is None:
        rng = np.random.default_rng(0)
        test_images = rng.integers(0, 256, (4, *qnet.input_shape), dtype=np.uint8)
        random_images = True
    else:
        random_images = False
        test_images = np.asarray(test_images)
        if test_images.dtype != np.uint8 or test_images.shape[1:] != tuple(qnet.input_shape):
            raise DataError(f"test_images must be uint8 with shape (N, {', '.join(map(str, qnet.input_shape))}), "
                            f"got {test_images.dtype} {test_images.shape}")
        if test_images.shape[0] < 1:
            raise DataError("test_images is empty")
    if test_labels is not None:
        test_labels = np.asarray(test_labels).astype(np.int64).reshape(-1)
        if test_labels.shape[0] != test_images.shape[0]:
            raise DataError("test_labels and test_images differ in length")

    exit_rule = exit_rule or ExitRule()
    if not isinstance(exit_rule, ExitRule):
        raise OptionError(f"exit_rule must be an ExitRule, got {type(exit_rule).__name__}")
    golden = run_golden(qnet, test_images, plan.timesteps, record_spikes=True)
    exit_steps, _, _ = exit_outputs(golden.potentials, exit_rule)
    folding = None
    if auto:
        from snnhw.codegen.folding import plan_folding

        loads = engine_loads(plan, qnet, golden.spikes, test_images, plan.timesteps, exit_steps)
        folding = plan_folding(qnet, loads, device, timesteps=timesteps, weight_bank_words=weight_bank_words,
                               latency=exit_rule.enabled)
        plan = plan_design(qnet, parallelism=folding.parallelism(), timesteps=timesteps, source_note=source_note,
                           weight_bank_words=weight_bank_words)
        plan.parallelism_spec = f"auto ({folding.device}): {plan.parallelism_spec}"
    cm = cycle_model(plan, qnet, golden.spikes, test_images, plan.timesteps, exit_steps=exit_steps)
    synops = float(golden.synops.sum()) / test_images.shape[0]

    env = _env()
    options = _options(qnet, plan.parallelism_spec)
    top = _top_context(plan, qnet, source_note)

    def header(module):
        return dict(module=module, version=snnhw.__version__, source_note=source_note.replace("\n", " "),
                    options=options)

    rtl = {}
    for path in sorted(LIBRARY_DIR.glob("*.v")):
        rtl[path.name] = (env.get_template("_header.j2").render(**header(path.stem)).rstrip("\n") + "\n"
                          + LIBRARY_NOTE.format(module=path.stem) + path.read_text())
    rtl["snn_top.v"] = env.get_template("snn_top.v.j2").render(T=top, **header("snn_top"))
    sim_rtl = {"snn_tb_top.v": env.get_template("snn_tb_top.v.j2").render(T=top, **header("snn_tb_top"))}

    memories, layer_rows = [], []
    for blk, desc in zip(plan.blocks, top["blocks"]):
        c = blk.ctx
        for m in blk.memories:
            memories.append(Memory(layer=c["name"], name=m["name"], kind=m["kind"], depth=int(m["depth"]),
                                   width=int(m["width"]), style=m["style"],
                                   instance=m.get("instance") or f"u_l{c['index']}.{desc.memory_instance(m['name'])}",
                                   file=m.get("file"), files=m.get("files"), banks=m.get("banks")))
        row = LayerInfo(index=c["index"], name=c["name"], engine=blk.kind if blk.kind != "neuron" else c["kind"],
                        kind=c["kind"], module=desc.module, in_shape=list(c["in_shape"]),
                        out_shape=list(c["out_shape"]), memory_bits=int(sum(m["depth"] * m["width"] for m in blk.memories)))
        row.instance = c.get("instance", f"u_l{c['index']}")
        row.inputs = [plan.blocks[p].ctx["name"] if p >= 0 else INPUT for p in blk.inputs]
        row.parameters = [Parameter(name=n, value=v) for n, v in desc.parameters()]
        if blk.kind in ("analog", "neuron", "output"):
            layer = qnet.layers[c["index"]]
            row.parallelism, row.channel_groups, row.weight_bits = c["P"], c["G"], c["WB"]
            row.columns = c["COLS"]
            row.bias_bits, row.mem_bits, row.role = c["BB"], c["MB"], layer.role
            row.analog_input = bool(layer.analog_input)
            row.kernel, row.stride, row.pads = list(layer.kernel), list(layer.stride), list(layer.pads)
            if layer.role != ROLE_OUTPUT:
                row.threshold_bits, row.vmin, row.vmax = c["TB"], c["VMIN"], c["VMAX"]
                row.threshold_min, row.threshold_max = int(layer.threshold.min()), int(layer.threshold.max())
            if layer.analog_input:
                row.current_bits = c["IB"]
            if layer.kind == "sum":
                row.synapses = [SynapseInfo(
                    source=name, kind=syn.kind, in_shape=list(syn.in_shape), kernel=list(syn.kernel),
                    stride=list(syn.stride), pads=list(syn.pads), group=int(syn.group), engine_groups=sc["GROUPS"],
                    weight_base=sc["WBASE"], weight_words=sc["WDEPTH"])
                    for name, syn, sc in zip(row.inputs, layer.synapses, c["syn"])]
        if blk.kind == "maxpool":
            row.counter_bits, row.kernel, row.stride = c["CNTW"], [c["KH"], c["KW"]], [c["SH"], c["SW"]]
            row.pads = list(qnet.layers[c["index"]].pads)
        layer_rows.append(row)
    K = plan.out_block.ctx["K"]
    manifest = Manifest(
        format=MANIFEST_FORMAT, version=MANIFEST_VERSION, snnhw_version=snnhw.__version__, source=source_note,
        top="snn_top", sim_top="snn_tb_top",
        rtl=sorted(rtl), sim_rtl=sorted(sim_rtl),
        interface=Interface(
            clock="clk", reset="rst (synchronous, active high)", pixels_per_image=int(np.prod(qnet.input_shape)),
            input_shape=[int(v) for v in qnet.input_shape],
            s_axis=SAxis(tdata_bits=8, order="C-H-W", tlast="last pixel"),
            m_axis=MAxis(tdata_bits=plan.OW, tuser_bits=1,
                         framing=("per image: S = exit step + 1 <= T beats tuser=0 (class after each step, "
                                  "unsigned; S = T without early exit), then K beats tuser=1 (output potentials "
                                  "after the exit step, signed two's complement), tlast on the last beat")),
            classes=K, potential_bits=plan.out_block.ctx["MB"], cfg_timesteps_bits=plan.STW,
            max_timesteps=plan.T_MAX, init_cycles_after_reset=top["init_cycles"],
            taps=[Tap(layer=t["layer"], name=t["name"], addr_bits=t["AW"]) for t in top["taps"]],
            ports=top_ports(plan, top["taps"])),
        numeric=Numeric(bits=qnet.bits, reset=qnet.reset, v_init=qnet.v_init, input_scale=float(qnet.input_scale),
                        max_timesteps=qnet.max_timesteps),
        parallelism=plan.parallelism, layers=layer_rows, memories=memories,
        memory_bits=int(sum(m.bits for m in memories)),
        cycle_model=CycleModel(
            timesteps=cm["timesteps"], images=cm["images"], layers=[CycleRow(**r) for r in cm["layers"]],
            throughput_cycles_per_image=float(cm["throughput_cycles_per_image"]), bottleneck=cm["bottleneck"],
            latency_cycles_estimate=float(cm["latency_cycles_estimate"]), formula=cm["formula"],
            synops_per_image=float(synops), bound_cycles=float(cm["bound_cycles"]), bound_engine=cm["bound_engine"],
            mean_steps=float(cm["mean_steps"])),
        vectors=Vectors(file="vectors/test_vectors.npz", spikes="vectors/spikes.npz", images=int(test_images.shape[0]),
                        timesteps=plan.timesteps, random_images=random_images, labels=test_labels is not None),
        taps_default=bool(taps),
        exit=ExitInfo(margin=int(exit_rule.margin), min_steps=int(exit_rule.min_steps),
                      margin_bits=exit_margin_bits(plan), queue_depth=EXIT_QUEUE_DEPTH,
                      rule=("exit after the first step t (0-based) with t + 1 >= min_steps at which the largest "
                            "output potential minus the second largest is >= margin; margin 0: no early exit "
                            "(snnhw/reference/early_exit.py)")),
        parallelism_spec=plan.parallelism_spec,
        plan=folding.to_manifest() if folding is not None else None,
    )

    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists() and not (out_dir / MANIFEST_FILE).exists() and any(out_dir.iterdir()):
        raise OptionError(f"{out_dir}: exists and is not an snnhw build directory; refusing to overwrite it")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=parent))
    try:
        (tmp / "rtl").mkdir()
        (tmp / "sim_rtl").mkdir()
        (tmp / "mem").mkdir()
        (tmp / "vectors").mkdir()
        for name, text in rtl.items():
            (tmp / "rtl" / name).write_text(text)
        for name, text in sim_rtl.items():
            (tmp / "sim_rtl" / name).write_text(text)
        for blk in plan.blocks:
            for fname, (words, lane_bits) in blk.hex_files.items():
                (tmp / fname).write_text("\n".join(hex_lines(words, lane_bits)) + "\n")
        np.savez_compressed(tmp / manifest.vectors.file, images=test_images,
                            labels=test_labels if test_labels is not None else np.full(test_images.shape[0], -1),
                            timesteps=np.int64(plan.timesteps), potentials=golden.potentials,
                            classes=golden.classes.astype(np.int64), exit_steps=exit_steps.astype(np.int64),
                            exit_margin=np.int64(exit_rule.margin), exit_min_steps=np.int64(exit_rule.min_steps))
        np.savez_compressed(tmp / manifest.vectors.spikes,
                            **{f"L{i}": golden.spikes[i] for i in (t["layer"] for t in top["taps"])})
        with open(tmp / "vectors" / "images.hex", "w") as fh:  # for non-Python testbenches
            for img in test_images:
                fh.write(" ".join(f"{v:02x}" for v in img.reshape(-1).tolist()) + "\n")
        save_qnet(qnet, tmp / QNET_FILE)  # the golden model's input for host drivers (snnhw run --check)
        write_manifest(manifest, tmp / MANIFEST_FILE)
        (tmp / "report.md").write_text(_report(qnet, plan, manifest, source_note, folding))
        (tmp / "Makefile").write_text(MAKEFILE.format(version=snnhw.__version__))
        if out_dir.exists():
            old = parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest.to_dict()
