"""snn_rmw_pipeline (snnhw/rtl_lib/snn_rmw_pipeline.v): random increments of random words against a Python
memory (cocotb_rmw_pipeline.py), with many back-to-back operations on one word so the forwards of the ops one,
two and three ahead (and their priority) all matter. The memory is the library's snn_ram with OUTREG = 1,
wired as snn_neuron_engine wires its membrane RAM (read in stage A, written at stage D from a register loaded
in stage C), in a small wrapper written at test time. Every parameter check."""
import pytest

from harness import assert_passes, expect_param_error, lib_sources

SRC = lib_sources("snn_rmw_pipeline")
CASES = [dict(ADDR_W=2, DATA_W=8), dict(ADDR_W=2, DATA_W=24), dict(ADDR_W=1, DATA_W=1), dict(ADDR_W=5, DATA_W=13)]

WRAPPER = """\
// test bench wrapper: snn_rmw_pipeline and its RAM, as in snn_neuron_engine (membrane RAM, OUTREG = 1)
`default_nettype none
module snn_rmw_tb #(
    parameter integer ADDR_W = 2,
    parameter integer DATA_W = 8
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              issue_valid,
    input  wire [ADDR_W-1:0] issue_addr,
    output wire              read_en,
    output wire [ADDR_W-1:0] read_addr,
    output wire              b_valid,
    output wire [ADDR_W-1:0] b_addr,
    output wire              c_valid,
    output wire [ADDR_W-1:0] c_addr,
    input  wire              c_acc_write,
    input  wire [DATA_W-1:0] c_acc_wdata,
    output wire [DATA_W-1:0] c_acc_old,
    output wire              d_valid,
    output wire [ADDR_W-1:0] d_addr,
    output wire [DATA_W-1:0] acc_rdata
);
    reg              we;
    reg [DATA_W-1:0] wdata;
    snn_rmw_pipeline #(.ADDR_W(ADDR_W), .DATA_W(DATA_W)) u_rmw (
        .clk(clk), .rst(rst), .issue_valid(issue_valid), .issue_addr(issue_addr),
        .read_en(read_en), .read_addr(read_addr), .b_valid(b_valid), .b_addr(b_addr),
        .c_valid(c_valid), .c_addr(c_addr), .acc_rdata(acc_rdata), .c_acc_write(c_acc_write),
        .c_acc_wdata(c_acc_wdata), .c_acc_old(c_acc_old), .d_valid(d_valid), .d_addr(d_addr));
    snn_ram #(.WIDTH(DATA_W), .DEPTH(1 << ADDR_W), .AW(ADDR_W), .OUTREG(1)) u_ram (
        .clk(clk), .we(we), .we_all(1'b0), .waddr(d_addr), .wdata(wdata), .re(read_en), .raddr(read_addr), .rdata(acc_rdata));
    always @(posedge clk) begin
        if (rst) we <= 1'b0;
        else     we <= c_valid;
        wdata <= c_acc_wdata;
    end
endmodule
`default_nettype wire
"""


def _id(p):
    return "-".join(f"{k}{v}" for k, v in p.items())


@pytest.fixture(scope="module")
def tb_sources(tmp_path_factory):
    path = tmp_path_factory.mktemp("rmw_tb") / "snn_rmw_tb.v"
    path.write_text(WRAPPER)
    return [path] + lib_sources("snn_rmw_pipeline", "snn_ram", "snn_delay")


@pytest.mark.parametrize("params", CASES, ids=_id)
def test_rmw_pipeline(params, tb_sources):
    assert_passes("snn_rmw_tb", tb_sources, params, "cocotb_rmw_pipeline")


@pytest.mark.parametrize("params, message", [
    (dict(ADDR_W=0, DATA_W=8), "snn_rmw_pipeline: ADDR_W (0) and DATA_W (8) must be >= 1"),
    (dict(ADDR_W=4, DATA_W=0), "snn_rmw_pipeline: ADDR_W (4) and DATA_W (0) must be >= 1"),
], ids=["addr0", "data0"])
def test_rmw_pipeline_param_check(params, message):
    expect_param_error("snn_rmw_pipeline", SRC, params, message)
