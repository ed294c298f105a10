"""Typed description of the generated hardware: one object per block of the top level.

:func:`snnhw.codegen.layout.plan_design` decides every width and memory of a
network; this module turns that plan into :class:`Instance` objects, each a
library module of ``snnhw/rtl_lib/`` with named parameter values and port
connections. The top-level template only prints them (``snn_top.v.j2``), so
the Verilog a design gets is the library plus wiring.

The engine descriptions (:class:`NeuronEngine`, :class:`MaxPoolGate`,
:class:`Flatten`, :class:`OutputStream`) carry documented fields; their
``parameters()`` give the library module's Verilog parameters in order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnhw.codegen.layout import FIFO_DEPTH, LINK_FIFO_DEPTH, DesignPlan, ubits


def vlit(value) -> str:
    """A Verilog literal for a parameter value: integers as is, strings quoted."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        return '"' + value + '"'
    value = int(value)
    if value < -(1 << 31) or value >= (1 << 31):
        return f"64'sd{value}" if value >= 0 else f"-64'sd{-value}"
    return str(value)


@dataclass
class StreamFields:
    """Token fields of a spike stream: {eos, last, c, y, x} for a map, {eos, last, index} for a vector."""

    is_map: bool
    cw: int
    yw: int = 1
    xw: int = 1

    @property
    def width(self) -> int:
        return 2 + self.cw + (self.yw + self.xw if self.is_map else 0)


@dataclass
class SynapseInput:
    """One synapse input of a multi-input (sum) engine: the geometry of its own scatter generator and its
    region of the weight ROM."""

    source: str                  # the layer it reads
    c_in: int
    h_in: int
    w_in: int
    kernel: tuple                # (KH, KW)
    stride: tuple                # (SH, SW)
    pads: tuple                  # (PT, PL)
    conv_groups: int             # the groups the engine builds it with (zero-filled from the layer's)
    weight_base: int             # its first weight word
    weight_words: int
    inp: StreamFields            # its source's token fields


