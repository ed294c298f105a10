"""snn_neuron_lane (snnhw/rtl_lib/snn_neuron_lane.v): the fire sweep and the scatter increment against the
numeric contract (fire at v + add >= theta, reset by subtraction or to zero, clamp, v_init), for each role,
reset mode, initial value and increment kind, two families of widths; every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_neuron_lane")


def s64(v: int) -> str:
    """A signed 64-bit parameter value as Verilator's -G takes it (a bare negative number would be 32 bits)."""
    return f"64'sh{v & ((1 << 64) - 1):016X}"


def lane(spiking=1, reset_sub=1, v_init_half=0, increment=0, acc=None, weight=4, mem=12, add=9, theta=8,
         vmin=-512, vmax=511, calc=None):
    """A parameter set; CALC_BITS as snn_neuron_engine computes it (max(MEM, ADD, CURRENT, THETA + 1) + 2)."""
    acc = mem if acc is None else acc
    calc = max(mem, add, acc if increment == 1 else 0, theta + 1) + 2 if calc is None else calc
    return dict(SPIKING=spiking, RESET_SUB=reset_sub, V_INIT_HALF=v_init_half, INCREMENT=increment, ACC_BITS=acc,
                WEIGHT_BITS=weight, MEM_BITS=mem, ADD_BITS=add, THETA_BITS=theta, CALC_BITS=calc,
                VMIN=s64(vmin), VMAX=s64(vmax))


CASES = {
    # widths A: MEM 12, ADD (bias) 9, THETA 8, clamp [-512, 511] (k = 8: vmax = 2**9 - 1)
    "spk-sub-init0-w": lane(),
    "spk-zero-half-w": lane(reset_sub=0, v_init_half=1),
    "spk-sub-half-w-calc40": lane(v_init_half=1, weight=8, calc=40),           # wider CALC than needed
    "out-w": lane(spiking=0, weight=6, vmin=0, vmax=0),                        # clamp range unchecked for outputs
    # widths B: MEM 6 at its full clamp range [-32, 31], ADD 4, THETA 5 (average pooling: unit increment)
    "spk-sub-half-unit": lane(v_init_half=1, increment=2, weight=2, mem=6, add=4, theta=5, vmin=-32, vmax=31),
    "spk-zero-init0-unit": lane(reset_sub=0, increment=2, weight=2, mem=6, add=4, theta=5, vmin=-32, vmax=31),
    # widths C: THETA == MEM (theta / 2 just fits), ACC == WEIGHT (no sign extension), bias wider than MEM
    "spk-sub-half-same": lane(v_init_half=1, weight=8, mem=8, add=10, theta=8, vmin=-128, vmax=127),
    # analog first layer: weight * pixel, registered; ACC = ADD = CURRENT_BITS
    "spk-zero-init0-prod-ext": lane(reset_sub=0, increment=1, acc=14, weight=4, mem=10, add=14, theta=7,
                                    vmin=-256, vmax=255),                      # ACC 14 > WEIGHT + 9: extend
    "spk-sub-half-prod-trunc": lane(v_init_half=1, increment=1, acc=10, weight=8, mem=9, add=10, theta=6,
                                    vmin=-128, vmax=127),                      # ACC 10 < WEIGHT + 9: truncate
    "out-prod-fit": lane(spiking=0, increment=1, acc=12, weight=3, mem=12, add=12, theta=2),   # ACC == WEIGHT + 9
}


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_neuron_lane(params):
    assert_passes("snn_neuron_lane", SRC, params, "cocotb_neuron_lane")


GOOD = lane()
CALC_MSG = "snn_neuron_lane: CALC_BITS ({c}) must exceed MEM_BITS ({m}), ADD_BITS ({a}) by 2 and THETA_BITS ({t}) by 3"
CLAMP_MSG = "snn_neuron_lane: clamp range [{lo}, {hi}] must contain 0 and fit MEM_BITS ({m})"
INC_MSG = "snn_neuron_lane: INCREMENT ({i}) must be 0..2, ACC_BITS ({a}), WEIGHT_BITS"


@pytest.mark.parametrize("params, message", [
    (dict(CALC_BITS=13), CALC_MSG.format(c=13, m=12, a=9, t=8)),                          # < MEM + 2
    (dict(ADD_BITS=13), CALC_MSG.format(c=14, m=12, a=13, t=8)),                          # < ADD + 2
    (dict(THETA_BITS=12), CALC_MSG.format(c=14, m=12, a=9, t=12)),                        # < THETA + 3
    (dict(CALC_BITS=65), CALC_MSG.format(c=65, m=12, a=9, t=8)),                          # > 64
    (dict(VMIN=s64(0)), CLAMP_MSG.format(lo=0, hi=511, m=12)),
    (dict(VMAX=s64(0)), CLAMP_MSG.format(lo=-512, hi=0, m=12)),
    (dict(VMIN=s64(-2049)), CLAMP_MSG.format(lo=-2049, hi=511, m=12)),
    (dict(VMAX=s64(2048)), CLAMP_MSG.format(lo=-512, hi=2048, m=12)),
    (dict(INCREMENT=-1), INC_MSG.format(i=-1, a=12)),
    (dict(INCREMENT=3), INC_MSG.format(i=3, a=12)),
    (dict(ACC_BITS=1), INC_MSG.format(i=0, a=1)),
    (dict(WEIGHT_BITS=1), INC_MSG.format(i=0, a=12)),
    (dict(THETA_BITS=1), INC_MSG.format(i=0, a=12)),
    (dict(V_INIT_HALF=1, THETA_BITS=11, MEM_BITS=10, VMIN=s64(-512), VMAX=s64(511)),
     "snn_neuron_lane: theta / 2 (10 bits) does not fit MEM_BITS (10)"),
], ids=["calc-lt-mem", "calc-lt-add", "calc-lt-theta", "calc65", "vmin0", "vmax0", "vmin-below-mem",
        "vmax-above-mem", "increment-1", "increment3", "acc1", "weight1", "theta1", "half-theta-wider"])
def test_neuron_lane_param_check(params, message):
    expect_param_error("snn_neuron_lane", SRC, dict(GOOD, **params), message)
