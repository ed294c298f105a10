"""cocotb tests of snn_scatter_addr against a cycle-accurate Python model.

Parameters come from ``SNNHW_PARAMS`` (JSON); ``SNNHW_SCATTER_C_IN`` is the
number of event channels the stimulus draws (default 2**CW).

The model enumerates an event's iterations (my, mx, group) in the documented
order; each in-range iteration must carry the header's addresses
  target = og*H_OUT*W_OUT + oy*W_OUT + ox,  weight = ((c*KH + ky)*KW + kx)*GROUPS + og
and its output position; out-of-range ones only need it_in = 0 (the address
registers still step through them, so a wrong step shows on a later in-range
iteration). The model's enumeration is itself checked against a brute-force
scatter (every output the kernel reaches from the event, exactly once).

With COLS = KW > 1 (kernel columns in parallel) the iterations are (my,
group) only and every bank b carries it_col_in / it_col_target / it_col_mx:
  mx_b = (qx - b) mod COLS, ox_b = qx - mx_b,
  target_b = og*H_OUT*WB + oy*WB + ox_b / COLS (WB = ceil(W_OUT / COLS)),
  weight = (c*KH + ky)*GROUPS + og;
with COLS = 1 the bank outputs must repeat it_in and it_target.
"""
import json
import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

P = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
H_IN, W_IN, H_OUT, W_OUT = (int(P.get(k, 1)) for k in ("H_IN", "W_IN", "H_OUT", "W_OUT"))
KH, KW, SH, SW = (int(P.get(k, 1)) for k in ("KH", "KW", "SH", "SW"))
PT, PL = int(P.get("PT", 0)), int(P.get("PL", 0))
GROUPS, DIV, WEIGHTS = int(P.get("GROUPS", 1)), int(P.get("TARGET_CHANNEL_DIV", 0)), int(P.get("WEIGHTS", 1))
CW, GW, TAW, WAW = (int(P.get(k, 1)) for k in ("CW", "GW", "TAW", "WAW"))
OYW, OXW = int(P.get("OYW", 1)), int(P.get("OXW", 1))
COLS, COL_MXW = int(P.get("COLS", 1)), int(P.get("COL_MXW", 1))
WB = -(-W_OUT // COLS)
C_IN = int(os.environ.get("SNNHW_SCATTER_C_IN", 1 << CW))
MH, MW = -(-KH // SH), -(-KW // SW)


def iterations(c, y, x):
    """The event's iterations in the module's order: my, then mx, then the channel group innermost."""
    qy, ky0 = divmod(y + PT, SH)
    qx, kx0 = divmod(x + PL, SW)
    og0 = (c // DIV) * GROUPS if DIV > 0 else 0   # a grouped conv: its convolution group's output groups
    groups = list(range(og0, og0 + GROUPS))
    if COLS > 1:
        return column_iterations(c, y, x, qy, ky0, qx, groups, og0)
    its = []
    for my in range(MH):
        for mx in range(MW):
            for og in groups:
                ky, kx, oy, ox = ky0 + SH * my, kx0 + SW * mx, qy - my, qx - mx
                inr = ky < KH and kx < KW and 0 <= oy < H_OUT and 0 <= ox < W_OUT
                its.append(dict(
                    it_in=int(inr), it_last=0, it_group=og % (1 << GW), ky=ky, kx=kx, og=og, oy=oy, ox=ox,
                    it_target=(og * H_OUT * W_OUT + oy * W_OUT + ox) % (1 << TAW),
                    it_weight=((((c * KH + ky) * KW + kx) * GROUPS + og - og0) % (1 << WAW)) if WEIGHTS else 0,
                    it_oy=oy % (1 << OYW), it_ox=ox % (1 << OXW)))
                its[-1].update(it_col_in=its[-1]["it_in"], it_col_target=its[-1]["it_target"], it_col_mx=0)
    its[-1]["it_last"] = 1
    # the model against a brute-force scatter: output (oy, ox) sees input row oy*SH - PT + ky
    reached = sorted((it["og"], it["oy"], it["ox"], it["ky"], it["kx"]) for it in its if it["it_in"])
    brute = sorted((og, oy, ox, ky, kx) for og in groups for oy in range(H_OUT) for ox in range(W_OUT)
                   for ky in range(KH) for kx in range(KW) if oy * SH - PT + ky == y and ox * SW - PL + kx == x)
    assert reached == brute, f"model error for event {(c, y, x)}: {reached} != {brute}"
    return its


def column_iterations(c, y, x, qy, ky0, qx, groups, og0):
    """COLS > 1: iterations (my, group); the KW columns of a kernel row in the COLS banks at once."""
    banks = []
    for b in range(COLS):
        mx = (qx - b) % COLS
        ox = qx - mx
        banks.append((mx, ox, 0 <= ox < W_OUT))
    its = []
    for my in range(MH):
        for og in groups:
            ky, oy = ky0 + SH * my, qy - my
            row_in = ky < KH and 0 <= oy < H_OUT
            col_in = [int(row_in and ok) for _, _, ok in banks]
            target = og * H_OUT * WB + oy * WB
            its.append(dict(
                it_in=int(any(col_in)), it_last=0, it_group=og % (1 << GW), ky=ky, og=og, oy=oy,
                it_weight=((c * KH + ky) * GROUPS + og - og0) % (1 << WAW), it_oy=oy % (1 << OYW),
                it_col_in=sum(v << b for b, v in enumerate(col_in)),
                it_col_target=sum(((target + ox // COLS) % (1 << TAW)) << (b * TAW) if col_in[b] else 0
                                  for b, (_, ox, _) in enumerate(banks)),
                it_col_target_mask=sum(((1 << TAW) - 1) << (b * TAW) for b in range(COLS) if col_in[b]),
                it_col_mx=sum(mx << (b * COL_MXW) for b, (mx, _, _) in enumerate(banks)),
                outputs=[(og, oy, ox, ky, mx) for b, (mx, ox, _) in enumerate(banks) if col_in[b]]))
    its[-1]["it_last"] = 1
    reached = sorted(o for it in its for o in it["outputs"])
    brute = sorted((og, oy, ox, ky, kx) for og in groups for oy in range(H_OUT) for ox in range(W_OUT)
                   for ky in range(KH) for kx in range(KW) if oy * SH - PT + ky == y and ox * SW - PL + kx == x)
    assert reached == brute, f"model error for event {(c, y, x)}: {reached} != {brute}"
    return its


class ScatterModel:
    def __init__(self):
        self.valid = 0
        self.its = None
        self.idx = 0
        self.event = None

    def current(self):
        return self.its[self.idx] if self.valid else None

    def step(self, rst, start, event, advance):
        if rst:
            self.valid = 0
        elif start:
            self.valid, self.its, self.idx, self.event = 1, iterations(*event), 0, event
        elif self.valid and advance:
            if self.its[self.idx]["it_last"]:
                self.valid = 0
            else:
                self.idx += 1


async def reset(dut):
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.start.value = 0
    dut.advance.value = 0
    dut.ev_c.value = 0
    dut.ev_y.value = 0
    dut.ev_x.value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


def check(dut, model, cycle, stats):
    got_valid = int(dut.it_valid.value)
    assert got_valid == model.valid, f"cycle {cycle}: it_valid {got_valid}, expected {model.valid}"
    it = model.current()
    if it is None:
        return
    where = f"cycle {cycle}, event (c, y, x) = {model.event}, iteration {model.idx}"
    if COLS > 1:
        names = ("it_in", "it_last", "it_group", "it_col_in") + (("it_weight", "it_oy", "it_col_mx") if it["it_in"]
                                                                 else ())
    else:
        names = ("it_in", "it_last", "it_group", "it_col_in", "it_col_mx") + (
            ("it_target", "it_weight", "it_oy", "it_ox", "it_col_target") if it["it_in"] else ())
    for name in names:
        got = int(getattr(dut, name).value)
        assert got == it[name], f"{where}: {name} {got}, expected {it[name]} (model {it})"
    if COLS > 1 and it["it_in"]:  # the targets of the banks in range
        got = int(dut.it_col_target.value) & it["it_col_target_mask"]
        assert got == it["it_col_target"], f"{where}: it_col_target {got:#x}, expected {it['it_col_target']:#x}"
    stats["in_range" if it["it_in"] else "out_of_range"] += 1


@cocotb.test()
async def random_events(dut):
    """Random events; advance low for random runs (the iteration holds); the next event mostly started in the
    cycle of the last iteration (back to back), sometimes after a gap, rarely over a running event (start has
    priority) or with a reset."""
    await reset(dut)
    rng = random.Random(int(os.environ.get("SNNHW_SEED", "11")))
    model = ScatterModel()
    stats = dict(events=0, back_to_back=0, held=0, preempt=0, in_range=0, out_of_range=0, last=0)
    hold = 0
    cycles = 4000
    for cycle in range(cycles):
        if hold:
            advance, hold = 0, hold - 1
        elif rng.random() < 0.08:
            advance, hold = 0, rng.randrange(4)
        else:
            advance = int(rng.random() < 0.85)
        it = model.current()
        at_last = it is not None and it["it_last"]
        if it is None:
            start = int(rng.random() < 0.5)
        elif at_last and advance:
            start = int(rng.random() < 0.8)
        else:
            start = int(rng.random() < 0.01)
        rst = int(rng.random() < 0.002)
        event = (rng.randrange(C_IN), rng.randrange(H_IN), rng.randrange(W_IN))
        if not start:   # ignored: random values
            event = (rng.randrange(1 << CW), rng.randrange(H_IN), rng.randrange(W_IN))
        dut.rst.value = rst
        dut.start.value = start
        dut.advance.value = advance
        dut.ev_c.value, dut.ev_y.value, dut.ev_x.value = event
        await ReadOnly()
        if not rst:
            check(dut, model, cycle, stats)
        if not rst and it is not None:
            stats["held"] += int(not advance and not start)
            stats["last"] += int(at_last and advance)
            stats["back_to_back"] += int(start and at_last and advance)
            stats["preempt"] += int(start and not (at_last and advance))
        stats["events"] += int(start and not rst)
        model.step(rst, start, event, advance)
        await FallingEdge(dut.clk)
    dut._log.info(f"scatter stats: {stats}")
    assert stats["events"] >= 60 and stats["back_to_back"] >= 20 and stats["held"] >= 50, stats
    assert stats["in_range"] >= 200, stats


@cocotb.test()
async def every_position(dut):
    """Every (y, x) of the input map once, for the first and the last channel, back to back with advance high."""
    await reset(dut)
    model = ScatterModel()
    stats = dict(in_range=0, out_of_range=0)
    events = [(c, y, x) for c in sorted({0, C_IN - 1}) for y in range(H_IN) for x in range(W_IN)]
    cycle = 0
    while events or model.valid:
        it = model.current()
        start = int(bool(events) and (it is None or it["it_last"]))
        event = events.pop(0) if start else (0, 0, 0)
        dut.start.value = start
        dut.advance.value = 1
        dut.ev_c.value, dut.ev_y.value, dut.ev_x.value = event
        await ReadOnly()
        check(dut, model, cycle, stats)
        model.step(0, start, event, 1)
        await FallingEdge(dut.clk)
        cycle += 1
    dut.start.value = 0
    await ReadOnly()
    assert int(dut.it_valid.value) == 0
