"""Hardware layout of a QNetwork: which engine each layer becomes, every
width, memory shape and image of every block (the plan that
:mod:`snnhw.codegen.design` turns into library instances).

Nothing here writes files; :func:`plan_design` either returns a complete
:class:`DesignPlan` or raises :class:`~snnhw.errors.FitError` /
:class:`~snnhw.errors.OptionError`, so a network that cannot be mapped is
refused before anything is written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnhw.codegen.mappable import check_mappable
from snnhw.errors import FitError, OptionError
from snnhw.ir import ROLE_OUTPUT, ROLE_SPIKING, QLayer, QNetwork, source_indices

MAX_PARALLELISM = 64
MAX_ADDR_BITS = 24  # deepest memory: 16 Mi words
MAX_WORD_BITS = 4096  # widest memory word (P lanes)
MAX_TOTAL_MEMORY_BITS = 256 * 1024 * 1024
FIFO_DEPTH = 32  # AER token FIFO between engines
# A deep link (snn_fifo_block, one block RAM of 1024 x 18) in front of an event-driven engine that takes several
# cycles per event and is fed by another one (through max-pool gates): a time step's spikes queue there, so the
# engine before it finishes its fire sweep and integrates its next step meanwhile, instead of stalling on a
# 32-word FIFO (docs/hardware.md, "Layer pipeline").
LINK_FIFO_DEPTH = 1024


def ubits(n: int) -> int:
    """Bits of an unsigned register holding 0..n (at least 1)."""
    return max(1, int(n).bit_length())


def signed_bits(lo: int, hi: int) -> int:
    return max(int(hi).bit_length(), int(-lo - 1).bit_length() if lo < 0 else 0) + 1


@dataclass
class Stream:
    """Token stream layout: 3D {c, y, x} or 1D {index}, plus {eos, last}."""

    shape: tuple

    @property
    def is3d(self) -> bool:
        return len(self.shape) == 3

    @property
    def fields(self) -> tuple:
        if self.is3d:
            c, h, w = self.shape
            return ubits(c - 1), ubits(h - 1), ubits(w - 1)
        return (ubits(int(np.prod(self.shape)) - 1),)

    @property
    def width(self) -> int:
        return 2 + sum(self.fields)


@dataclass
class Block:
    """One hardware block (engine) of the plan: its widths and geometry (``ctx``), memories and images."""

    kind: str  # 'analog' | 'neuron' | 'maxpool' | 'flatten' | 'output'
    layer_index: int
    ctx: dict
    memories: list = field(default_factory=list)  # dicts: name, kind, depth, width, file(s), style
    hex_files: dict = field(default_factory=dict)  # file name -> (array of words, lane bits, lanes)
    inputs: list = field(default_factory=list)  # the blocks it reads (positions in DesignPlan.blocks; -1: pixels)


@dataclass
class DesignPlan:
    blocks: list
    top: dict
    parallelism: int
    timesteps: int
    T_MAX: int
    STW: int
    OW: int
    out_block: Block
    lanes: dict = field(default_factory=dict)  # layer index -> lanes of its neuron engine
    parallelism_spec: str = ""  # the request in -P syntax (e.g. '8' or '8,/3/Conv=32x3,/7/Conv=32')
    columns: dict = field(default_factory=dict)  # layer index -> kernel columns per cycle (1, or the kernel width)


# A weight ROM deeper than this is split into banks of this many words, each
# registered before the bank multiplexer (snn_rom_banked), so no
# multiplexer spans the whole ROM. 8192 words are at most eight block RAMs
# deep on ECP5 (1024 x 18) or Xilinx (RAMB36 1024 x 36), so a bank's own
# multiplexer stays small and local (it is still mnist_paper's critical path,
# docs/hardware.md "Timing"). Smaller banks would cost block RAMs: 512-word
# banks of 64-bit words need 2 x (512 x 36) each (12% unused), where Yosys
# packs a deep bank into mixed geometries nearly without waste (mnist_paper at
# P = 8: 98 instead of 89 DP16KD for its dense ROM, and no longer a fit).
WEIGHT_BANK_WORDS = 8192
# Max-pool counter and window RAMs deeper than one block RAM are split into
# one-block-RAM banks with registered outputs (snn_ram BANK_AW), for the same
# reason; the gate's per-image clear then writes all banks at once (one bank
# depth of cycles instead of one per word). A bank is as deep as one 18-kbit
# block holds words of that width (ECP5 DP16KD, Xilinx RAMB18: 16384 x 1 ...
# 512 x 36): 4-bit counters in 4096-word banks, a 10-bit window word in
# 1024-word banks. Shallower banks would leave most of each block unused.
BLOCK_GEOMETRIES = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))


def block_bank_aw(width: int) -> int:
    """Address bits of the deepest one-block bank of ``width``-bit words (wider than 36: 512 words)."""
    depth = next((d for d, w in BLOCK_GEOMETRIES if w >= width), 512)
    return depth.bit_length() - 1


LOGIC_ROM_MAX_DEPTH = 64  # weight ROMs this shallow are built in logic (snn_neuron_engine WEIGHT_BLOCK = 0)
RAM_BLOCK_MIN_DEPTH = 17  # shallower RAMs (a dense layer's few channel groups) are left to LUT RAM / FFs
RAM_BLOCK_MIN_BITS = 2048
LUTRAM_MAX_DEPTH = 144  # RAMs up to this deep (9 rows of 16-word LUT RAM) go to LUT RAM, not block RAM
MEM_BLOCK_PARAM = {"distributed": 0, "block": 1, "lutram": 2}  # snn_ram BLOCK / snn_neuron_engine MEM_BLOCK


def ram_style(depth: int, width: int) -> str:
    """'block' for RAMs worth a block RAM; 'lutram' (marked ram_style "distributed") for a few hundred
    wide words, such as the membrane banks of kernel columns in parallel, which would fill block RAMs only
    a fraction of their depth; 'distributed' (no attribute: the tool picks LUT RAM or flip-flops) for
    tiny ones."""
    if depth < RAM_BLOCK_MIN_DEPTH or depth * width < RAM_BLOCK_MIN_BITS:
        return "distributed"
    return "lutram" if depth <= LUTRAM_MAX_DEPTH else "block"


def _pow2_ceil(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _lanes(layer: QLayer, P: int) -> int:
    """Lanes of a layer's engine for a request of P: at most C_out; a grouped convolution's lanes divide its
    outputs per group (a channel group never straddles two convolution groups)."""
    group = int(layer.group) if layer.kind == "conv" else 1
    per_group = int(layer.out_shape[0]) // group
    lanes = max(1, min(P, per_group))
    while group > 1 and per_group % lanes:
        lanes -= 1
    return lanes


def _geometry(layer: QLayer) -> dict:
    """Input/output geometry of a neuron or gate layer as 3D (dense: 1x1 maps)."""
    if layer.kind == "dense":
        n_in = int(np.prod(layer.in_shape))
        n_out = int(np.prod(layer.out_shape))
        return dict(C_IN=n_in, H_IN=1, W_IN=1, C_OUT=n_out, H_OUT=1, W_OUT=1, KH=1, KW=1, SH=1, SW=1, PT=0, PL=0)
    c, h, w = layer.in_shape
    o, ho, wo = layer.out_shape
    kh, kw = layer.kernel
    sh, sw = layer.stride
    pt, pl = layer.pads[0], layer.pads[1]
    return dict(C_IN=c, H_IN=h, W_IN=w, C_OUT=o, H_OUT=ho, W_OUT=wo, KH=kh, KW=kw, SH=sh, SW=sw, PT=pt, PL=pl)


def _scatter_widths(g: dict) -> dict:
    """Kernel rows / columns one input row / column reaches (the scatter's iterations per event)."""
    return dict(MH=-(-g["KH"] // g["SH"]), MW=-(-g["KW"] // g["SW"]))


def _check_geometry(layer: QLayer, g: dict) -> None:
    if layer.kind == "dense":
        return
    for name in ("KH", "KW", "SH", "SW"):
        if g[name] < 1:
            raise FitError(f"layer {layer.name}: {name} = {g[name]} is not mappable")
    pads = layer.pads
    if min(pads) < 0:
        raise FitError(f"layer {layer.name}: negative padding {pads} is not mappable")
    ho = (g["H_IN"] + pads[0] + pads[2] - g["KH"]) // g["SH"] + 1
    wo = (g["W_IN"] + pads[1] + pads[3] - g["KW"]) // g["SW"] + 1
    if (ho, wo) != (g["H_OUT"], g["W_OUT"]):
        raise FitError(f"layer {layer.name}: output shape {layer.out_shape} does not match kernel/stride/padding "
                       f"(expected {ho}x{wo})")


LANE_KINDS = ("conv", "dense", "avgpool", "sum")  # layers that become a neuron engine with lanes


def lane_layers(qnet: QNetwork) -> dict:
    """Layer index -> name of every layer whose engine has lanes (conv, dense, average pooling, sum)."""
    return {i: layer.name for i, layer in enumerate(qnet.layers) if layer.kind in LANE_KINDS}


def _check_lanes(value, what: str) -> tuple:
    """A parallelism request -> (lanes, columns): ``lanes`` (int) or ``(lanes, columns)``."""
    lanes, cols = value if isinstance(value, tuple) and len(value) == 2 else (value, 1)
    for v, name in ((lanes, "lanes"), (cols, "columns")):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= MAX_PARALLELISM:
            raise OptionError(f"{what}: {name} must be an integer in 1..{MAX_PARALLELISM}, got {value!r}")
    return int(lanes), int(cols)


def columns_possible(layer: QLayer) -> int:
    """The kernel columns a layer's engine can update per cycle: its kernel width for a spiking conv
    with horizontal stride 1 and a kernel wider than 1 (membranes banked by column), else 1 (also a
    multi-input sum engine: one column per cycle)."""
    if layer.kind != "conv" or layer.role == ROLE_OUTPUT or int(layer.stride[1]) != 1:
        return 1
    return int(layer.kernel[1])


def par_spec(lanes: int, cols: int) -> str:
    """One engine's parallelism in -P syntax: '32' or '32x3' (32 lanes, 3 kernel columns)."""
    return f"{lanes}x{cols}" if cols > 1 else str(lanes)


def resolve_parallelism(qnet: QNetwork, parallelism) -> tuple:
    """``parallelism`` (an int P, or a dict {layer name or index: lanes} with an optional ``'default'``
    (or ``'*'``) entry for the other layers, default 1) -> (P, default, {layer index: requested lanes}, spec).

    A request is ``lanes`` or ``(lanes, columns)`` (-P ``32x3``): columns > 1 updates that many kernel
    columns per cycle; as the default it applies to the layers whose kernel is that wide
    (:func:`columns_possible`), for a named layer it must be its kernel width. ``default`` and the
    per-layer values are (lanes, columns).
    P is the largest request (uniform P: P itself); an engine gets min(request, C_out) lanes (a grouped
    convolution: the largest divisor of its outputs per group up to the request).
    Names are matched first, then integer indices (ints or digit strings); a name that is not a
    conv, dense or average-pooling layer is an OptionError listing those layers.
    """
    if not isinstance(parallelism, dict):
        P, cols = _check_lanes(parallelism, "parallelism")
        return P, (P, cols), {}, par_spec(P, cols)
    named = lane_layers(qnet)
    by_name = {n: i for i, n in named.items()}
    all_names = {layer.name: i for i, layer in enumerate(qnet.layers)}
    default, per_layer = (1, 1), {}
    listing = ", ".join(f"{i}: {n}" for i, n in named.items())
    for key, value in parallelism.items():
        if key in ("default", "*", None):
            default = _check_lanes(value, "the default parallelism")
            continue
        if isinstance(key, str) and key in by_name:
            i = by_name[key]
        elif isinstance(key, str) and key in all_names:
            raise OptionError(f"parallelism: layer {key!r} is a {qnet.layers[all_names[key]].kind} layer and has "
                              f"no lanes; layers with lanes: {listing}")
        elif (isinstance(key, (int, np.integer)) and not isinstance(key, bool)) or (
                isinstance(key, str) and key.strip().isdigit()):
            i = int(key)
            if i not in named:
                what = (f"is a {qnet.layers[i].kind} layer and has no lanes" if 0 <= i < len(qnet.layers)
                        else "does not exist")
                raise OptionError(f"parallelism: layer index {i} {what}; layers with lanes: {listing}")
        else:
            raise OptionError(f"parallelism: no layer named {key!r}; layers with lanes: {listing}")
        if i in per_layer:
            raise OptionError(f"parallelism: layer {named[i]} is given twice")
        per_layer[i] = _check_lanes(value, f"parallelism of layer {named[i]}")
        cols, possible = per_layer[i][1], columns_possible(qnet.layers[i])
        if cols > 1 and cols != possible:
            layer = qnet.layers[i]
            why = (f"its kernel is {layer.kernel[1]} wide" if possible > 1 else
                   "a multi-input (sum) engine updates one kernel column per cycle" if layer.kind == "sum" else
                   "only a spiking conv layer with horizontal stride 1 has kernel columns in parallel")
            raise OptionError(f"parallelism: layer {named[i]}: {cols} kernel columns per cycle is not possible: "
                              f"{why}")
    P = max([default[0]] + [v[0] for v in per_layer.values()])
    spec = ",".join([par_spec(*default)] + [f"{named[i]}={par_spec(*v)}" for i, v in sorted(per_layer.items())])
    return P, default, per_layer, spec


def _lane_words(values: np.ndarray, groups: int, lanes: int) -> np.ndarray:
    """(rows, C) -> (rows, groups, lanes) with zero padding of the last group."""
    rows, c = values.shape
    out = np.zeros((rows, groups * lanes), dtype=np.int64)
    out[:, :c] = values
    return out.reshape(rows, groups, lanes)


def plan_design(qnet: QNetwork, parallelism: int = 1, timesteps: int = 16, source_note: str = "",
                weight_bank_words: int = WEIGHT_BANK_WORDS) -> DesignPlan:
    if not isinstance(weight_bank_words, (int, np.integer)) or weight_bank_words < 2 or (
            weight_bank_words & (weight_bank_words - 1)):
        raise OptionError(f"weight_bank_words must be a power of two >= 2, got {weight_bank_words!r}")
    check_mappable(qnet)
    P, default, per_layer, spec = resolve_parallelism(qnet, parallelism)
    T_MAX = int(qnet.max_timesteps)
    if T_MAX < 1:
        raise FitError(f"max_timesteps must be at least 1, got {T_MAX}")
    if not 1 <= int(timesteps) <= T_MAX:
        raise OptionError(f"timesteps must be in 1..{T_MAX} (the network's max_timesteps), got {timesteps}")
    layers = qnet.layers
    if not layers:
        raise FitError("the network has no layers")
    if len(qnet.input_shape) != 3:
        raise FitError(f"input shape {qnet.input_shape} is not (C, H, W)")
    first = layers[0]
    if first.kind not in ("conv", "dense") or not first.analog_input:
        raise FitError(f"layer {first.name}: the first layer must be an analog-input conv or dense layer")
    if first.role == ROLE_OUTPUT:
        raise FitError(f"layer {first.name}: a network whose first layer is its output layer is not mappable "
                       f"(needs at least one spiking layer)")
    last = layers[-1]
    if last.kind not in ("conv", "dense", "sum") or last.role != ROLE_OUTPUT:
        raise FitError(f"layer {last.name}: the last layer must be the conv/dense output layer")
    for layer in layers[1:-1]:
        if layer.role == ROLE_OUTPUT:
            raise FitError(f"layer {layer.name}: only the last layer may be an output layer")
        if layer.kind not in ("conv", "dense", "avgpool", "maxpool", "flatten", "sum"):
            raise FitError(f"layer {layer.name}: kind {layer.kind!r} has no hardware block")
        if layer.analog_input:
            raise FitError(f"layer {layer.name}: only the first layer can take analog input")

    STW = ubits(T_MAX)
    half = qnet.v_init == "half"
    reset_sub = qnet.reset == "subtract"
    blocks = []
    srcs = source_indices(layers)
    # layer index -> (the stream its output travels on, the block that emits it); -1: the pixels
    outputs = {-1: (Stream(tuple(qnet.input_shape)), -1)}

    def flattened(j: int, name: str, base: dict) -> tuple:
        """Layer j's output as a vector stream: a flatten block (address re-mapping) for a map."""
        stream, pos = outputs[j]
        if not stream.is3d:
            return stream, pos
        blocks.append(_flatten_block(base["index"], name, stream, base))
        blocks[-1].inputs = [pos]
        return Stream((int(np.prod(stream.shape)),)), len(blocks) - 1

    for i, layer in enumerate(layers):
        base = dict(index=i, name=layer.name, kind=layer.kind, in_shape=tuple(layer.in_shape),
                    out_shape=tuple(layer.out_shape), STW=STW, T_MAX=T_MAX)
        out = Stream(tuple(layer.out_shape)) if len(layer.out_shape) == 3 else Stream((layer.n_out,))
        if layer.kind == "sum":
            ins = []
            for j, syn in zip(srcs[i], layer.synapses):
                if j < 0:
                    raise FitError(f"layer {layer.name}: a synapse input reads the pixels (only the first layer "
                                   "can take analog input)")
                src_shape = tuple(layers[j].out_shape)
                if tuple(syn.in_shape) != src_shape and int(np.prod(syn.in_shape)) != int(np.prod(src_shape)):
                    raise FitError(f"layer {layer.name}: synapse input from {layers[j].name} expects "
                                   f"{syn.in_shape}, which does not follow {src_shape}")
                if syn.kind == "dense":
                    ins.append(flattened(j, f"{layer.name} (implicit flatten of {layers[j].name})",
                                         dict(base, kind="flatten", in_shape=src_shape,
                                              out_shape=(int(np.prod(src_shape)),))))
                else:
                    if not outputs[j][0].is3d:
                        raise FitError(f"layer {layer.name}: a convolution synapse input needs a (C, H, W) "
                                       f"input, got {layers[j].name}'s {src_shape}")
                    ins.append(outputs[j])
            lanes, _ = per_layer.get(i, default)
            blk = _neuron_block(layer, [st for st, _ in ins], base, lanes, 1, half, reset_sub, qnet,
                                int(weight_bank_words))
            blk.inputs = [pos for _, pos in ins]
            blocks.append(blk)
            outputs[i] = (out, len(blocks) - 1)
            continue
        j = srcs[i][0]
        if j < 0 and i > 0:
            raise FitError(f"layer {layer.name}: only the first layer can read the pixels")
        stream, pos = outputs[j]
        src_shape = tuple(qnet.input_shape) if j < 0 else tuple(layers[j].out_shape)
        if tuple(layer.in_shape) != src_shape and int(np.prod(layer.in_shape)) != int(np.prod(src_shape)):
            raise FitError(f"layer {layer.name}: input shape {layer.in_shape} does not follow {src_shape}")
        if layer.kind == "flatten":
            if not stream.is3d:
                outputs[i] = outputs[j]  # already flat: nothing to do
                continue
            outputs[i] = flattened(j, layer.name, base)
            continue
        if layer.kind in ("conv", "avgpool", "maxpool") and not stream.is3d:
            raise FitError(f"layer {layer.name}: a {layer.kind} layer needs a (C, H, W) input, got {layer.in_shape}")
        if layer.kind == "dense" and stream.is3d and i > 0:
            # canonical networks flatten explicitly; map an implicit flatten too
            stream, pos = flattened(j, layer.name + "_flatten", dict(
                base, name=layer.name + " (implicit flatten)", kind="flatten", out_shape=(int(np.prod(stream.shape)),)))
        if layer.kind == "maxpool":
            blk = _maxpool_block(layer, stream, base)
        else:
            lanes, cols = per_layer.get(i, default)
            if i not in per_layer and cols != columns_possible(layer):
                cols = 1  # a default of kernel columns applies where the kernel is that wide
            blk = _neuron_block(layer, stream, base, lanes, cols, half, reset_sub, qnet, int(weight_bank_words))
        blk.inputs = [pos]
        blocks.append(blk)
        outputs[i] = (out, len(blocks) - 1)

    _deep_links(blocks)
    out_block = blocks[-1]
    oc = out_block.ctx
    K = int(np.prod(last.out_shape))
    IW = ubits(K - 1)
    OW = max(8, -(-max(oc["MB"], IW) // 8) * 8)
    out_block.ctx.update(K=K)

    total_bits = sum(m["depth"] * m["width"] for b in blocks for m in b.memories)
    if total_bits > MAX_TOTAL_MEMORY_BITS:
        raise FitError(f"the design needs {total_bits} memory bits (> {MAX_TOTAL_MEMORY_BITS})")
    for b in blocks:
        for m in b.memories:
            if m["depth"] > (1 << MAX_ADDR_BITS):
                raise FitError(f"layer {b.ctx['name']}: memory {m['name']} needs {m['depth']} words "
                               f"(> 2^{MAX_ADDR_BITS})")
            if m["width"] > MAX_WORD_BITS:
                raise FitError(f"layer {b.ctx['name']}: memory {m['name']} words are {m['width']} bits wide "
                               f"(> {MAX_WORD_BITS}); use a smaller parallelism")
    engines = [b for b in blocks if b.kind in ("analog", "neuron", "output")]
    return DesignPlan(blocks=blocks, top={}, parallelism=P, timesteps=int(timesteps), T_MAX=T_MAX, STW=STW, OW=OW,
                      out_block=out_block, lanes={b.layer_index: b.ctx["P"] for b in engines},
                      parallelism_spec=spec, columns={b.layer_index: b.ctx["COLS"] for b in engines})


def _cycles_per_event(c: dict) -> int:
    """Scatter iterations of one input event: kernel rows x columns (one with columns in parallel) x groups."""
    return c.get("MH", 1) * (1 if c.get("COLS", 1) > 1 else c.get("MW", 1)) * c["G"]


def _deep_links(blocks: list) -> None:
    """Give a deep input link (LINK_FIFO_DEPTH words, block RAM: memory ``input_fifo`` of the reader) to every
    single-input event-driven engine with more than one cycle per event whose events come from another
    event-driven engine, directly or through max-pool gates, over a stream that can carry more events per
    step than eight 32-word FIFOs (one per input neuron: a dense layer's hundred spikes fit the small FIFO
    and the sweep's tail). Layer 0's spikes keep the 32-word FIFO: queued there, they would only be dropped
    one per cycle when an image exits."""
    def fed_by_engine(pos: int) -> bool:
        while pos >= 0 and blocks[pos].kind == "maxpool":
            pos = blocks[pos].inputs[0]
        return pos >= 0 and blocks[pos].kind == "neuron"

    for b in blocks:
        c = b.ctx
        if (b.kind in ("neuron", "output") and len(b.inputs) == 1 and c["kind"] != "sum"
                and _cycles_per_event(c) > 1 and int(np.prod(c["in_shape"])) > 8 * FIFO_DEPTH
                and fed_by_engine(b.inputs[0])):
            c["INPUT_FIFO"] = f"u_l{c['index']}_input_fifo"
            b.memories.append(dict(name="input_fifo", kind="ram", depth=LINK_FIFO_DEPTH, width=c["TIN"],
                                   style="block", instance=c["INPUT_FIFO"] + ".u_ram"))


def _stream_ctx(prefix: str, s: Stream) -> dict:
    if s.is3d:
        cw, yw, xw = s.fields
        return {f"{prefix}CW": cw, f"{prefix}YW": yw, f"{prefix}XW": xw}
    return {f"{prefix}CW": s.fields[0], f"{prefix}YW": 1, f"{prefix}XW": 1}


def _flatten_block(i, name, stream: Stream, base: dict) -> Block:
    c, h, w = stream.shape
    out = Stream((c * h * w,))
    ctx = dict(base, name=name, H_IN=h, W_IN=w, TIN=stream.width, TOUT=out.width, ONW=out.fields[0],
               **_stream_ctx("I", stream))
    return Block("flatten", i, ctx)


def _maxpool_block(layer: QLayer, stream: Stream, base: dict) -> Block:
    g = _geometry(layer)
    _check_geometry(layer, g)
    out = Stream(tuple(layer.out_shape))
    n_in = g["C_IN"] * g["H_IN"] * g["W_IN"]
    n_win = g["C_OUT"] * g["H_OUT"] * g["W_OUT"]
    cntw = ubits(base["T_MAX"])
    pw = ubits(g["KH"] * g["KW"] - 1)  # a window position (the argmax's tie-break)
    winw = cntw + pw + base["STW"]  # a window word {max, arg, stamp}
    cnt_aw, win_aw = block_bank_aw(cntw), block_bank_aw(winw)
    cnt_bank = cnt_aw if n_in > 2 ** cnt_aw else 0
    win_bank = win_aw if n_win > 2 ** win_aw else 0
    # the per-image clear writes every bank at once: one bank depth, or the whole RAM when it is not banked
    n_clr = max(2 ** cnt_bank if cnt_bank else n_in, 2 ** win_bank if win_bank else n_win)
    ctx = dict(base, **g, **_scatter_widths(g), N_IN=n_in, N_WIN=n_win, N_CLR=n_clr, CNTW=cntw, PW=pw,
               TIN=stream.width, TOUT=out.width,
               **_stream_ctx("I", stream), **{k.replace("I", "O", 1): v for k, v in _stream_ctx("I", out).items()})
    ctx.update(OCW=out.fields[0], OYW=out.fields[1], OXW=out.fields[2], CNT_BANK_AW=cnt_bank, WIN_BANK_AW=win_bank)
    mems = [dict(name="counters", kind="ram", depth=n_in, width=cntw, style="block"),
            dict(name="windows", kind="ram", depth=n_win, width=winw, style="block")]
    return Block("maxpool", layer_index=base["index"], ctx=ctx, memories=mems)


def _syn_geometry(layer: QLayer, syn, k: int) -> dict:
    """Geometry of synapse input ``k`` of a sum layer (a dense synapse: a 1x1 convolution of a 1x1 map)."""
    out = tuple(layer.out_shape) if len(layer.out_shape) == 3 else (layer.n_out, 1, 1)
    if syn.kind == "dense":
        g = dict(C_IN=int(np.prod(syn.in_shape)), H_IN=1, W_IN=1, KH=1, KW=1, SH=1, SW=1, PT=0, PL=0)
    else:
        if len(syn.in_shape) != 3 or len(layer.out_shape) != 3:
            raise FitError(f"layer {layer.name}: synapse input {k} ({syn.source}) is a convolution of "
                           f"{syn.in_shape} into {layer.out_shape}, not of maps")
        c, h, w = syn.in_shape
        kh, kw = syn.kernel
        g = dict(C_IN=c, H_IN=h, W_IN=w, KH=kh, KW=kw, SH=syn.stride[0], SW=syn.stride[1], PT=syn.pads[0],
                 PL=syn.pads[1])
        for name in ("KH", "KW", "SH", "SW"):
            if g[name] < 1:
                raise FitError(f"layer {layer.name}: synapse input {k} ({syn.source}): {name} = {g[name]} is not "
                               "mappable")
        if min(syn.pads) < 0:
            raise FitError(f"layer {layer.name}: synapse input {k} ({syn.source}): negative padding {syn.pads}")
        ho = (h + syn.pads[0] + syn.pads[2] - kh) // syn.stride[0] + 1
        wo = (w + syn.pads[1] + syn.pads[3] - kw) // syn.stride[1] + 1
        if (ho, wo) != out[1:]:
            raise FitError(f"layer {layer.name}: synapse input {k} ({syn.source}) gives {ho}x{wo} outputs, the "
                           f"layer has {out[1]}x{out[2]}")
    g.update(C_OUT=out[0], H_OUT=out[1], W_OUT=out[2])
    return g


def synapse_groups(group: int, c_out: int, lanes: int) -> int:
    """The convolution groups a sum engine's synapse input of ``group`` groups is built with: the largest
    divisor d of ``group`` whose C_out / d outputs per group ``lanes`` divides (1: no groups), its weights
    block-diagonal with zeros (an identity shortcut, depthwise with weight 1, then takes one channel
    group word per event: its own channel's weight 1, zeros beside it)."""
    for d in range(int(group), 0, -1):
        if group % d == 0 and (d == 1 or (c_out // d) % lanes == 0):
            return d
    return 1


def regroup(weight: np.ndarray, group: int, d: int) -> np.ndarray:
    """Convolution weights (O, I/group, kh, kw) as the same convolution with ``d`` groups (``d`` divides
    ``group``): (O, I/d, kh, kw), zero where an output does not read an input channel."""
    o, ig, kh, kw = weight.shape
    cin = ig * group
    out = np.zeros((o, cin // d, kh, kw), dtype=weight.dtype)
    for oc in range(o):
        first = (oc // (o // group)) * ig - (oc // (o // d)) * (cin // d)  # the group's first input, d-local
        out[oc, first:first + ig] = weight[oc]
    return out


def _sum_weights(layer: QLayer, geoms: list, G: int, P: int) -> tuple:
    """The weight words of every synapse input, one after another, and per input (groups, first word)."""
    words, info, base = [], [], 0
    C_OUT = geoms[0]["C_OUT"]
    for syn, g in zip(layer.synapses, geoms):
        weight = np.asarray(syn.weight, dtype=np.int64)
        if syn.kind == "conv":
            d = synapse_groups(int(syn.group), C_OUT, P)
            w = regroup(weight, int(syn.group), d) if d != syn.group else weight
            cin_g, cout_g = g["C_IN"] // d, C_OUT // d
            w = w.reshape(d, cout_g, cin_g, *w.shape[2:])
            wt = w.transpose(0, 2, 3, 4, 1).reshape(-1, cout_g)
        else:
            d, wt = 1, weight.T
        part = _lane_words(wt, G // d, P).reshape(-1, P)
        words.append(part)
        info.append(dict(GROUPS=d, WBASE=base, WDEPTH=int(part.shape[0])))
        base += int(part.shape[0])
    return np.concatenate(words), info


def _neuron_block(layer: QLayer, stream, base: dict, P_req: int, cols: int, half: bool, reset_sub: bool,
                  qnet: QNetwork, bank_words: int) -> Block:
    """A neuron engine; ``stream``: the input stream, for a sum layer one per synapse input."""
    if layer.kind == "sum":
        streams = list(stream)
        geoms = [_syn_geometry(layer, syn, k) for k, syn in enumerate(layer.synapses)]
        g = dict(geoms[0])  # the engine's scalar geometry: input 0's (unused by a multi-input engine)
        # a common token layout {c, y, x} for every input (a vector's index in c)
        in_fields = [st.fields if st.is3d else (st.fields[0], 1, 1) for st in streams]
        stream = Stream((2 ** max(f[0] for f in in_fields), 2 ** max(f[1] for f in in_fields),
                         2 ** max(f[2] for f in in_fields)))
        blk = _neuron_block_common(layer, stream, base, P_req, 1, half, reset_sub, qnet, bank_words, g, geoms)
        for sc, st in zip(blk.ctx["syn"], streams):  # the source's token fields (is_map, c, y, x)
            sc["in_fields"] = (True, *st.fields) if st.is3d else (False, st.fields[0], 0, 0)
        return blk
    return _neuron_block_common(layer, stream, base, P_req, cols, half, reset_sub, qnet, bank_words,
                                _geometry(layer), None)


def _neuron_block_common(layer: QLayer, stream: Stream, base: dict, P_req: int, cols: int, half: bool,
                         reset_sub: bool, qnet: QNetwork, bank_words: int, g: dict, geoms) -> Block:
    if layer.analog_input and layer.kind == "dense":
        g.update(C_IN=int(np.prod(qnet.input_shape)))
    if layer.analog_input and layer.kind == "conv":
        if tuple(layer.in_shape) != tuple(qnet.input_shape):
            raise FitError(f"layer {layer.name}: input shape {layer.in_shape} is not the image shape "
                           f"{qnet.input_shape}")
    if geoms is None:
        _check_geometry(layer, g)
    if layer.kind == "avgpool" and g["C_IN"] != g["C_OUT"]:
        raise FitError(f"layer {layer.name}: average pooling must keep the channel count")
    P = _lanes(layer, P_req)
    C_OUT = g["C_OUT"]
    G = -(-C_OUT // P)
    HW = g["H_OUT"] * g["W_OUT"]
    vdepth = G * g["H_OUT"] * -(-g["W_OUT"] // cols)  # per column bank
    spiking = layer.role == ROLE_SPIKING
    MB = int(layer.mem_bits)
    if MB < 2:
        raise FitError(f"layer {layer.name}: mem_bits = {MB} is not a valid membrane width")
    bias = np.asarray(layer.bias, dtype=np.int64)
    BB = max(2, signed_bits(int(bias.min()), int(bias.max())))
    theta = np.asarray(layer.threshold, dtype=np.int64) if spiking else np.ones(C_OUT, np.int64)
    if spiking and theta.min() < 1:
        raise FitError(f"layer {layer.name}: thresholds must be positive")
    TB = max(2, int(theta.max()).bit_length())
    if layer.kind == "avgpool":
        WB = 2
        weight = None
    elif layer.kind == "sum":
        weight = None
        lo = min(int(syn.weight.min()) for syn in layer.synapses)
        hi = max(int(syn.weight.max()) for syn in layer.synapses)
        WB = max(2, int(layer.weight_bits) or signed_bits(lo, hi))
        if lo < -(1 << (WB - 1)) or hi >= (1 << (WB - 1)):
            raise FitError(f"layer {layer.name}: weights do not fit {WB} signed bits")
    else:
        weight = np.asarray(layer.weight, dtype=np.int64)
        WB = max(2, int(layer.weight_bits) or signed_bits(int(weight.min()), int(weight.max())))
        if weight.min() < -(1 << (WB - 1)) or weight.max() >= (1 << (WB - 1)):
            raise FitError(f"layer {layer.name}: weights do not fit {WB} signed bits")
    IB = 0
    if layer.analog_input:
        w2 = weight.reshape(weight.shape[0], -1)
        pos = np.clip(w2, 0, None).sum(axis=1) * 255
        neg = np.clip(-w2, 0, None).sum(axis=1) * 255
        IB = signed_bits(min(0, int((bias - neg).min())), max(0, int((bias + pos).max())))
    calc_bits = max(MB, BB, IB, TB + 1) + 2  # the fire arithmetic's width (snn_neuron_lane CALC_BITS)
    if spiking:
        if not (layer.vmin < 0 < layer.vmax) or signed_bits(layer.vmin, layer.vmax) > MB:
            raise FitError(f"layer {layer.name}: clamp range [{layer.vmin}, {layer.vmax}] does not fit {MB} bits")
        if half and int((theta >> 1).max()).bit_length() + 1 > MB:
            raise FitError(f"layer {layer.name}: θ/2 does not fit the membrane")
    if calc_bits > 64:
        raise FitError(f"layer {layer.name}: membrane of {max(MB, IB)} bits is too wide (the fire arithmetic "
                       f"needs {calc_bits} bits, max 64)")

    out = Stream(tuple(layer.out_shape)) if len(layer.out_shape) == 3 else Stream((layer.n_out,))
    in_ctx = _stream_ctx("I", stream)
    if layer.analog_input:
        if layer.kind == "dense":
            in_ctx = dict(ICW=ubits(g["C_IN"] - 1), IYW=1, IXW=1)
        else:
            in_ctx = dict(ICW=ubits(g["C_IN"] - 1), IYW=ubits(g["H_IN"] - 1), IXW=ubits(g["W_IN"] - 1))
    out_ctx = _stream_ctx("O", out)
    if not out.is3d:
        out_ctx.update(OYW=1, OXW=1)
    i = base["index"]
    files = dict(weight_file=f"mem/l{i}_weight.hex", bias_file=f"mem/l{i}_bias.hex", theta_file=f"mem/l{i}_theta.hex")
    WDEPTH = 0
    syn_ctx = []
    if geoms is not None:
        words, info = _sum_weights(layer, geoms, G, P)
        WDEPTH = int(words.shape[0])
        for k, (sg, si) in enumerate(zip(geoms, info)):
            syn_ctx.append(dict(sg, **_scatter_widths(sg), **si, source=layer.synapses[k].source,
                                group=int(layer.synapses[k].group)))
    elif weight is not None:
        conv_groups = int(layer.group) if layer.kind == "conv" else 1
        G_ev = G // conv_groups  # the channel groups one input channel reaches
        if layer.kind == "conv":
            # address ((ci*KH + ky)*KW + kx)*G_ev + og' ; lane p = output channel og*P + p, og' = og - og0, og0
            # the first channel group of ci's convolution group (G_ev = G without groups)
            cin_g, cout_g = g["C_IN"] // conv_groups, C_OUT // conv_groups
            w = weight.reshape(conv_groups, cout_g, cin_g, *weight.shape[2:])  # (group, o', ci', ky, kx)
            wt = w.transpose(0, 2, 3, 4, 1).reshape(-1, cout_g)  # (ci, ky, kx) rows, the group's outputs
        else:
            wt = weight.T  # (I, O)
        words = _lane_words(wt, G_ev, P).reshape(-1, P)
        if cols > 1:
            # address (ci*KH + ky)*G_ev + og'; the word holds the KW kernel columns, column kx in lanes kx*P + p
            KW = g["KW"]
            words = words.reshape(-1, KW, G_ev, P).transpose(0, 2, 1, 3).reshape(-1, KW * P)
        WDEPTH = words.shape[0]
    else:
        words = None
    n_syn = len(syn_ctx) or 1
    src_w = ubits(n_syn - 1)
    ctx = dict(base, **g, **_scatter_widths(g), **in_ctx, **out_ctx, role=layer.role, analog=layer.analog_input,
               in3d=stream.is3d and not layer.analog_input, out3d=out.is3d, P=P, G=G, VDEPTH=vdepth,
               VAW=ubits(vdepth - 1), GW=ubits(G - 1), PSW=ubits(HW - 1), WB=WB, MB=MB, BB=BB, TB=TB, IB=IB, COLS=cols,
               CONV_GROUPS=int(layer.group) if layer.kind == "conv" else 1,
               VMIN=int(layer.vmin), VMAX=int(layer.vmax), half=half and spiking, reset_sub=reset_sub,
               TIN=(stream.width + (src_w if syn_ctx else 0)) if not layer.analog_input else 10, TOUT=out.width,
               N_SYN=n_syn, SRC_W=src_w, syn=syn_ctx, **files)
    hexes = {}
    vstyle = ram_style(vdepth, P * max(MB, IB))
    ctx["VBLOCK"] = MEM_BLOCK_PARAM[vstyle]
    mems = []
    for b in range(cols):  # one membrane (and current) RAM per column bank
        suffix = f"_c{b}" if cols > 1 else ""
        mems.append(dict(name="membrane" + suffix, kind="ram", depth=vdepth, width=P * MB, style=vstyle))
        if layer.analog_input:
            mems.append(dict(name="current" + suffix, kind="ram", depth=vdepth, width=P * IB, style=vstyle))
    ctx["weight_banks"] = []
    ctx["WBLOCK"] = 1
    if words is not None:
        # a ROM no deeper than LOGIC_ROM_MAX_DEPTH is built in logic (a few LUTs per bit) rather than in
        # block RAMs it would fill a few rows of (512-deep at 36 bits): the wide words of kernel columns
        style = "block" if WDEPTH * cols * P * WB >= 2048 and WDEPTH > LOGIC_ROM_MAX_DEPTH else "distributed"
        ctx["WBLOCK"] = int(style == "block")
        if WDEPTH > bank_words and not layer.analog_input:
            banks = _weight_banks(words, files["weight_file"], bank_words)
            for b in banks:
                hexes[b["file"]] = (b.pop("words"), WB)
            ctx.update(weight_banks=banks)
            mems.append(dict(name="weights", kind="rom", depth=WDEPTH, width=cols * P * WB, style=style,
                             files=[b["file"] for b in banks], banks=len(banks)))
        else:
            hexes[files["weight_file"]] = (words, WB)
            mems.append(dict(name="weights", kind="rom", depth=WDEPTH, width=cols * P * WB,
                             file=files["weight_file"], style=style))
    hexes[files["bias_file"]] = (_lane_words(bias[None, :], G, P).reshape(-1, P), BB)
    mems.append(dict(name="bias", kind="rom", depth=G, width=P * BB, file=files["bias_file"],
                     style="block" if G * P * BB >= 2048 else "distributed"))
    if spiking:
        hexes[files["theta_file"]] = (_lane_words(theta[None, :], G, P).reshape(-1, P), TB)
        mems.append(dict(name="theta", kind="rom", depth=G, width=P * TB, file=files["theta_file"],
                         style="block" if G * P * TB >= 2048 else "distributed"))
    kind = "analog" if layer.analog_input else ("neuron" if spiking else "output")
    return Block(kind, layer_index=i, ctx=ctx, memories=mems, hex_files=hexes)


def _weight_banks(words: np.ndarray, weight_file: str, bank_words: int) -> list:
    """Split a weight ROM into banks of ``bank_words`` words, one $readmemh file each."""
    stem = weight_file.removesuffix(".hex")
    banks = []
    for k, start in enumerate(range(0, words.shape[0], bank_words)):
        chunk = words[start:start + bank_words]
        depth = int(chunk.shape[0])  # the last bank may be shorter
        banks.append(dict(index=k, file=f"{stem}.b{k:02d}.hex", depth=depth, AW=ubits(depth - 1), words=chunk))
    return banks


def hex_lines(words: np.ndarray, lane_bits: int) -> list:
    """$readmemh lines: lane p of a word occupies bits [p*lane_bits +: lane_bits] (two's complement)."""
    lanes = words.shape[1]
    digits = -(-lanes * lane_bits // 4)
    mask = (1 << lane_bits) - 1
    lines = []
    for row in words.tolist():
        v = 0
        for p, x in enumerate(row):
            v |= (int(x) & mask) << (p * lane_bits)
        lines.append(f"{v:0{digits}x}")
    return lines