@dataclass
class NeuronEngine:
    """A convolution, dense or average-pooling layer (``snn_neuron_engine``)."""

    layer: int                   # index in the QNetwork
    name: str                    # ONNX node name
    analog: bool                 # first layer: takes the pixels
    spiking: bool                # False: the output layer (accumulates potentials)
    avgpool: bool
    reset_sub: bool              # reset by subtraction (else to zero)
    v_init_half: bool            # membranes start at theta / 2
    c_in: int
    h_in: int
    w_in: int
    c_out: int
    h_out: int
    w_out: int
    kernel: tuple                # (KH, KW)
    stride: tuple                # (SH, SW)
    pad_top_left: tuple          # (PT, PL)
    lanes: int                   # output channels per cycle (P)
    columns: int                 # kernel columns per cycle: 1, or KW (membranes in that many column banks)
    conv_groups: int             # convolution groups (depthwise: c_in)
    weight_bits: int
    mem_bits: int
    bias_bits: int
    theta_bits: int
    current_bits: int            # analog layer's input-current width (0 otherwise)
    vmin: int
    vmax: int
    t_max: int
    step_bits: int
    group_bits: int
    mem_addr_bits: int
    pos_bits: int
    inp: StreamFields            # analog: the pixel position counters' widths
    out: StreamFields
    mem_block: int               # membrane (and current) RAM: 1 block RAM, 2 LUT RAM, 0 the tool's choice
    weight_bank_aw: int          # > 0: weight ROM in banks of 2**weight_bank_aw words
    weight_block: bool           # weight ROM in block RAM (False: a shallow ROM built in logic)
    weight_file: str             # $readmemh image (banked: the bank files' prefix)
    bias_file: str
    theta_file: str
    synapses: list = field(default_factory=list)  # SynapseInput per input of a multi-input (sum) engine
    src_bits: int = 1            # the src field of its merged input tokens

    module = "snn_neuron_engine"

    def memory_instance(self, memory: str) -> str:
        """Hierarchical name of a memory inside the engine (as synthesis names its cells); the membrane
        and current RAMs of column bank b are ``membrane_c<b>`` / ``current_c<b>`` (``membrane``: bank 0)."""
        name, _, bank = memory.partition("_c")
        if name in ("membrane", "current"):
            return f"g_col[{int(bank or 0)}]." + ("u_membrane" if name == "membrane" else "g_current.u_current")
        return {"bias": "u_bias",
                "theta": "g_theta.u_theta",
                "weights": "g_banked_weights.u_weights" if self.weight_bank_aw else "g_weights.u_weights"}[memory]

    def parameters(self) -> list:
        p = [("ANALOG", self.analog), ("SPIKING", self.spiking), ("AVGPOOL", self.avgpool),
             ("RESET_SUB", self.reset_sub), ("V_INIT_HALF", self.v_init_half),
             ("C_IN", self.c_in), ("H_IN", self.h_in), ("W_IN", self.w_in),
             ("C_OUT", self.c_out), ("H_OUT", self.h_out), ("W_OUT", self.w_out),
             ("KH", self.kernel[0]), ("KW", self.kernel[1]), ("SH", self.stride[0]), ("SW", self.stride[1]),
             ("PT", self.pad_top_left[0]), ("PL", self.pad_top_left[1]), ("LANES", self.lanes), ("COLS", self.columns),
             ("CONV_GROUPS", self.conv_groups),
             ("WEIGHT_BITS", self.weight_bits), ("MEM_BITS", self.mem_bits), ("BIAS_BITS", self.bias_bits),
             ("THETA_BITS", self.theta_bits), ("CURRENT_BITS", self.current_bits),
             ("VMIN", f"{'-' if self.vmin < 0 else ''}64'sd{abs(self.vmin)}"),
             ("VMAX", f"{'-' if self.vmax < 0 else ''}64'sd{abs(self.vmax)}"), ("T_MAX", self.t_max),
             ("IN_3D", self.inp.is_map), ("IN_CW", self.inp.cw), ("IN_YW", self.inp.yw), ("IN_XW", self.inp.xw),
             ("OUT_3D", self.out.is_map), ("OUT_CW", self.out.cw), ("OUT_YW", self.out.yw),
             ("OUT_XW", self.out.xw), ("IN_TOKEN_W", 10 if self.analog else self.inp.width + (self.src_bits if self.synapses else 0)),
             ("OUT_TOKEN_W", self.out.width), ("STEP_W", self.step_bits), ("GROUP_W", self.group_bits),
             ("MEM_ADDR_W", self.mem_addr_bits), ("POS_W", self.pos_bits), ("MEM_BLOCK", self.mem_block),
             ("WEIGHT_BANK_AW", self.weight_bank_aw),
             ("WEIGHT_BLOCK", self.weight_block), ("WEIGHT_FILE", self.weight_file),
             ("BIAS_FILE", self.bias_file), ("THETA_FILE", self.theta_file)]
        p = [(k, v if isinstance(v, str) and k in ("VMIN", "VMAX") else vlit(v)) for k, v in p]
        if self.synapses:
            syn = self.synapses

            def packed(values):  # input k at bits [32*k +: 32]
                return "{" + ", ".join(f"32'd{int(v)}" for v in reversed(values)) + "}"

            pos = next(n for n, (k, _) in enumerate(p) if k == "CONV_GROUPS") + 1
            p[pos:pos] = [("N_SYN", vlit(len(syn))), ("SRC_W", vlit(self.src_bits))] + [
                (name, packed(values)) for name, values in (
                    ("SYN_C_IN", [s.c_in for s in syn]), ("SYN_H_IN", [s.h_in for s in syn]),
                    ("SYN_W_IN", [s.w_in for s in syn]), ("SYN_KH", [s.kernel[0] for s in syn]),
                    ("SYN_KW", [s.kernel[1] for s in syn]), ("SYN_SH", [s.stride[0] for s in syn]),
                    ("SYN_SW", [s.stride[1] for s in syn]), ("SYN_PT", [s.pads[0] for s in syn]),
                    ("SYN_PL", [s.pads[1] for s in syn]), ("SYN_GROUPS", [s.conv_groups for s in syn]),
                    ("SYN_WBASE", [s.weight_base for s in syn]))] + [
                ("WEIGHT_DEPTH", vlit(sum(s.weight_words for s in syn)))]
        return p


