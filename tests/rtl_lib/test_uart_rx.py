"""snn_uart_rx (snnhw/rtl_lib/snn_uart_rx.v): random bytes from cocotbext-uart's UartSource (nominal baud,
back to back and with gaps), +-3 % baud mismatch, exact start-to-m_valid and active timing, bad stop bits
and breaks (frame_error, no byte), glitch rejection, reset mid-character (cocotb_uart_rx.py), for DIVISOR
4, 5, 7 and 16; the parameter check. At DIVISOR 4 the receiver's tolerance is +2.7 % / -5 % (see the
module header), so that case runs +2.5 % / -3 %."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_uart_rx")
CASES = {4: "+0.025,-0.03", 5: "+0.03,-0.03", 7: "+0.03,-0.03", 16: "+0.03,-0.03"}


@pytest.mark.parametrize("divisor", list(CASES), ids=[f"div{d}" for d in CASES])
def test_uart_rx(divisor):
    assert_passes("snn_uart_rx", SRC, dict(DIVISOR=divisor), "cocotb_uart_rx",
                  extra_env={"SNNHW_UART_TOL": CASES[divisor]})


def test_uart_rx_param_check():
    expect_param_error("snn_uart_rx", SRC, dict(DIVISOR=3), "snn_uart_rx: DIVISOR (3) must be >= 4")
