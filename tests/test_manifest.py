"""The build directory's manifest.json: schema, loader errors, round trip, readers, and the top's ports."""
from __future__ import annotations

import json
import re
import shutil

import pytest

import rtl_nets as R
from snnhw.codegen import generate_design
from snnhw.codegen.manifest import (MANIFEST_FORMAT, MANIFEST_VERSION, TAPS_DEFINE, Manifest, Port, load_manifest,
                                    write_manifest)
from snnhw.errors import ManifestError, SnnhwError


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """A small design with a max-pool gate, 3D and 1D taps and banked weight ROMs."""
    q = R.qnet_of(R.design_conv_maxpool(), bits=8)
    out = tmp_path_factory.mktemp("manifest") / "net"
    d = generate_design(q, out, parallelism=2, timesteps=3, test_images=R.images(q.input_shape, 1),
                        weight_bank_words=8)
    return out, d


def _write(tmp_path, data, text=None):
    d = tmp_path / "b"
    d.mkdir(exist_ok=True)
    (d / "manifest.json").write_text(text if text is not None else json.dumps(data))
    return d


def _raises(build_dir, *needles, field=None):
    with pytest.raises(ManifestError) as e:
        load_manifest(build_dir)
    msg = str(e.value)
    assert str(build_dir / "manifest.json") in msg, msg
    assert e.value.field == field, msg
    if field:
        assert f"field {field}:" in msg, msg
    for n in needles:
        assert n in msg, msg
    return msg


# ---------------------------------------------------------------------------
# loader

def test_round_trip(build, tmp_path):
    out, d = build
    m = load_manifest(out, require=("rtl", "sim_rtl", "mem", "vectors"))
    assert isinstance(m, Manifest) and (m.format, m.version) == (MANIFEST_FORMAT, MANIFEST_VERSION) == (
        "snnhw-design", 5)
    assert m.exit.margin == 0 and m.exit.min_steps == 1 and m.exit.margin_bits == m.interface.potential_bits + 1
    assert m.to_dict() == d == json.loads((out / "manifest.json").read_text())
    p = write_manifest(m, tmp_path)
    assert p == tmp_path / "manifest.json"
    assert load_manifest(tmp_path) == m
    # typed fields
    assert isinstance(m.interface.ports[0], Port) and m.cycle_model.throughput_cycles_per_image > 0
    assert isinstance(m.numeric.input_scale, float) and m.vectors.file == "vectors/test_vectors.npz"
    # optional fields: absent from the JSON where they do not apply
    rows = {row["kind"]: row for row in d["layers"]}
    assert "parallelism" not in rows["flatten"] and "counter_bits" in rows["maxpool"]
    assert {r.kind: r for r in m.layers}["flatten"].parallelism is None


def test_missing_file(tmp_path):
    msg = _raises(tmp_path, "not an snnhw build directory")
    assert str(tmp_path) in msg


def test_bad_json_and_not_an_object(tmp_path):
    _raises(_write(tmp_path, None, text='{"format": '), "not valid JSON", "line 1")
    _raises(_write(tmp_path, [1, 2]), "expected a JSON object")


def test_wrong_format(build, tmp_path):
    _raises(_write(tmp_path, {}), "not an snnhw design manifest", field="format")
    _raises(_write(tmp_path, dict(build[1], format="other")), "'other'", field="format")


def test_version_1_says_regenerate(build, tmp_path):
    d = dict(json.loads(json.dumps(build[1])), version=1, snnhw_version="0.0.1")
    del d["interface"]["ports"]  # what version 1 lacked
    _raises(_write(tmp_path, d), "version 1", "snnhw 0.0.1", "regenerate", "older", field="version")
    _raises(_write(tmp_path, dict(build[1], version=MANIFEST_VERSION + 1)), "newer", field="version")
    _raises(_write(tmp_path, dict(build[1], version="3")), "integer", field="version")


