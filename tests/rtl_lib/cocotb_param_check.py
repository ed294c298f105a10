"""A cocotb test that only runs the clock: a module's parameter check fires at time 0."""
import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def parameters_accepted(dut):
    await Timer(10, unit="ns")
