"""The build directory's ``manifest.json``: typed, versioned, checked on load.

Code generation (:func:`snnhw.codegen.generate_design`) builds a :class:`Manifest`
and writes it with :func:`write_manifest`; everything that reads a build
directory (the simulator runner and its cocotb bench, ``snnhw synth``, the
FuseSoC writer, lint) reads it back with :func:`load_manifest` and uses
attributes, so a missing, foreign, outdated or incomplete manifest raises one
error, :class:`~snnhw.errors.ManifestError`, naming the file and the field.

Format ``snnhw-design``, version 5 (docs/hardware.md, "The manifest", lists
what each version added). Another version is refused with the message to
regenerate (older) or upgrade snnhw (newer). The JSON keys are the dataclass field
names below; optional fields (``None``) are left out of the JSON. Unknown
keys are ignored. File names are relative: ``rtl`` entries below ``rtl/``,
``sim_rtl`` entries below ``sim_rtl/``, memory and vector files below the
build directory.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from snnhw.errors import ManifestError

MANIFEST_FORMAT = "snnhw-design"
MANIFEST_VERSION = 5
MANIFEST_FILE = "manifest.json"
TAPS_DEFINE = "SNNHW_TAPS"


# ---------------------------------------------------------------------------
# schema

@dataclass
class Port:
    """A port of the design top (``snn_top``)."""

    name: str
    direction: str  # 'input' | 'output'
    width: int  # bits
    meaning: str
    define: str | None = None  # the port exists only with this `define (SNNHW_TAPS for the spike taps)


@dataclass
class Tap:
    """The spike tap of one layer (ports tap<layer>_valid/_eos/_step/_addr under SNNHW_TAPS)."""

    layer: int
    name: str
    addr_bits: int


@dataclass
class SAxis:
    tdata_bits: int
    order: str
    tlast: str


@dataclass
class MAxis:
    tdata_bits: int
    tuser_bits: int
    framing: str


@dataclass
class Interface:
    clock: str
    reset: str
    pixels_per_image: int
    input_shape: list[int]
    s_axis: SAxis
    m_axis: MAxis
    classes: int
    potential_bits: int
    cfg_timesteps_bits: int
    max_timesteps: int
    init_cycles_after_reset: int
    taps: list[Tap]
    ports: list[Port]  # every port of the top, in declaration order

    def top_ports(self, defines=()) -> list[Port]:
        """The top's ports when compiled with ``defines`` (default: none, i.e. without the spike taps)."""
        return [p for p in self.ports if p.define is None or p.define in defines]


@dataclass
class Numeric:
    bits: int
    reset: str
    v_init: str
    input_scale: float
    max_timesteps: int


@dataclass
class Parameter:
    """One Verilog parameter of a block's library module, as snn_top sets it."""

    name: str
    value: str  # the Verilog literal


@dataclass
class SynapseInfo:
    """One synapse input of a sum engine (a neuron layer with several synapse inputs)."""

    source: str  # the block it reads (a layers[].name)
    kind: str  # 'conv' | 'dense'
    in_shape: list[int]
    kernel: list[int]
    stride: list[int]
    pads: list[int]  # top, left, bottom, right
    group: int  # the layer's convolution groups of this input
    engine_groups: int  # the groups its weight memory is built with (zero-filled; a divisor of group)
    weight_base: int  # its first word in the engine's weight ROM
    weight_words: int