@dataclass
class MaxPoolGate:
    """A max-pool layer's spike gate (``snn_maxpool_gate``)."""

    layer: int
    name: str
    channels: int
    h_in: int
    w_in: int
    h_out: int
    w_out: int
    kernel: tuple
    stride: tuple
    pad_top_left: tuple
    t_max: int
    counter_bank_aw: int         # > 0: the counter RAM is in banks of 2**counter_bank_aw words
    window_bank_aw: int          # > 0: the window RAM is in banks of 2**window_bank_aw words
    inp: StreamFields
    out: StreamFields

    module = "snn_maxpool_gate"

    @staticmethod
    def memory_instance(memory: str) -> str:
        return {"counters": "u_counters", "windows": "u_windows"}[memory]

    def parameters(self) -> list:
        return [(k, vlit(v)) for k, v in [
            ("CHANNELS", self.channels), ("H_IN", self.h_in), ("W_IN", self.w_in), ("H_OUT", self.h_out),
            ("W_OUT", self.w_out), ("KH", self.kernel[0]), ("KW", self.kernel[1]), ("SH", self.stride[0]),
            ("SW", self.stride[1]), ("PT", self.pad_top_left[0]), ("PL", self.pad_top_left[1]),
            ("T_MAX", self.t_max), ("COUNTER_BANK_AW", self.counter_bank_aw),
            ("WINDOW_BANK_AW", self.window_bank_aw), ("IN_CW", self.inp.cw),
            ("IN_YW", self.inp.yw), ("IN_XW", self.inp.xw), ("OUT_CW", self.out.cw), ("OUT_YW", self.out.yw),
            ("OUT_XW", self.out.xw)]]


@dataclass
class Flatten:
    """Address re-mapping {c, y, x} -> (c*H + y)*W + x (``snn_flatten``, no cycles)."""

    layer: int
    name: str
    channels: int
    rows: int
    columns: int

    module = "snn_flatten"

    def parameters(self) -> list:
        return [("CHANNELS", vlit(self.channels)), ("ROWS", vlit(self.rows)), ("COLUMNS", vlit(self.columns))]


@dataclass
class Instance:
    """One instance in snn_top: a library module, its parameters and its port connections."""

    module: str
    name: str
    comment: str
    parameters: list = field(default_factory=list)   # (name, Verilog literal)
    connections: list = field(default_factory=list)  # (port, expression)


def _fields(ctx: dict, prefix: str, is_map: bool) -> StreamFields:
    return StreamFields(is_map=is_map, cw=ctx[f"{prefix}CW"], yw=ctx[f"{prefix}YW"], xw=ctx[f"{prefix}XW"])


def neuron_engine(ctx: dict, weight_bank_aw: int) -> NeuronEngine:
    """The typed description of a neuron block's plan context."""
    return NeuronEngine(
        layer=ctx["index"], name=ctx["name"], analog=bool(ctx["analog"]), spiking=ctx["role"] == "spiking",
        avgpool=ctx["kind"] == "avgpool", reset_sub=bool(ctx["reset_sub"]), v_init_half=bool(ctx["half"]),
        c_in=ctx["C_IN"], h_in=ctx["H_IN"], w_in=ctx["W_IN"], c_out=ctx["C_OUT"], h_out=ctx["H_OUT"],
        w_out=ctx["W_OUT"], kernel=(ctx["KH"], ctx["KW"]), stride=(ctx["SH"], ctx["SW"]),
        pad_top_left=(ctx["PT"], ctx["PL"]), lanes=ctx["P"], columns=ctx["COLS"],
        conv_groups=ctx["CONV_GROUPS"], weight_bits=ctx["WB"], mem_bits=ctx["MB"],
        bias_bits=ctx["BB"], theta_bits=ctx["TB"], current_bits=ctx["IB"], vmin=ctx["VMIN"], vmax=ctx["VMAX"],
        t_max=ctx["T_MAX"], step_bits=ctx["STW"], group_bits=ctx["GW"], mem_addr_bits=ctx["VAW"],
        pos_bits=ctx["PSW"], inp=_fields(ctx, "I", bool(ctx["in3d"]) or bool(ctx["analog"])),
        out=_fields(ctx, "O", bool(ctx["out3d"])), mem_block=int(ctx["VBLOCK"]), weight_bank_aw=weight_bank_aw,
        weight_block=bool(ctx["WBLOCK"]),
        weight_file=(ctx["weight_file"].removesuffix(".hex") if weight_bank_aw else ctx["weight_file"]),
        bias_file=ctx["bias_file"], theta_file=ctx["theta_file"],
        synapses=[SynapseInput(source=sc["source"], c_in=sc["C_IN"], h_in=sc["H_IN"], w_in=sc["W_IN"],
                               kernel=(sc["KH"], sc["KW"]), stride=(sc["SH"], sc["SW"]), pads=(sc["PT"], sc["PL"]),
                               conv_groups=sc["GROUPS"], weight_base=sc["WBASE"], weight_words=sc["WDEPTH"],
                               inp=StreamFields(*sc["in_fields"])) for sc in ctx.get("syn", [])],
        src_bits=ctx.get("SRC_W", 1))


