"""What the hardware generator maps: graphs (a DAG, the layers in a topological order) of conv (grouped
and depthwise too), dense, avg/max-pool, flatten and multi-input ``sum`` layers (residual Adds, layers
reading a Concat), the first layer reading the pixels.

:func:`check_mappable` refuses what has no hardware by name instead of
generating wrong hardware.
"""
from __future__ import annotations

from snnhw.errors import UnsupportedModelError
from snnhw.ir import INPUT, QNetwork


def unmappable_reason(qnet: QNetwork, i: int):
    """Why layer ``i`` has no hardware yet, or None."""
    layer = qnet.layers[i]
    if layer.group != 1 and (layer.kind != "conv" or layer.analog_input):
        return f"a grouped {layer.kind} layer, group={layer.group}, taking the pixels"
    if i and INPUT in qnet.sources(i):
        return ("reads the network input, which only the first layer does (one engine takes the pixels; a "
                "second layer reading them is not generated)")
    return None


def check_mappable(qnet: QNetwork) -> None:
    """Raise UnsupportedModelError naming the first layer whose hardware is not generated yet."""
    for i, layer in enumerate(qnet.layers):
        reason = unmappable_reason(qnet, i)
        if reason:
            raise UnsupportedModelError(
                f"{qnet.source or 'network'}: layer '{layer.name}' ({layer.kind}): {reason}: the hardware for it "
                "is not generated yet (snnhw generate maps graphs of conv (grouped too), dense, average/max-pool, "
                "flatten and multi-input (residual Add, Concat) layers whose first layer alone reads the pixels; "
                "snnhw convert and snnhw evaluate support it)")
