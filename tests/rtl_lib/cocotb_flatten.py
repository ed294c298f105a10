"""cocotb test of snn_flatten: (c, y, x) -> (c * ROWS + y) * COLUMNS + x, flags and handshake passed through."""
import json
import os
import random

import cocotb
from cocotb.triggers import Timer

PARAMS = json.loads(os.environ.get("SNNHW_PARAMS", "{}"))
C, H, W = int(PARAMS["CHANNELS"]), int(PARAMS["ROWS"]), int(PARAMS["COLUMNS"])


def bits(n):
    """Field bits for n values (the compiler's ubits(n - 1))."""
    return max(1, (n - 1).bit_length())


CB, YB, XB, NB = bits(C), bits(H), bits(W), bits(C * H * W)


@cocotb.test()
async def flattens(dut):
    assert len(dut.in_data) == 2 + CB + YB + XB and len(dut.out_data) == 2 + NB
    rng = random.Random(C * 1000 + H * 100 + W)
    coords = [(c, y, x) for c in range(C) for y in range(H) for x in range(W)]
    if len(coords) > 600:
        coords = rng.sample(coords, 600)
    # field values beyond the shape too (e.g. an end-of-step token's don't-care address): modulo 2**NB
    coords += [(rng.randrange(1 << CB), rng.randrange(1 << YB), rng.randrange(1 << XB)) for _ in range(100)]
    for c, y, x in coords:
        flags, valid, ready = rng.randrange(4), rng.randrange(2), rng.randrange(2)
        dut.in_data.value = (((flags << CB | c) << YB | y) << XB) | x
        dut.in_valid.value = valid
        dut.out_ready.value = ready
        await Timer(1, unit="ns")
        flat = ((c * H + y) * W + x) % (1 << NB)
        assert int(dut.out_data.value) == (flags << NB) | flat, f"({c}, {y}, {x}) flags {flags}"
        assert int(dut.out_valid.value) == valid and int(dut.in_ready.value) == ready