def test_version_2_says_regenerate(build, tmp_path):
    """Version 2 (before early exit: no cfg_exit_* ports, T class beats always) is refused."""
    d = dict(json.loads(json.dumps(build[1])), version=2, snnhw_version="0.1.0")
    del d["exit"]
    d["interface"]["ports"] = [p for p in d["interface"]["ports"] if not p["name"].startswith("cfg_exit")]
    _raises(_write(tmp_path, d), "version 2", "snnhw 0.1.0", "regenerate", "older", field="version")


def test_missing_or_mistyped_field(build, tmp_path):
    d = json.loads(json.dumps(build[1]))
    del d["interface"]["ports"][2]["width"]
    _raises(_write(tmp_path, d), "missing", field="interface.ports[2].width")
    d = json.loads(json.dumps(build[1]))
    del d["cycle_model"]
    _raises(_write(tmp_path, d), "missing", field="cycle_model")
    d = json.loads(json.dumps(build[1]))
    d["interface"]["classes"] = "4"
    _raises(_write(tmp_path, d), "expected an integer", "'4'", field="interface.classes")
    d = json.loads(json.dumps(build[1]))
    d["rtl"] = "snn_top.v"
    _raises(_write(tmp_path, d), "expected a list", field="rtl")
    d = json.loads(json.dumps(build[1]))
    d["memories"][0]["depth"] = True
    _raises(_write(tmp_path, d), "boolean", field="memories[0].depth")


def test_listed_files_must_exist(build, tmp_path):
    out, d = build
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "rtl" / "snn_top.v").unlink()
    load_manifest(copy)  # the manifest itself is fine
    with pytest.raises(ManifestError) as e:
        load_manifest(copy, require=("rtl",))
    assert e.value.field == "rtl" and "rtl/snn_top.v" in str(e.value) and str(copy / "manifest.json") in str(e.value)
    (copy / d["vectors"]["spikes"]).unlink()
    with pytest.raises(ManifestError, match="field vectors.spikes: lists vectors/spikes.npz"):
        load_manifest(copy, require=("vectors",))


# ---------------------------------------------------------------------------
# what the manifest lists is what codegen wrote

def test_memory_files_and_instances(build):
    out, _ = build
    m = load_manifest(out)
    assert m.memory_files() == sorted(f"mem/{p.name}" for p in (out / "mem").glob("*.hex"))
    assert any(x.banks for x in m.memories), "the fixture has banked weight ROMs"
    top = (out / "rtl" / "snn_top.v").read_text()
    modules = {row.name: row.module for row in m.layers}
    for x in m.memories:  # instance paths as the RTL names them: u_l<i>[.generate block].u_<memory>
        layer_inst, *blocks, mem_inst = x.instance.split(".")
        assert re.search(rf"\b{modules[x.layer]}\s+#\((?:[^;]*?)\)\s*{layer_inst}\s*\(", top, re.S), x
        lib = (out / "rtl" / f"{modules[x.layer]}.v").read_text()
        assert re.search(rf"\)\s*{mem_inst}\s*\(", lib), x
        for blk in blocks:  # a generate loop's block: g_col[0] is the block g_col of a for loop
            assert re.search(rf"begin\s*:\s*{blk.split('[')[0]}\b", lib), x


def _verilog_ports(text: str, module: str) -> list:
    """(name, direction, width, define) of ``module``'s ports, parsed from generated Verilog (tests only)."""
    text = re.sub(r"//[^\n]*", "", text)
    body = re.search(rf"module\s+{module}\s*\((.*?)\);", text, re.S).group(1)
    ports, define = [], None
    for line in body.splitlines():
        line = line.strip().lstrip(",").strip()
        if m := re.match(r"`ifdef\s+(\w+)", line):
            define = m.group(1)
        elif line.startswith("`endif"):
            define = None
        elif m := re.match(r"(input|output)\s+wire\s*(?:\[(\d+):(\d+)\])?\s*(\w+)", line):
            width = int(m.group(2)) - int(m.group(3)) + 1 if m.group(2) else 1
            ports.append((m.group(4), m.group(1), width, define))
    return ports