@dataclass
class LayerInfo:
    """One hardware block (engine) of the layer pipeline."""

    index: int  # layer index in the QNetwork
    name: str
    engine: str  # 'analog' | 'conv' | 'dense' | 'avgpool' | 'maxpool' | 'flatten' | 'output'
    kind: str  # the layer kind
    module: str  # Verilog module of the block
    in_shape: list[int]
    out_shape: list[int]
    memory_bits: int
    parallelism: int | None = None  # neuron layers (analog, neuron, output) from here on
    columns: int | None = None  # kernel columns per cycle (membranes in that many column banks)
    channel_groups: int | None = None
    weight_bits: int | None = None
    bias_bits: int | None = None
    mem_bits: int | None = None
    role: str | None = None
    analog_input: bool | None = None
    kernel: list[int] | None = None  # also max-pool gates
    stride: list[int] | None = None  # also max-pool gates
    pads: list[int] | None = None  # also max-pool gates
    threshold_bits: int | None = None  # spiking layers
    vmin: int | None = None
    vmax: int | None = None
    threshold_min: int | None = None
    threshold_max: int | None = None
    current_bits: int | None = None  # the analog input layer
    counter_bits: int | None = None  # max-pool gates
    instance: str | None = None  # the block's instance in snn_top (e.g. u_l2)
    inputs: list[str] | None = None  # the blocks whose spikes it reads (names; '@input': the pixels)
    synapses: list[SynapseInfo] | None = None  # sum engines: one per synapse input, in src order
    parameters: list[Parameter] | None = None  # the library module's parameters, as snn_top sets them


@dataclass
class Memory:
    """A memory of one layer's block."""

    layer: str  # layer name
    name: str  # 'membrane', 'current', 'weights', 'bias', 'theta', 'counters', 'windows'
    kind: str  # 'ram' | 'rom'
    depth: int  # words
    width: int  # bits per word
    style: str  # 'block' (worth a block RAM) | 'lutram' (marked LUT RAM) | 'distributed' (the tool's choice)
    instance: str  # instance path below the top, e.g. 'u_l2.u_weights'
    file: str | None = None  # $readmemh image of a ROM (relative to the build directory)
    files: list[str] | None = None  # the images of a banked ROM, one per bank
    banks: int | None = None

    @property
    def bits(self) -> int:
        return self.depth * self.width

    @property
    def image_files(self) -> list[str]:
        return ([self.file] if self.file else []) + list(self.files or [])


@dataclass
class CycleRow:
    layer: int
    name: str
    engine: str
    cycles_per_event: int
    sweep_cycles: int
    busy_cycles: float
    bound_cycles: float


@dataclass
class CycleModel:
    """Busy cycles per image of every engine, estimated from the golden model's spikes."""

    timesteps: int
    images: int
    layers: list[CycleRow]
    throughput_cycles_per_image: float
    bottleneck: str
    latency_cycles_estimate: float
    formula: str
    synops_per_image: float  # golden, all steps
    bound_cycles: float  # the busiest engine's bound over the steps run (snnhw.codegen.cycles)
    bound_engine: str
    mean_steps: float  # steps run per image (early exit), on the test images


@dataclass
class PlanRow:
    """One block of a folding plan (``-P auto``): its lanes (None: a gate without lanes) and estimates."""

    layer: int
    name: str
    engine: str
    busy_cycles: float
    brams: float
    dsps: int
    luts: int
    lanes: int | None = None
    columns: int | None = None
    channel_groups: int | None = None


@dataclass
class Plan:
    """The folding planner's choice for a device (snnhw.codegen.folding): lanes per engine, estimates vs budget."""

    device: str
    target: str
    objective: str
    rows: list[PlanRow]
    bottleneck: str
    throughput_cycles_per_image: float
    brams: float  # estimated block RAM primitives (conservative)
    bram_budget: float  # planned within (device minus bram_margin)
    bram_device: int
    bram_name: str
    bram_margin: float
    dsps: int
    dsp_budget: int
    luts: int  # an estimate, not a synthesis result
    lut_budget: int
    lut_device: int
    note: str


@dataclass
class Vectors:
    file: str  # test vectors (images, labels, timesteps, golden potentials and classes)
    spikes: str  # golden spikes of every tapped layer
    images: int
    timesteps: int
    random_images: bool
    labels: bool


