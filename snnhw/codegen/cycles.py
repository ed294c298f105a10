"""How many cycles a design should take per image, from the golden model's spikes.

Two numbers per engine, both over the time steps each image actually runs
(all T, or up to its early-exit step):

* the **cycle model** (:func:`cycle_model`): what the engine's RTL spends,
  event by event and sweep by sweep (scatter iterations of whole channel
  groups, pipeline drains, the max-pool gate's per-image clear). The ``-P auto``
  planner (:mod:`snnhw.codegen.folding`) minimizes it.
* the **bound** (:meth:`EngineLoad.bound`), the one definition of the ideal used
  everywhere (report, manifest, benchmarks; docs/hardware.md "Throughput
  bound"): per engine, the larger of its synaptic operations over its lanes
  (times its kernel columns per cycle) and
  its input events (one event per cycle at best; the max-pool gate has no
  synapses, so its events are its bound), plus its fire sweeps (⌈C_out/lanes⌉ ·
  H_out · W_out per step run); the analog layer's synaptic operations are its
  pixels' (once per image). A sum engine (several synapse inputs) takes
  the events of all its inputs, each at its own input's scatter cost; its
  synaptic operations are the sum over its inputs. Engines overlap (layer pipelining), so the busiest
  engine's bound bounds the cycles per image of an image stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snnhw.ir import QNetwork, source_indices
from snnhw.reference.spike_ops import fan_out_counts


def steps_run(timesteps: int, n: int, exit_steps=None) -> np.ndarray:
    """(T, N) 0/1: the steps each image runs (t <= its exit step; every step without early exit)."""
    if exit_steps is None:
        return np.ones((timesteps, n), dtype=np.int64)
    exit_steps = np.asarray(exit_steps).reshape(-1)
    return (np.arange(timesteps)[:, None] <= exit_steps[None, :]).astype(np.int64)


@dataclass
class EngineLoad:
    """One engine's work per image from the golden spikes, independent of its lanes: :meth:`busy`
    gives its busy cycles per image for ``G = ceil(C_out / lanes)`` channel groups. Per-step arrays
    count only the steps each image runs (zero after its exit step)."""

    layer: int
    name: str
    engine: str  # 'analog' | 'conv' | 'dense' | 'avgpool' | 'output' | 'maxpool gate'
    c_out: int
    positions: int  # Ho * Wo
    spatial: int  # ceil(kh/s_h) * ceil(kw/s_w): scatter iterations per event and channel group
    kernel_width: int  # ceil(kw/s_w): the kernel columns an event reaches in one kernel row
    scales: bool  # per-event cost scales with G (not average pooling)
    run: np.ndarray  # (T, N) 0/1: the steps each image runs
    events_in: np.ndarray | None = None  # (T, N) input events per step
    emitted: np.ndarray | None = None  # (T, N) spikes emitted per step
    synops: np.ndarray | None = None  # (T, N) synaptic operations per step (analog layer: (N,), once)
    nonzero: np.ndarray | None = None  # (N,) nonzero pixels (analog layer)
    pixels: int = 0
    classes: int = 0
    fixed: float | None = None  # busy cycles of an engine without lanes (max-pool gate)
    conv_groups: int = 1  # a grouped convolution's groups: an event reaches G / conv_groups channel groups
    parts: list | None = None  # a sum engine: per synapse input (events_in (T, N), spatial, conv_groups)

    def cycles_per_event(self, G: int, cols: int = 1) -> int:
        """Scatter cycles per input event: kernel rows x columns (all columns in one cycle when
        ``cols`` > 1) x the channel groups of its convolution group (a sum engine: its costliest input's)."""
        if self.parts:
            return max(sp * max(1, G // cg) for _, sp, cg in self.parts)
        spatial = self.spatial // self.kernel_width if cols > 1 else self.spatial
        return spatial * (max(1, G // self.conv_groups) if self.scales else 1)

    def scatter_cycles(self, G: int, cols: int = 1) -> np.ndarray:
        """(T, N) scatter cycles per step: input events x their cycles per event."""
        if self.parts:
            return sum(ev * (sp * max(1, G // cg)) for ev, sp, cg in self.parts)
        return self.events_in * self.cycles_per_event(G, cols)

    def busy(self, G: int, cols: int = 1) -> float:
        if self.fixed is not None:
            return self.fixed
        overhead = 8
        per_ev = self.cycles_per_event(G, cols)
        sweep = G * self.positions + overhead
        if self.engine == "analog":
            busy = self.nonzero * per_ev + self.pixels + (np.maximum(sweep, self.emitted + 4) * self.run).sum(axis=0)
        elif self.engine == "output":
            busy = ((self.scatter_cycles(G, cols) + sweep + 2) * self.run).sum(axis=0) + self.classes + 1
        else:
            busy = (self.scatter_cycles(G, cols) + np.maximum(sweep, self.emitted + 4) * self.run).sum(axis=0)
        return float(np.mean(busy))

    def bound(self, lanes: int, cols: int = 1) -> float:
        """The ideal: max(synaptic operations / (lanes x columns), input events) + fire sweeps, per image."""
        if self.engine == "maxpool gate":
            return float(np.mean(self.events_in.sum(axis=0)))
        G = -(-self.c_out // max(1, min(int(lanes), self.c_out)))
        sweeps = G * self.positions * self.run.sum(axis=0)
        units = lanes * cols
        if self.engine == "analog":
            work = np.maximum(self.synops / units, self.nonzero)
        else:
            work = np.maximum(self.synops / units, self.events_in).sum(axis=0)
        return float(np.mean(work + sweeps))


def engine_loads(plan, qnet: QNetwork, spikes: dict, images: np.ndarray, timesteps: int,
                 exit_steps=None) -> list:
    """The :class:`EngineLoad` of every engine of ``plan`` (flatten blocks have none), from the golden
    spikes, counting the steps each image runs (``exit_steps``: (N,) 0-based exit steps, or None)."""
    n = images.shape[0]
    run = steps_run(timesteps, n, exit_steps)
    loads = []
    srcs = source_indices(qnet.layers)
    nonzero = (images.reshape(n, -1) != 0).sum(axis=1)

    def events(j):  # (T, N) spikes per step of layer j (steps run)
        return spikes[j].reshape(timesteps, n, -1).sum(axis=2) * run

    def synops_of(j, kind, syn):
        return (spikes[j].reshape(timesteps, n, -1).astype(np.int64) @ fan_out_counts(kind, syn, syn.in_shape)) * run

    for blk in plan.blocks:
        c = blk.ctx
        i = c["index"]
        if blk.kind == "flatten":
            continue
        spatial = c["MH"] * c["MW"]
        layer = qnet.layers[i]
        if blk.kind == "maxpool":
            # incremental argmax: one window update per cycle, the spikes leave as they are found; per step
            # the pipelines drain before the end-of-step token (~10 cycles); one clear (one bank depth) per image
            prev = events(srcs[i][0])
            busy = (prev * spatial + 10 * run).sum(axis=0) + c["N_CLR"]
            loads.append(EngineLoad(i, c["name"], "maxpool gate", c["C_OUT"], c["H_OUT"] * c["W_OUT"], spatial,
                                    c["MW"], False, run, events_in=prev, fixed=float(busy.mean())))
            continue
        engine = "analog" if blk.kind == "analog" else "output" if blk.kind == "output" else c["kind"]
        emitted = spikes[i].reshape(timesteps, n, -1).sum(axis=2) * run if blk.kind != "output" else None
        parts = None
        if layer.analog_input:  # every nonzero pixel drives its fan-out once per image
            prev = None
            synops = (images.reshape(n, -1) != 0).astype(np.int64) @ fan_out_counts(layer.kind, layer, layer.in_shape)
        elif layer.kind == "sum":
            parts = [(events(j), sc["MH"] * sc["MW"], sc["GROUPS"]) for j, sc in zip(srcs[i], c["syn"])]
            prev = sum(p[0] for p in parts)
            synops = sum(synops_of(j, syn.kind, syn) for j, syn in zip(srcs[i], layer.synapses))
        else:
            prev = events(srcs[i][0])
            synops = synops_of(srcs[i][0], layer.kind, layer)
        loads.append(EngineLoad(i, c["name"], engine, c["C_OUT"], c["H_OUT"] * c["W_OUT"], spatial,
                                c["MW"], c["kind"] != "avgpool", run, events_in=prev, emitted=emitted, synops=synops,
                                nonzero=nonzero, pixels=int(np.prod(qnet.input_shape)), classes=c.get("K", 0),
                                conv_groups=c.get("CONV_GROUPS", 1), parts=parts))
    return loads


FORMULA = ("per engine and step run: events_in x cycles_per_event (scatter, P output channels and C kernel "
           "columns per cycle) "
           "+ max(sweep_cycles, spikes_out) + ~8 (fire sweep and end-of-step token); analog layer adds "
           "nonzero_pixels x cycles_per_event + pixels once per image; max-pool gate: events_in x "
           "cycles_per_event + ~10 per step + a clear (one RAM bank deep) per image. "
           "Engines overlap (layer pipelining): throughput ~ max over engines, latency ~ sum. "
           "Bound per engine: max(synops / (lanes x columns), events_in) + fire sweeps (gate: events_in).")


def cycle_model(plan, qnet: QNetwork, spikes: dict, images: np.ndarray, timesteps: int,
                lanes: dict | None = None, loads: list | None = None, exit_steps=None,
                columns: dict | None = None) -> dict:
    """Busy cycles per image of every engine, and its bound, estimated from the golden model's spikes.

    Each engine overlaps with its neighbours (layer pipelining), so an image
    stream's throughput is bounded by the busiest engine and an image's
    latency by roughly the sum. Numbers are averaged over ``images``, over the
    steps each runs (``exit_steps``). ``lanes`` ({layer index: lanes}) overrides
    the plan's lanes of those engines (what-if estimates,
    :mod:`snnhw.codegen.folding`); ``loads`` reuses :func:`engine_loads`.
    """
    if loads is None:
        loads = engine_loads(plan, qnet, spikes, images, timesteps, exit_steps)
    lanes = {**plan.lanes, **(lanes or {})}
    columns = {**plan.columns, **(columns or {})}
    rows = []
    for ld in loads:
        if ld.fixed is not None:
            rows.append(dict(layer=ld.layer, name=ld.name, engine=ld.engine, cycles_per_event=ld.spatial,
                             sweep_cycles=0, busy_cycles=ld.fixed, bound_cycles=ld.bound(1)))
            continue
        ln = max(1, min(int(lanes[ld.layer]), ld.c_out))
        cols = int(columns.get(ld.layer, 1))
        G = -(-ld.c_out // ln)
        rows.append(dict(layer=ld.layer, name=ld.name, engine=ld.engine, cycles_per_event=ld.cycles_per_event(G, cols),
                         sweep_cycles=G * ld.positions, busy_cycles=ld.busy(G, cols), bound_cycles=ld.bound(ln, cols)))
    bottleneck = max(rows, key=lambda r: r["busy_cycles"])
    bound = max(rows, key=lambda r: r["bound_cycles"])
    return dict(
        timesteps=timesteps, images=int(images.shape[0]), layers=rows,
        throughput_cycles_per_image=bottleneck["busy_cycles"], bottleneck=bottleneck["name"],
        latency_cycles_estimate=float(sum(r["busy_cycles"] for r in rows)),
        bound_cycles=bound["bound_cycles"], bound_engine=bound["name"],
        mean_steps=float(loads[0].run.sum(axis=0).mean()) if loads else float(timesteps),
        formula=FORMULA,
    )