def maxpool_gate(ctx: dict) -> MaxPoolGate:
    return MaxPoolGate(
        layer=ctx["index"], name=ctx["name"], channels=ctx["C_IN"], h_in=ctx["H_IN"], w_in=ctx["W_IN"],
        h_out=ctx["H_OUT"], w_out=ctx["W_OUT"], kernel=(ctx["KH"], ctx["KW"]), stride=(ctx["SH"], ctx["SW"]),
        pad_top_left=(ctx["PT"], ctx["PL"]), t_max=ctx["T_MAX"], counter_bank_aw=ctx["CNT_BANK_AW"],
        window_bank_aw=ctx["WIN_BANK_AW"],
        inp=_fields(ctx, "I", True), out=_fields(ctx, "O", True))


def flatten(ctx: dict) -> Flatten:
    rows, columns = int(ctx["H_IN"]), int(ctx["W_IN"])
    channels = int(np.prod(ctx["in_shape"])) // (rows * columns)
    return Flatten(layer=ctx["index"], name=ctx["name"], channels=channels, rows=rows, columns=columns)


def describe_blocks(plan: DesignPlan) -> list:
    """The typed description of every block of ``plan``, in pipeline order."""
    out = []
    for blk in plan.blocks:
        c = blk.ctx
        if blk.kind == "flatten":
            out.append(flatten(c))
        elif blk.kind == "maxpool":
            out.append(maxpool_gate(c))
        else:
            bank_aw = ubits(c["weight_banks"][0]["depth"] - 1) if c.get("weight_banks") else 0
            out.append(neuron_engine(c, bank_aw))
    return out


# snn_exit_queue's image abort, broadcast to every engine (declared with the exit queue's wires)
ABORT = "exit_abort"


def _tie(width: int) -> str:
    return "1'b0" if width == 1 else f"{{{width}{{1'b0}}}}"