@dataclass
class ExitInfo:
    """The build's default early-exit rule (the simulation's default, and the rule the board's host link starts with)."""

    margin: int  # 0: no early exit
    min_steps: int
    margin_bits: int  # width of cfg_exit_margin
    queue_depth: int  # images between layer 0 and the output before layer 0 waits (snn_exit_queue)
    rule: str


@dataclass
class Manifest:
    format: str
    version: int
    snnhw_version: str
    source: str
    top: str
    sim_top: str
    rtl: list[str]  # below rtl/
    sim_rtl: list[str]  # below sim_rtl/
    interface: Interface
    numeric: Numeric
    parallelism: int  # the largest lanes requested (uniform P: P); every engine's own: layers[].parallelism
    layers: list[LayerInfo]
    memories: list[Memory]
    memory_bits: int
    cycle_model: CycleModel
    vectors: Vectors
    taps_default: bool
    exit: ExitInfo
    parallelism_spec: str | None = None  # the request: '8', or the default then LAYER=LANES entries
    plan: Plan | None = None  # -P auto: the folding plan for a device

    # -- paths --------------------------------------------------------------
    def rtl_paths(self, build_dir) -> list[Path]:
        return [Path(build_dir) / "rtl" / f for f in self.rtl]

    def sim_rtl_paths(self, build_dir) -> list[Path]:
        return [Path(build_dir) / "sim_rtl" / f for f in self.sim_rtl]

    def memory_files(self) -> list[str]:
        """Every $readmemh image the RTL reads, relative to the build directory, sorted."""
        return sorted({f for m in self.memories for f in m.image_files})

    def layer_names(self) -> dict:
        """Layer index -> name."""
        return {row.index: row.name for row in self.layers}

    def memory_bits_by_layer(self) -> dict:
        """Layer name -> {memory name: bits}."""
        out = {}
        for m in self.memories:
            out.setdefault(m.layer, {})[m.name] = m.bits
        return out

    def require_files(self, build_dir, *parts: str) -> None:
        """Raise ManifestError unless every file of ``parts`` ('rtl', 'sim_rtl', 'mem', 'vectors') exists."""
        build_dir = Path(build_dir)
        listed = {"rtl": lambda: [(f"rtl/{f}", "rtl") for f in self.rtl],
                  "sim_rtl": lambda: [(f"sim_rtl/{f}", "sim_rtl") for f in self.sim_rtl],
                  "mem": lambda: [(f, "memories") for f in self.memory_files()],
                  "vectors": lambda: [(self.vectors.file, "vectors.file"), (self.vectors.spikes, "vectors.spikes")]}
        for part in parts:
            if part not in listed:
                raise ValueError(f"require_files: unknown part {part!r}")
            missing = [(f, where) for f, where in listed[part]() if not (build_dir / f).is_file()]
            if missing:
                names = ", ".join(f for f, _ in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3
                                                                else "")
                raise ManifestError(build_dir / MANIFEST_FILE, f"lists {names}, missing from {build_dir}",
                                    field=missing[0][1])

    # -- conversion ---------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON object (optional fields that are None left out)."""
        return _to_json(self)

    @classmethod
    def from_dict(cls, data, path="manifest") -> Manifest:
        """Check ``data`` (the parsed JSON) and build the Manifest; ManifestError names ``path`` and the field."""
        if not isinstance(data, dict):
            raise ManifestError(path, f"expected a JSON object, got {json_type_name(data)}")
        fmt = data.get("format")
        if fmt != MANIFEST_FORMAT:
            raise ManifestError(path, f"expected {MANIFEST_FORMAT!r}, got {fmt!r}: not an snnhw design manifest",
                                field="format")
        version = data.get("version")
        if not is_json_int(version):
            raise ManifestError(path, f"expected an integer, got {json_type_name(version)}", field="version")
        if version != MANIFEST_VERSION:
            import snnhw

            by = data.get("snnhw_version")
            by = f"snnhw {by}" if isinstance(by, str) else "another snnhw"
            if version < MANIFEST_VERSION:
                how = (f"an older manifest format; this snnhw ({snnhw.__version__}) reads version "
                       f"{MANIFEST_VERSION} only: regenerate the build directory with this snnhw (snnhw generate)")
            else:
                how = (f"a newer manifest format than this snnhw ({snnhw.__version__}) reads (version "
                       f"{MANIFEST_VERSION}): upgrade snnhw, or regenerate the build directory with this one")
            raise ManifestError(path, f"manifest version {version} (written by {by}) is {how}", field="version")
        return _from_json(cls, data, path, "")


