"""What the hardware generator maps: a chain of conv (grouped and depthwise too), dense, avg/max-pool and
flatten layers.

The front end and the reference models also handle graphs (residual Adds,
Concats: multi-input ``sum`` layers, layers reading other than the layer
before); their engines are not generated yet, so :func:`check_mappable`
refuses them by name instead of generating wrong hardware.
"""
from __future__ import annotations

from snnhw.errors import UnsupportedModelError
from snnhw.ir import INPUT, QNetwork


def unmappable_reason(qnet: QNetwork, i: int):
    """Why layer ``i`` has no hardware yet, or None."""
    layer = qnet.layers[i]
    if layer.kind == "sum":
        return (f"a neuron layer with {len(layer.synapses)} synapse inputs (a residual Add, or a layer reading "
                "a Concat)")
    if layer.group != 1 and (layer.kind != "conv" or layer.analog_input):
        return f"a grouped {layer.kind} layer, group={layer.group}, taking the pixels"
    expected = (qnet.layers[i - 1].name,) if i else (INPUT,)
    if qnet.sources(i) != expected:
        read = ", ".join("the network input" if s == INPUT else f"'{s}'" for s in qnet.sources(i))
        return f"reads {read}, not the layer right before it (the network is a graph, not a chain)"
    return None


def check_mappable(qnet: QNetwork) -> None:
    """Raise UnsupportedModelError naming the first layer whose hardware is not generated yet."""
    for i, layer in enumerate(qnet.layers):
        reason = unmappable_reason(qnet, i)
        if reason:
            raise UnsupportedModelError(
                f"{qnet.source or 'network'}: layer '{layer.name}' ({layer.kind}): {reason}: the hardware for it "
                "is not generated yet (snnhw generate maps chains of conv (grouped too), dense, average/max-pool and "
                "flatten layers; snnhw convert and snnhw evaluate support it)")