def top_instances(plan: DesignPlan, blocks: list) -> tuple:
    """Streams and instances of snn_top: (streams [(name, width)], instances, output-engine wires).

    Every block reads the blocks ``Block.inputs`` names. A block's output stream that one block reads
    goes to it through a token FIFO (none after a flatten's re-mapping, which sits on a FIFO's output);
    one that several blocks read goes through an ``snn_stream_fork`` and a FIFO per reader. A sum
    engine's inputs meet in an ``snn_event_merge``, each token's fields zero-extended to the engine's
    common {c, y, x} layout.
    """
    streams, instances, wires = [], [], []
    readers = {}
    for blk in plan.blocks:
        for pos in blk.inputs:
            readers[pos] = readers.get(pos, 0) + 1
    avail = {}  # block position -> [(stream, needs a FIFO)] not yet taken by a reader, in reader order

    def new_stream(name, width):
        streams.append((name, width))
        return name

    deep = [None]  # the reader being wired has a deep input link: its instance name (layout._deep_links)

    def fifo(inp, width):
        out = new_stream(f"f{len(instances)}", width)
        module, name, depth = ("snn_fifo", f"u_fifo{len(instances)}", FIFO_DEPTH) if deep[0] is None else \
            ("snn_fifo_block", deep[0], LINK_FIFO_DEPTH)
        instances.append(Instance(module, name, "" if deep[0] is None else "deep link: a time step's events", [
            ("WIDTH", vlit(width)), ("DEPTH", vlit(depth))], [
            ("clk", "clk"), ("rst", "rst"), ("s_valid", f"{inp}_valid"), ("s_ready", f"{inp}_ready"),
            ("s_data", f"{inp}_data"), ("m_valid", f"{out}_valid"), ("m_ready", f"{out}_ready"),
            ("m_data", f"{out}_data")]))
        return out

    def publish(pos, name, width, raw, what):
        """Block ``pos`` emits stream ``name``: to its one reader, or through a fork to each."""
        n = readers.get(pos, 0)
        if n <= 1:
            avail[pos] = [(name, raw)]
            return
        outs = [new_stream(f"{name}_r{k}", width) for k in range(n)]
        cat = lambda suffix: "{" + ", ".join(f"{o}_{suffix}" for o in reversed(outs)) + "}"
        instances.append(Instance("snn_stream_fork", f"u_fork_{name}", f"{what}: read by {n} blocks",
                                  [("N_OUT", vlit(n)), ("WIDTH", vlit(width))], [
                                      ("clk", "clk"), ("rst", "rst"), ("in_valid", f"{name}_valid"),
                                      ("in_ready", f"{name}_ready"), ("in_data", f"{name}_data"),
                                      ("out_valid", cat("valid")), ("out_ready", cat("ready")),
                                      ("out_data", cat("data"))]))
        avail[pos] = [(o, True) for o in outs]

    def take(pos, width):
        name, raw = avail[pos].pop(0)
        return fifo(name, width) if raw else name

    for d, blk in zip(blocks, plan.blocks):
        c = blk.ctx
        me = plan.blocks.index(blk)
        desc = f"layer {c['index']} \"{c['name']}\": {c['kind']} {tuple(c['in_shape'])} -> {tuple(c['out_shape'])}"
        if isinstance(d, Flatten):
            inp = take(blk.inputs[0], c["TIN"])
            # (a second flatten of one layer: a sum reading two maps through dense synapses)
            out = new_stream(f"x{d.layer}" if f"x{d.layer}" not in dict(streams) else f"x{d.layer}_{me}", c["TOUT"])
            c["instance"] = f"u_l{d.layer}_flatten" + ("" if out == f"x{d.layer}" else f"_{me}")
            instances.append(Instance(d.module, c["instance"], desc + " (address re-mapping)", d.parameters(),
                                      _stream_ports(inp, out)))
            publish(me, out, c["TOUT"], False, f"layer {d.layer}'s flattened spikes")
        elif isinstance(d, MaxPoolGate):
            inp = take(blk.inputs[0], d.inp.width)
            out = new_stream(f"e{d.layer}", d.out.width)
            instances.append(Instance(d.module, f"u_l{d.layer}", desc + " (spike gate)", d.parameters(),
                                      [("clk", "clk"), ("rst", "rst")] + _stream_ports(inp, out)
                                      + [("img_abort", ABORT)]))
            publish(me, out, d.out.width, True, f"layer {d.layer}'s spikes")
        else:
            conns = [("clk", "clk"), ("rst", "rst")]
            u = f"unused_l{d.layer}"
            if d.analog:
                # the pixels and their configuration come through s_axis's register slice (snn_top)
                conns += [("s_valid", "pix_valid"), ("s_ready", "pix_ready"), ("s_pixel", "pix_tdata"),
                          ("s_last", "pix_tlast"), ("cfg_timesteps", "pix_cfg_timesteps"),
                          ("framing_error", "status_framing_error"),
                          ("img_room", "exit_room"), ("img_start", "exit_push"), ("exit_now", "exit_now"),
                          ("img_abort", ABORT), ("in_valid", "1'b0"), ("in_ready", f"{u}_in_ready"), ("in_data", _tie(10))]
                wires.append((f"{u}_in_ready", 1))
                note = ", analog input"
            else:
                deep[0] = c.get("INPUT_FIFO")
                inp = _merged(d, blk, take, new_stream, instances) if d.synapses else take(blk.inputs[0], d.inp.width)
                deep[0] = None
                conns += [("s_valid", "1'b0"), ("s_ready", f"{u}_s_ready"), ("s_pixel", _tie(8)),
                          ("s_last", "1'b0"), ("cfg_timesteps", _tie(d.step_bits)),
                          ("framing_error", f"{u}_framing_error"),
                          ("img_room", "1'b1"), ("img_start", f"{u}_img_start"), ("exit_now", "1'b0"),
                          ("img_abort", ABORT), ("in_valid", f"{inp}_valid"), ("in_ready", f"{inp}_ready"), ("in_data", f"{inp}_data")]
                wires += [(f"{u}_s_ready", 1), (f"{u}_framing_error", 1), (f"{u}_img_start", 1)]
                note = ""
            pw = d.lanes * d.mem_bits
            res = [("res_valid", 1), ("res_last", 1), ("res_group", d.group_bits), ("res_addr", d.mem_addr_bits),
                   ("res_pos", d.pos_bits), ("res_potentials", pw), ("res_eos_valid", 1), ("res_eos_last", 1)]
            if d.spiking:
                out = new_stream(f"e{d.layer}", d.out.width)
                conns += [("out_valid", f"{out}_valid"), ("out_ready", f"{out}_ready"), ("out_data", f"{out}_data")]
                conns += [(n, f"{u}_{n}") for n, _ in res] + [("res_eos_ready", "1'b0")]
                wires += [(f"{u}_{n}", w) for n, w in res]
            else:
                conns += [("out_valid", f"{u}_out_valid"), ("out_ready", "1'b0"),
                          ("out_data", f"{u}_out_data")]
                wires += [(f"{u}_out_valid", 1), (f"{u}_out_data", d.out.width)]
                conns += [(n, n) for n, _ in res] + [("res_eos_ready", "res_eos_ready")]
                wires += res + [("res_eos_ready", 1)]
                note = ", output layer"
            instances.append(Instance(d.module, f"u_l{d.layer}", desc + note + f", {d.lanes} lane(s)"
                                      + (f" x {d.columns} kernel columns" if d.columns > 1 else ""),
                                      d.parameters(), conns))
            if d.spiking:
                publish(me, out, d.out.width, True, f"layer {d.layer}'s spikes")
    return streams, instances, wires


