"""snn_uart_tx (snnhw/rtl_lib/snn_uart_tx.v): back-to-back characters exactly 10 * DIVISOR cycles apart,
random producer gaps and resets against a cycle-accurate model of the line, cocotbext-uart's UartSink reading
exactly the bytes (cocotb_uart_tx.py), for DIVISOR 2, 4, 7 and 16; a loopback rx -> FIFO -> tx
(uart_loopback.v, cocotb_uart_loopback.py); the parameter check."""
import pytest

from harness import HERE, assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_uart_tx")
DIVISORS = [2, 4, 7, 16]


@pytest.mark.parametrize("divisor", DIVISORS, ids=[f"div{d}" for d in DIVISORS])
def test_uart_tx(divisor):
    assert_passes("snn_uart_tx", SRC, dict(DIVISOR=divisor), "cocotb_uart_tx")


@pytest.mark.parametrize("divisor", [5, 16], ids=["div5", "div16"])
def test_uart_loopback(divisor):
    """UartSource -> snn_uart_rx -> snn_fifo -> snn_uart_tx -> UartSink: every byte comes back, also when the
    sender is 3 % slow."""
    assert_passes("uart_loopback", lib_sources("snn_uart_rx", "snn_fifo", "snn_uart_tx") + [HERE / "uart_loopback.v"],
                  dict(DIVISOR=divisor), "cocotb_uart_loopback")


def test_uart_tx_param_check():
    expect_param_error("snn_uart_tx", SRC, dict(DIVISOR=1), "snn_uart_tx: DIVISOR (1) must be >= 2")
