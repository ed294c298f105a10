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

from snnhw.codegen.layout import FIFO_DEPTH, DesignPlan, ubits


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
    mem_block: bool              # membrane (and current) RAM in block RAM
    weight_bank_aw: int          # > 0: weight ROM in banks of 2**weight_bank_aw words
    weight_block: bool           # weight ROM in block RAM (False: a shallow ROM built in logic)
    weight_file: str             # $readmemh image (banked: the bank files' prefix)
    bias_file: str
    theta_file: str

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
             ("OUT_XW", self.out.xw), ("IN_TOKEN_W", 10 if self.analog else self.inp.width),
             ("OUT_TOKEN_W", self.out.width), ("STEP_W", self.step_bits), ("GROUP_W", self.group_bits),
             ("MEM_ADDR_W", self.mem_addr_bits), ("POS_W", self.pos_bits), ("MEM_BLOCK", self.mem_block),
             ("WEIGHT_BANK_AW", self.weight_bank_aw),
             ("WEIGHT_BLOCK", self.weight_block), ("WEIGHT_FILE", self.weight_file),
             ("BIAS_FILE", self.bias_file), ("THETA_FILE", self.theta_file)]
        return [(k, v if isinstance(v, str) and k in ("VMIN", "VMAX") else vlit(v)) for k, v in p]


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
        out=_fields(ctx, "O", bool(ctx["out3d"])), mem_block=bool(ctx["VBLOCK"]), weight_bank_aw=weight_bank_aw,
        weight_block=bool(ctx["WBLOCK"]),
        weight_file=(ctx["weight_file"].removesuffix(".hex") if weight_bank_aw else ctx["weight_file"]),
        bias_file=ctx["bias_file"], theta_file=ctx["theta_file"])


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
    """Streams and instances of snn_top: (streams [(name, width)], instances, output-engine wires)."""
    streams, instances, wires = [], [], []
    cur, cur_raw = None, False  # the stream feeding the next block; an engine output still needing a FIFO

    def new_stream(name, width):
        streams.append((name, width))
        return name

    def buffered(width):
        nonlocal cur, cur_raw
        if cur_raw:
            out = new_stream(f"f{len(instances)}", width)
            instances.append(Instance("snn_fifo", f"u_fifo{len(instances)}", "", [
                ("WIDTH", vlit(width)), ("DEPTH", vlit(FIFO_DEPTH))], [
                ("clk", "clk"), ("rst", "rst"), ("s_valid", f"{cur}_valid"), ("s_ready", f"{cur}_ready"),
                ("s_data", f"{cur}_data"), ("m_valid", f"{out}_valid"), ("m_ready", f"{out}_ready"),
                ("m_data", f"{out}_data")]))
            cur, cur_raw = out, False
        return cur

    for d, blk in zip(blocks, plan.blocks):
        c = blk.ctx
        desc = f"layer {c['index']} \"{c['name']}\": {c['kind']} {tuple(c['in_shape'])} -> {tuple(c['out_shape'])}"
        if isinstance(d, Flatten):
            inp = buffered(c["TIN"])
            out = new_stream(f"x{d.layer}", c["TOUT"])
            instances.append(Instance(d.module, f"u_l{d.layer}_flatten", desc + " (address re-mapping)",
                                      d.parameters(), _stream_ports(inp, out)))
            cur, cur_raw = out, False
        elif isinstance(d, MaxPoolGate):
            inp = buffered(d.inp.width)
            out = new_stream(f"e{d.layer}", d.out.width)
            instances.append(Instance(d.module, f"u_l{d.layer}", desc + " (spike gate)", d.parameters(),
                                      [("clk", "clk"), ("rst", "rst")] + _stream_ports(inp, out)
                                      + [("img_abort", ABORT)]))
            cur, cur_raw = out, True
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
                inp = buffered(d.inp.width)
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
                cur, cur_raw = out, True
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
    return streams, instances, wires


def _stream_ports(inp: str, out: str) -> list:
    return [("in_valid", f"{inp}_valid"), ("in_ready", f"{inp}_ready"), ("in_data", f"{inp}_data"),
            ("out_valid", f"{out}_valid"), ("out_ready", f"{out}_ready"), ("out_data", f"{out}_data")]