@pytest.mark.parametrize("case", ["conv_maxpool_banked_p2_b8", "dense_zero_p3_b4"])
def test_ports_equal_the_rendered_top(build, tmp_path, case):
    if case == "conv_maxpool_banked_p2_b8":
        out = build[0]
    else:
        make, qargs, gen = R.DESIGN_CASES[case]
        q = R.qnet_of(make(), **qargs)
        out = tmp_path / case
        generate_design(q, out, timesteps=2, test_images=R.images(q.input_shape, 1), **gen)
    m = load_manifest(out)
    rendered = _verilog_ports((out / "rtl" / f"{m.top}.v").read_text(), m.top)
    assert [(p.name, p.direction, p.width, p.define) for p in m.interface.ports] == rendered
    assert {p.define for p in m.interface.ports} == {None, TAPS_DEFINE}
    assert len(m.interface.top_ports((TAPS_DEFINE,))) == len(m.interface.top_ports()) + 4 * len(m.interface.taps)
    assert all(p.meaning for p in m.interface.ports)


# ---------------------------------------------------------------------------
# every reader: the same error for a directory without (or with a broken) manifest

def _readers():
    from snnhw.sim.runner import _sources, build, run_sim
    from snnhw.sim.tools import lint
    from snnhw.synth import run_synth, write_core_file

    return dict(run_sim=lambda d: run_sim(d), sim_build=lambda d: build(d), sources=_sources, lint=lint,
                run_synth=lambda d: run_synth(d, "generic", progress=None), write_core_file=write_core_file)


@pytest.mark.parametrize("reader", ["run_sim", "sim_build", "sources", "lint", "run_synth", "write_core_file"])
def test_every_reader_raises_the_same_error(build, tmp_path, reader):
    if reader in ("run_sim", "sim_build"):
        pytest.importorskip("cocotb_tools")
    fn = _readers()[reader]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ManifestError) as e:
        fn(empty)
    assert e.value.path in (str(empty / "manifest.json"), str(empty.resolve() / "manifest.json")), str(e.value)
    assert str(e.value).startswith(f"{e.value.path}: no such file") and e.value.field is None, str(e.value)
    old = _write(tmp_path, dict(build[1], version=1))
    with pytest.raises(ManifestError, match="field version: manifest version 1"):
        fn(old)
    (tmp_path / "x").mkdir()
    no_rtl = _write(tmp_path / "x", build[1])  # a valid manifest, none of its files
    with pytest.raises(ManifestError, match="field rtl: lists rtl/"):
        fn(no_rtl)


def test_cli_reports_a_missing_manifest_in_one_line(tmp_path):
    from click.testing import CliRunner

    from snnhw.cli import main

    for cmd in ("sim", "synth"):
        r = CliRunner().invoke(main, [cmd, str(tmp_path)], catch_exceptions=False)
        lines = [line for line in r.output.splitlines() if line.strip()]
        assert r.exit_code == 2 and len(lines) == 1, r.output
        assert "manifest.json: no such file" in lines[0], r.output
    assert issubclass(ManifestError, SnnhwError)


def test_block_parameters_are_what_snn_top_sets(build):
    """The manifest's per-block parameters are the ones snn_top.v passes to the library modules."""
    out, _ = build
    m = load_manifest(out)
    top = re.sub(r"//[^\n]*", "", (out / "rtl" / "snn_top.v").read_text())
    assert all(row.parameters and row.instance for row in m.layers)
    instances = {name: (module, params) for module, params, name in
                 re.findall(r"\b(\w+)\s+#\((.*?)\)\s*(\w+)\s*\(", top, re.S)}
    for row in m.layers:
        module, params = instances[row.instance]
        assert module == row.module, row.instance
        set_there = dict(re.findall(r"\.(\w+)\(([^()]*)\)", params))
        assert set_there == {p.name: p.value for p in row.parameters}, row.instance