def _widened(name: str, f: StreamFields, cw: int, yw: int, xw: int) -> str:
    """Stream ``name``'s token {eos, last, c, y, x} (a vector: {eos, last, index}) with each field
    zero-extended to ``cw``/``yw``/``xw`` bits (a vector's index in c, y = x = 0): wiring only."""
    data, w = f"{name}_data", f.width
    parts = [f"{data}[{w - 1}:{w - 2}]"]

    def field(lo, width, target):
        if target > width:
            parts.append(f"{{{target - width}{{1'b0}}}}")
        if width:
            parts.append(f"{data}[{lo + width - 1}:{lo}]")

    if f.is_map:
        field(f.yw + f.xw, f.cw, cw)
        field(f.xw, f.yw, yw)
        field(0, f.xw, xw)
    else:
        field(0, f.cw, cw)
        field(0, 0, yw)
        field(0, 0, xw)
    return "{" + ", ".join(parts) + "}"


def _merged(d: NeuronEngine, blk, take, new_stream, instances) -> str:
    """A sum engine's inputs, each from its FIFO, merged by snn_event_merge into one stream (the engine's input)."""
    cw, yw, xw = d.inp.cw, d.inp.yw, d.inp.xw
    ins = [take(pos, syn.inp.width) for pos, syn in zip(blk.inputs, d.synapses)]
    out = new_stream(f"m{d.layer}", d.inp.width + d.src_bits)
    cat = lambda suffix: "{" + ", ".join(f"{i}_{suffix}" for i in reversed(ins)) + "}"
    data = "{" + ", ".join(_widened(i, syn.inp, cw, yw, xw) for i, syn in reversed(list(zip(ins, d.synapses)))) + "}"
    instances.append(Instance("snn_event_merge", f"u_merge{d.layer}",
                              f"layer {d.layer}'s {len(ins)} synapse inputs ("
                              + ", ".join(s.source for s in d.synapses) + "), merged a time step at a time", [
                                  ("N_IN", vlit(len(ins))), ("PAYLOAD_W", vlit(cw + yw + xw)),
                                  ("SRC_W", vlit(d.src_bits)), ("IN_TOKEN_W", vlit(d.inp.width)),
                                  ("OUT_TOKEN_W", vlit(d.inp.width + d.src_bits))], [
                                  ("clk", "clk"), ("rst", "rst"), ("in_valid", cat("valid")),
                                  ("in_ready", cat("ready")), ("in_data", data), ("out_valid", f"{out}_valid"),
                                  ("out_ready", f"{out}_ready"), ("out_data", f"{out}_data")]))
    return out


def _stream_ports(inp: str, out: str) -> list:
    return [("in_valid", f"{inp}_valid"), ("in_ready", f"{inp}_ready"), ("in_data", f"{inp}_data"),
            ("out_valid", f"{out}_valid"), ("out_ready", f"{out}_ready"), ("out_data", f"{out}_data")]
