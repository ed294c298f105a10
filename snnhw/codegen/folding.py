"""Per-layer parallelism: the ``-P`` syntax and the folding planner (``-P auto --device NAME``).

Every neuron engine (conv, dense, average pooling) has its own lanes
(output channels updated per cycle). The planner chooses them, as FINN's
folding does for a target cycles-per-frame: it minimizes the busiest engine's
busy cycles per image (the cycle model of :mod:`snnhw.codegen.generate`,
evaluated on the golden spikes of the test images, as a function of each
engine's lanes) subject to the device's block RAM, DSP and an estimated LUT
budget.

Resource estimates (per engine, from the memories :func:`plan_design` lays
out at those lanes):

- block RAM: every block memory (every bank of a banked one) in columns of
  the device's primitive geometries, as Yosys packs deep wide memories
  (:func:`bram_mixed`; mnist_paper at P = 8: 204 estimated, 206 DP16KD
  measured; one geometry per memory, ``bram_lower_bound``, says 218).
  ``BRAM_MARGIN`` of the device is kept free for the difference.
- DSP: one multiplier per lane (and kernel column) of the analog input layer.
- LUT: an *estimate*, ``LUT_PER_LANE_BIT`` per lane, kernel column and membrane bit,
  ``LUT_PER_ROM_BIT`` per bit and 16 words of a weight ROM built in logic,
  ``LUT_PER_LUTRAM_BIT`` per bit and 16 words of a RAM in LUT RAM, plus
  ``LUT_PER_BLOCK`` per engine or gate plus ``LUT_TOP``, calibrated on Yosys's
  counts (ECP5, LUT RAM as 6 LUT4 per DPR16X4) of mnist_paper's kernel-column
  plans (docs/hardware.md: /7/Conv at 8x3, 16x3 and 32x3: 41,302, 61,681 and
  70,651 LUT, estimates 41,488, 61,648 and 69,872); smaller designs come out
  above their count (mnist_paper P = 8: 19,904 against 15,871; the bundled
  example P = 16: 15,574 against 9,959). Only ``LUT_BUDGET`` of the device's
  LUTs are planned: on the LFE5U-85F nextpnr routes mnist_paper at 50 % of the
  LUTs in 15 to 30 minutes, at 74 % in 41 to 73 minutes with its Fmax 6 to 10 %
  lower (docs/hardware.md); at 82 % router1 routed arcs seven times slower
  (17 k of 289 k in its first 4 minutes), and at 84 % it still had 185 k of
  299 k to route after 16 minutes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from snnhw.codegen.layout import MAX_PARALLELISM, DesignPlan, columns_possible, lane_layers, plan_design
from snnhw.errors import FitError, OptionError
from snnhw.ir import QNetwork

OBJECTIVE_THROUGHPUT = "min busiest engine cycles/image"
OBJECTIVE_LATENCY = "min busiest engine cycles/image, then the engines' sum (latency: early exit)"
BRAM_MARGIN = 0.04  # of the device's block RAMs, kept free on top of the conservative estimate
LUT_BUDGET = 0.6  # of the device's LUTs (routing and packing)
LUT_PER_LANE_BIT = 11
LUT_PER_BLOCK = 1450
LUT_TOP = 1000
LUT_PER_SOFT_MULT = 70  # a lane's w*x multiplier in logic (devices without DSPs)
LUT_PER_ROM_BIT = 1.5  # a ROM built in logic: per output bit and 16 words (LUT4s and their multiplexers)
LUT_PER_LUTRAM_BIT = 2.5  # a LUT RAM: per bit and 16 words (DPR16X4: 4 bits in 6 LUT4s' slices, and the row multiplexer)


def parse_parallelism(text):
    """The ``-P`` option: ``16`` -> 16; ``16x3`` -> (16, 3) (16 lanes, 3 kernel columns per cycle);
    ``auto`` -> 'auto'; ``8,/3/Conv=32x3,/12/Gemm=4`` (a bare value or ``default=V`` sets the other
    layers; layers by name or index) -> {'default': 8, '/3/Conv': (32, 3), ...}."""
    if isinstance(text, (int, dict, tuple)) and not isinstance(text, bool):
        return text
    s = str(text).strip()
    if s.lower() == "auto":
        return "auto"
    if "=" not in s and "," not in s:
        return _value(s, s)
    out = {}
    for item in (x.strip() for x in s.split(",")):
        if not item:
            continue
        if "=" not in item:
            key, value = "default", item
        else:
            key, value = (x.strip() for x in item.rsplit("=", 1))
        if key in out:
            raise OptionError(f"-P: {key!r} is given twice")
        out[key] = _value(value, item, key)
    if not out:
        raise OptionError(f"-P: empty parallelism {text!r}")
    return out


def _value(value: str, item: str, key: str = "-P"):
    """'32' -> 32, '32x3' -> (32, 3)."""
    lanes, sep, cols = value.lower().partition("x")
    if not lanes.isdigit() or (sep and not cols.isdigit()):
        raise OptionError(f"-P: {item!r} is not LANES or LANESxCOLUMNS (integers); syntax: N, NxC, auto, or "
                          f"[N,]LAYER=N[xC],... with LAYER a layer name or index")
    what = "-P" if key == "-P" else f"-P {key}"
    lanes = _in_range(int(lanes), what)
    cols = _in_range(int(cols), what) if sep else 1
    return (lanes, cols) if cols > 1 else lanes


def _in_range(v: int, what: str) -> int:
    if not 1 <= v <= MAX_PARALLELISM:
        raise OptionError(f"{what}: lanes must be in 1..{MAX_PARALLELISM}, got {v}")
    return v


def find_device(name: str):
    """A device of :mod:`snnhw.synth.devices` by name or alias, whatever its target."""
    from snnhw.synth.devices import DEVICES, TARGETS, get_device

    for target in TARGETS:
        if target == "generic":
            continue
        try:
            return get_device(name, target)
        except OptionError:
            continue
    raise OptionError(f"unknown device {name!r}; known: {', '.join(DEVICES)}")


@dataclass
class EngineCost:
    lanes: int
    G: int
    busy: float
    brams: float
    dsps: int
    luts: int
    memories: list = field(default_factory=list)  # (memory name, block RAMs)
    cols: int = 1  # kernel columns per cycle


@dataclass
class FoldingPlan:
    device: str
    target: str
    lanes: dict  # layer index -> lanes
    rows: list  # per engine: dict(layer, name, engine, lanes, columns, channel_groups, busy_cycles, brams, dsps, luts)
    bottleneck: str
    throughput_cycles_per_image: float
    brams: float
    bram_budget: float
    bram_device: int
    bram_name: str
    dsps: int
    dsp_budget: int
    luts: int
    lut_budget: int
    lut_device: int
    note: str
    columns: dict = field(default_factory=dict)  # layer index -> kernel columns per cycle
    objective: str = OBJECTIVE_THROUGHPUT

    def parallelism(self) -> dict:
        """The plan as a ``-P`` request for :func:`~snnhw.codegen.layout.plan_design`: {layer: (lanes, columns)}."""
        return {i: (n, self.columns.get(i, 1)) for i, n in self.lanes.items()}

    def table(self) -> list:
        """Markdown lines: the plan per engine and the resources against the budget."""
        goal = ("the busiest engine's cycles per image, then (early exit: images do not overlap) the engines' "
                "sum" if self.objective == OBJECTIVE_LATENCY else "the busiest engine's cycles per image")
        lines = [f"Planned for {self.device} ({self.target}): lanes and kernel columns per engine minimize {goal} "
                 f"(cycle model on the test images' golden spikes).", "",
                 "| layer | engine | lanes | kernel columns | channel groups | busy cycles/image | block RAM (est.) "
                 "| DSP | LUT (est.) |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for r in self.rows:
            lanes = "-" if r["lanes"] is None else r["lanes"]
            cols = "-" if r["lanes"] is None else r.get("columns") or 1
            groups = "-" if r["channel_groups"] is None else r["channel_groups"]
            lines.append(f"| {r['name']} | {r['engine']} | {lanes} | {cols} | {groups} | {r['busy_cycles']:.0f} | "
                         f"{r['brams']:g} | {r['dsps']} | {r['luts']} |")
        lines += ["", f"- bottleneck: {self.bottleneck}, ~{self.throughput_cycles_per_image:.0f} cycles/image",
                  f"- block RAM: {self.brams:g} {self.bram_name} estimated (mixed-geometry columns per memory) "
                  f"of {self.bram_device}; planned within {self.bram_budget:g} ({BRAM_MARGIN:.0%} margin)",
                  f"- DSP: {self.dsps} of {self.dsp_budget}",
                  f"- LUT: ~{self.luts} (estimate: {LUT_PER_LANE_BIT}/lane/membrane bit + {LUT_PER_BLOCK}/block "
                  f"+ {LUT_TOP}) of {self.lut_device}; planned within {self.lut_budget}",
                  f"- {self.note}"]
        return lines

    def to_manifest(self):
        from snnhw.codegen.manifest import Plan, PlanRow

        return Plan(device=self.device, target=self.target, objective=self.objective,
                    rows=[PlanRow(**r) for r in self.rows], bottleneck=self.bottleneck,
                    throughput_cycles_per_image=float(self.throughput_cycles_per_image), brams=float(self.brams),
                    bram_budget=float(self.bram_budget), bram_device=int(self.bram_device),
                    bram_name=self.bram_name, bram_margin=BRAM_MARGIN, dsps=int(self.dsps),
                    dsp_budget=int(self.dsp_budget), luts=int(self.luts), lut_budget=int(self.lut_budget),
                    lut_device=int(self.lut_device), note=self.note)


def _candidates(c_out: int, max_lanes: int) -> list:
    """Lanes worth trying: the fewest lanes for each channel-group count ceil(c_out / lanes)."""
    out = set()
    for G in range(1, c_out + 1):
        lanes = -(-c_out // G)
        if lanes <= max_lanes:
            out.add(lanes)
    return sorted(out)


def bram_mixed(depth: int, width: int, target: str) -> float:
    """Block RAM primitives for depth x width when the word is split into columns of different
    geometries (as Yosys packs deep memories: mnist_paper's 25088 x 64 dense ROM at P = 8 is
    36 + 18 + 9 + 1 bit columns = 49 + 25 + 13 + 2 = 89 DP16KD, as measured; one geometry: 98)."""
    from snnhw.synth.devices import check_target

    t = check_target(target)
    shapes = t.bram_shapes
    if not shapes or depth <= 0 or width <= 0:
        return 0.0
    if target == "xilinx7":  # RAMB18 halves
        shapes = tuple((d // 2, w) for d, w in shapes if d >= 1024)
    cost = [0] + [0] * width
    for w in range(1, width + 1):
        cost[w] = min(-(-depth // d) + cost[max(0, w - wk)] for d, wk in shapes)
    return cost[width] * (0.5 if target == "xilinx7" else 1.0)


def _memory_brams(m: dict, ctx: dict, target: str) -> float:
    if m.get("style") != "block":
        return 0.0
    if m.get("banks") and ctx.get("weight_banks"):
        return sum(bram_mixed(b["depth"], m["width"], target) for b in ctx["weight_banks"])
    bank_aw = {"counters": ctx.get("CNT_BANK_AW"), "windows": ctx.get("WIN_BANK_AW")}.get(m["name"], 0)
    if bank_aw:
        full, rest = divmod(m["depth"], 1 << bank_aw)
        return full * bram_mixed(1 << bank_aw, m["width"], target) + bram_mixed(rest, m["width"], target)
    return bram_mixed(m["depth"], m["width"], target)


def _block_cost(blk, target: str, has_dsp: bool) -> tuple:
    mems = [(m["name"], _memory_brams(m, blk.ctx, target)) for m in blk.memories]
    brams = sum(b for _, b in mems)
    c = blk.ctx
    luts = LUT_PER_BLOCK
    dsps = 0
    if blk.kind in ("analog", "neuron", "output"):
        units = c["P"] * c["COLS"]  # lanes of every column bank
        luts += sum(int(LUT_PER_ROM_BIT * m["width"] * -(-m["depth"] // 16)) for m in blk.memories
                    if m["name"] == "weights" and m["style"] != "block" and m["depth"] * m["width"] >= 2048)
        luts += LUT_PER_LANE_BIT * units * max(c["MB"], c.get("IB") or 0)
        luts += sum(int(LUT_PER_LUTRAM_BIT * m["width"] * -(-m["depth"] // 16)) for m in blk.memories
                    if m["style"] == "lutram")
        if blk.kind == "analog":
            if has_dsp:
                dsps = units
            else:
                luts += LUT_PER_SOFT_MULT * units
    return brams, dsps, luts, mems


def plan_folding(qnet: QNetwork, loads: list, device, *, timesteps: int = 16,
                 weight_bank_words: int | None = None, max_lanes: int = MAX_PARALLELISM,
                 latency: bool = False) -> FoldingPlan:
    """Choose every neuron engine's lanes for ``device`` (a :class:`~snnhw.synth.devices.Device` or a name).

    ``loads``: :func:`snnhw.codegen.cycles.engine_loads` of the network (any plan). Raises FitError
    when the network does not fit even with one lane everywhere, naming the largest memory.
    ``latency``: after the busiest engine is minimized, spend what the budget has left on the other
    engines, most cycles saved per block RAM first, to shorten their sum (an image's latency). With early
    exit images do not overlap (layer 0 takes the next image after the exiting one's last step), so an
    image costs about its latency rather than the busiest engine's cycles.
    """
    from snnhw.synth.devices import check_target

    if isinstance(device, str):
        device = find_device(device)
    target = check_target(device.target)
    has_dsp = device.dsps > 0
    kw = {} if weight_bank_words is None else dict(weight_bank_words=weight_bank_words)
    named = lane_layers(qnet)
    by_layer = {ld.layer: ld for ld in loads}
    engines = [i for i in named if i in by_layer]
    cand = {i: _candidates(by_layer[i].c_out, max_lanes) for i in engines}
    values = sorted({v for vs in cand.values() for v in vs})
    costs = {i: {} for i in engines}  # layer -> (lanes, columns) -> EngineCost
    fixed = {}  # blocks without lanes: layer -> (busy, brams, dsps, luts, mems)
    col_options = sorted({1} | {columns_possible(qnet.layers[i]) for i in engines})
    for v in values:
        for cc in col_options:
            try:
                plan = plan_design(qnet, {"default": (v, cc)}, timesteps=timesteps, **kw)
            except FitError:
                continue  # too wide a word at this many lanes
            for blk in plan.blocks:
                i = blk.layer_index
                key = (v, blk.ctx.get("COLS", 1))
                if i in costs and blk.ctx["P"] == v and v in cand[i] and key not in costs[i]:
                    brams, dsps, luts, mems = _block_cost(blk, target.name, has_dsp)
                    ld = by_layer[i]
                    G = blk.ctx["G"]
                    costs[i][key] = EngineCost(v, G, ld.busy(G, key[1]), brams, dsps, luts, mems, key[1])
                elif blk.kind in ("maxpool", "flatten") and (i, blk.kind) not in fixed:
                    brams, dsps, luts, mems = _block_cost(blk, target.name, has_dsp)
                    busy = by_layer[i].fixed if (i in by_layer and blk.kind == "maxpool") else 0.0
                    fixed[(i, blk.kind)] = (busy, brams, dsps, luts, mems)
    bram_budget = float(int(device.brams * (1 - BRAM_MARGIN)))
    lut_budget = int(device.luts * LUT_BUDGET)
    dsp_budget = device.dsps if has_dsp else 10 ** 9
    fixed_brams = sum(f[1] for f in fixed.values())
    fixed_luts = sum(f[3] for f in fixed.values()) + LUT_TOP
    floor = max([f[0] for f in fixed.values()] + [0.0])

    def choose(target_cycles, lut_first=False):
        pick = {}
        for i in engines:
            ok = [ec for ec in costs[i].values() if ec.busy <= target_cycles]
            if not ok:
                return None
            # cheapest in block RAM first (the scarce resource), then LUT, then fewest lanes; or LUT first,
            # when the block-RAM-cheapest options (kernel-column banks in LUT RAM) overrun the LUT budget
            key = (lambda ec: (ec.luts, ec.brams, ec.lanes * ec.cols)) if lut_first else \
                (lambda ec: (ec.brams, ec.luts, ec.lanes * ec.cols))
            pick[i] = min(ok, key=key)
        return pick

    def totals(pick):
        return (fixed_brams + sum(ec.brams for ec in pick.values()), sum(ec.dsps for ec in pick.values()),
                fixed_luts + sum(ec.luts for ec in pick.values()))

    best = None
    for t in sorted({ec.busy for i in engines for ec in costs[i].values()} | {floor}):
        if t < floor:
            continue
        for lut_first in (False, True):
            pick = choose(t, lut_first)
            if pick is None:
                break
            b, d, lu = totals(pick)
            if b <= bram_budget and d <= dsp_budget and lu <= lut_budget:
                best = pick
                break
        if best is not None:
            break
    if best is None:
        pick = {i: costs[i][min(costs[i], key=lambda k: (k[0] * k[1], k))] for i in engines}
        b, d, lu = totals(pick)
        mems = [(f"layer {qnet.layers[i].name} {name}", n) for i, ec in pick.items() for name, n in ec.memories]
        mems += [(f"layer {qnet.layers[i].name} {name}", n) for (i, _), f in fixed.items() for name, n in f[4]]
        big = max(mems, key=lambda m: m[1])
        if b > bram_budget:
            raise FitError(f"does not fit {device.name} even with 1 lane per engine: block RAM needs ~{b:g} "
                           f"{target.bram_name} (budget {bram_budget:g} of {device.brams}); the largest memory, "
                           f"{big[0]}, needs {big[1]:g} alone")
        raise FitError(f"does not fit {device.name} even with 1 lane per engine: DSP {d} of {device.dsps}, "
                       f"LUT ~{lu} (estimate) of {lut_budget} planned")
    if latency:
        best = _shorten_latency(best, costs, totals, bram_budget, dsp_budget, lut_budget)
    b, d, lu = totals(best)
    rows = []
    for ld in loads:
        key = next((k for k in fixed if k[0] == ld.layer and k[1] == "maxpool"), None)
        if ld.layer in best:
            ec = best[ld.layer]
            rows.append(dict(layer=ld.layer, name=ld.name, engine=ld.engine, lanes=ec.lanes, columns=ec.cols,
                             channel_groups=ec.G,
                             busy_cycles=float(ec.busy), brams=float(ec.brams), dsps=int(ec.dsps), luts=int(ec.luts)))
        elif key is not None:
            f = fixed[key]
            rows.append(dict(layer=ld.layer, name=ld.name, engine=ld.engine, lanes=None, columns=None,
                             channel_groups=None,
                             busy_cycles=float(f[0]), brams=float(f[1]), dsps=int(f[2]), luts=int(f[3])))
    bottleneck = max(rows, key=lambda r: r["busy_cycles"])
    note = ("busiest engine = the throughput bound; block RAM and DSP from the memories and lanes, LUT a "
            "calibrated estimate, not a synthesis result")
    if latency:
        note += ("; early exit: the budget left after the busiest engine went to the others, to shorten their "
                 f"sum (latency ~{sum(r['busy_cycles'] for r in rows):.0f} cycles/image)")
    return FoldingPlan(device=device.name, target=target.name, lanes={i: ec.lanes for i, ec in best.items()},
                       columns={i: ec.cols for i, ec in best.items()},
                       rows=rows, bottleneck=bottleneck["name"],
                       throughput_cycles_per_image=float(bottleneck["busy_cycles"]), brams=float(b),
                       bram_budget=bram_budget, bram_device=device.brams, bram_name=target.bram_name, dsps=int(d),
                       dsp_budget=int(device.dsps), luts=int(lu), lut_budget=lut_budget, lut_device=device.luts,
                       note=note, objective=OBJECTIVE_LATENCY if latency else OBJECTIVE_THROUGHPUT)


def _shorten_latency(pick: dict, costs: dict, totals, bram_budget: float, dsp_budget: int, lut_budget: int) -> dict:
    """Upgrade engines one at a time, the most busy cycles saved per added block RAM (then LUT) first,
    while the plan stays within budget; no engine gets slower, so neither does the busiest."""
    pick = dict(pick)
    while True:
        b0, _, lu0 = totals(pick)
        best_move, best_score = None, None
        for i, cur in pick.items():
            for ec in costs[i].values():
                saved = cur.busy - ec.busy
                if saved <= 0:
                    continue
                b, d, lu = totals({**pick, i: ec})
                if b > bram_budget or d > dsp_budget or lu > lut_budget:
                    continue
                score = (saved / (max(b - b0, 0.0) + 1.0), saved / (max(lu - lu0, 0) + 1))
                if best_score is None or score > best_score:
                    best_move, best_score = (i, ec), score
        if best_move is None:
            return pick
        pick[best_move[0]] = best_move[1]


def estimate_resources(plan: DesignPlan, device) -> dict:
    """The planner's estimates for an existing plan (e.g. uniform P): brams, dsps, luts."""
    from snnhw.synth.devices import check_target

    if isinstance(device, str):
        device = find_device(device)
    target = check_target(device.target)
    b = d = 0
    lu = LUT_TOP
    for blk in plan.blocks:
        brams, dsps, luts, _ = _block_cost(blk, target.name, device.dsps > 0)
        b, d, lu = b + brams, d + dsps, lu + luts
    return dict(brams=float(b), dsps=int(d), luts=int(lu))
