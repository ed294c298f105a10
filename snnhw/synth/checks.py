"""Does every block memory of the manifest land in block RAM?"""
from __future__ import annotations

import re

from snnhw.codegen.manifest import Manifest

_MAP = re.compile(r"^mapping memory (\S+) via (\S+)", re.M)
_FF = re.compile(r"^using FF mapping for memory (\S+)", re.M)
_BRAM_CELLS = ("16KD", "RAM4K", "BLOCKRAM", "RAMB")  # DP16KD, PDPW16KD, RAM4K, BLOCKRAM_SDP/TDP


def memory_mapping(yosys_log: str) -> dict:
    """Memory path (e.g. 'snn_top.u_l0.u_membrane.mem') -> 'bram' | 'lutram' | 'ff', from memory_libmap's log.

    Memories that memory_libmap did not report (ROMs turned into logic by
    memory_map, or memories optimised away) are absent.
    """
    out = {}
    for path, cell in _MAP.findall(yosys_log):
        out[path] = "bram" if any(k in cell for k in _BRAM_CELLS) else "lutram"
    for path in _FF.findall(yosys_log):
        out[path] = "ff"
    return out


def _typed(manifest) -> Manifest:
    return manifest if isinstance(manifest, Manifest) else Manifest.from_dict(manifest)


def manifest_memory_paths(manifest, top: str = "snn_top") -> dict:
    """(layer name, memory name) -> the memory's instance path prefix, e.g. 'snn_top.u_l2.u_weights'."""
    return {(m.layer, m.name): f"{top}.{m.instance}" for m in _typed(manifest).memories}


def unmapped_block_memories(mapping: dict, manifest, top: str = "snn_top") -> list:
    """Manifest memories with style 'block' that Yosys did not put in block RAM, and memories with style
    'lutram' that it put in block RAM (they are there to save it): ['layer/memory (how)']."""
    bad = []
    for m in _typed(manifest).memories:
        if m.style not in ("block", "lutram"):
            continue
        prefix = f"{top}.{m.instance}"
        hits = [how for p, how in mapping.items() if p == prefix or p.startswith(prefix + ".")]
        if m.style == "lutram":
            if "bram" in hits:
                bad.append(f"{m.layer}/{m.name} ({m.depth}x{m.width}): LUT RAM mapped to block RAM")
        elif not hits:
            bad.append(f"{m.layer}/{m.name} ({m.depth}x{m.width}): not reported by memory_libmap")
        elif any(h != "bram" for h in hits):
            bad.append(f"{m.layer}/{m.name} ({m.depth}x{m.width}): mapped to {', '.join(hits)}")
    return bad


def check_bram_mapping(result, manifest, ff_fraction: float = 0.1) -> list:
    """Problems with the memory mapping of ``result`` (a SynthResult or its dict); [] when all is well.

    ``manifest``: the build directory's :class:`~snnhw.codegen.manifest.Manifest` (or its dict).

    - every ``style: block`` memory of the manifest is mapped to a block-RAM
      primitive (from Yosys's memory_libmap log, kept in ``result.memory_mapping``);
    - no abstract ``$mem`` cell is left (Yosys could not map a memory);
    - there are block-RAM primitives when the manifest has block memories;
    - the flip-flop count stays below ``ff_fraction`` of the block-memory
      bits (a memory flattened to registers would need one FF per bit).
    """
    r = result if isinstance(result, dict) else result.to_dict()
    if r["target"] == "generic":
        return []
    manifest = _typed(manifest)
    block_bits = sum(m.bits for m in manifest.memories if m.style == "block")
    probs = []
    if r["abstract_memories"]:
        probs.append(f"{r['abstract_memories']} $mem cells left unmapped")
    if block_bits and not r["bram"]:
        probs.append(f"no {r['bram_name']} at all for {block_bits} block-memory bits")
    probs += unmapped_block_memories(r.get("memory_mapping") or {}, manifest,
                                     r.get("memory_prefix") or r.get("design_top", "snn_top"))
    if block_bits and r["ffs"] > ff_fraction * block_bits:
        probs.append(f"{r['ffs']} flip-flops for {block_bits} block-memory bits: some memory was flattened "
                     f"to registers")
    return probs