def write_manifest(manifest: Manifest, path) -> Path:
    """Write ``manifest`` as JSON to ``path`` (a file, or a build directory); returns the file."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_FILE
    path.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
    return path


def load_manifest(build_dir, require=()) -> Manifest:
    """Read and check ``build_dir/manifest.json``; with ``require`` (see :meth:`Manifest.require_files`)
    also check that those files exist. Raises :class:`~snnhw.errors.ManifestError`."""
    build_dir = Path(build_dir)
    path = build_dir / MANIFEST_FILE
    if not path.is_file():
        raise ManifestError(path, f"no such file: {build_dir} is not an snnhw build directory "
                            f"(snnhw generate writes one)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(path, f"cannot read it: {e}") from None
    except json.JSONDecodeError as e:
        raise ManifestError(path, f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    m = Manifest.from_dict(data, path)
    if require:
        m.require_files(build_dir, *require)
    return m


# ---------------------------------------------------------------------------
# generic conversion between the dataclasses and JSON

def is_json_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def json_type_name(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"the number {v!r}"
    if isinstance(v, str):
        return f"the string {v[:40]!r}"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


_HINTS: dict = {}


def _hints(cls) -> dict:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _name(tp) -> str:
    if dataclasses.is_dataclass(tp):
        return "an object"
    if typing.get_origin(tp) is list:
        return "a list"
    return {int: "an integer", float: "a number", str: "a string", bool: "a boolean"}.get(tp, str(tp))


def _from_json(tp, value, path, where):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        (tp,) = args
        return _from_json(tp, value, path, where)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ManifestError(path, f"expected an object, got {json_type_name(value)}", field=where or None)
        hints = _hints(tp)
        kw = {}
        for f in dataclasses.fields(tp):
            sub = f"{where}.{f.name}" if where else f.name
            if f.name not in value:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise ManifestError(path, "missing", field=sub)
                continue
            kw[f.name] = _from_json(hints[f.name], value[f.name], path, sub)
        return tp(**kw)
    if origin is list:
        if not isinstance(value, list):
            raise ManifestError(path, f"expected a list, got {json_type_name(value)}", field=where)
        (item,) = typing.get_args(tp)
        return [_from_json(item, v, path, f"{where}[{i}]") for i, v in enumerate(value)]
    ok = {int: is_json_int(value), float: is_json_int(value) or isinstance(value, float), str: isinstance(value, str),
          bool: isinstance(value, bool)}.get(tp)
    if ok is None:
        raise TypeError(f"manifest schema: unsupported type {tp!r} at {where}")
    if not ok:
        raise ManifestError(path, f"expected {_name(tp)}, got {json_type_name(value)}", field=where)
    return float(value) if tp is float else value


def _to_json(value):
    if dataclasses.is_dataclass(value):
        out = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None and f.default is None:
                continue
            out[f.name] = _to_json(v)
        return out
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return value.item()
    return value


__all__ = ["MANIFEST_FORMAT", "MANIFEST_VERSION", "MANIFEST_FILE", "TAPS_DEFINE", "Manifest", "Interface", "Port",
           "Tap", "SAxis", "MAxis", "ExitInfo", "Numeric", "LayerInfo", "Memory", "CycleRow", "CycleModel", "Plan",
           "PlanRow", "Vectors",
           "write_manifest", "load_manifest"]
