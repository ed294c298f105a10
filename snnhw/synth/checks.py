"""Does every block memory of the manifest land in block RAM?"""
from __future__ import annotations

from snnhw.synth.devices import bram_lower_bound


def check_bram_mapping(result, manifest: dict, ff_fraction: float = 0.1) -> list:
    """Problems with the memory mapping of ``result`` (a SynthResult or its dict); [] when all is well.

    - no abstract ``$mem`` cell may be left (Yosys could not map a memory);
    - the BRAM primitive count must reach what the manifest's ``style: block``
      memories need at least (fewest primitives of the target's aspect ratios);
    - the flip-flop count must stay below ``ff_fraction`` of the block-memory
      bits (a memory flattened to registers would need one FF per bit).
    """
    r = result if isinstance(result, dict) else result.to_dict()
    target = r["target"]
    if target == "generic":
        return []
    mems = manifest.get("memories", [])
    need = bram_lower_bound(mems, target)
    block_bits = sum(m["depth"] * m["width"] for m in mems if m.get("style") == "block")
    probs = []
    if r["abstract_memories"]:
        probs.append(f"{r['abstract_memories']} $mem cells left unmapped")
    if r["bram"] + 1e-9 < need:
        probs.append(f"only {r['bram']} {r['bram_name']} mapped, the block memories need at least {need:g}")
    if block_bits and r["ffs"] > ff_fraction * block_bits:
        probs.append(f"{r['ffs']} flip-flops for {block_bits} block-memory bits: some memory was flattened "
                     f"to registers")
    return probs
