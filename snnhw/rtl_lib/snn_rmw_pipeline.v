// snnhw hardware library: read-modify-write pipeline with forwarding.
//
// The engines update memory words (membranes, input currents) one operation
// per cycle in five stages:
//   I  issue (issue_valid, issue_addr); the engine reads its weight ROM here
//   A  the word's read address goes to the RAM (read_en, read_addr)
//   B  the RAM's output register
//   C  the word arrives (acc_rdata); the engine computes the new value
//   D  the engine's registered write (d_valid, d_addr)
// A word read in stage A misses the writes of the three operations ahead of
// it (the one in stage D now, written at this clock edge, and the ones that
// reach stage D in the next two cycles). This module tracks them and gives
// stage C the word as it is after those writes (c_acc_old), so back-to-back
// updates of one word are exact. Only accumulating writes (c_acc_write:
// the stage-C operation writes c_acc_wdata back to the word it read) are
// forwarded; other writes (fire sweeps) never meet a read of the same word.
//
// Parameters
//   ADDR_W  word address width
//   DATA_W  word width (all lanes)
`default_nettype none
module snn_rmw_pipeline #(
    parameter integer ADDR_W = 1,
    parameter integer DATA_W = 1
) (
    input  wire              clk,
    input  wire              rst,
    // stage I: an operation on word issue_addr
    input  wire              issue_valid,
    input  wire [ADDR_W-1:0] issue_addr,
    // stage A: the RAM's read port
    output reg               read_en,
    output reg  [ADDR_W-1:0] read_addr,
    // stage B and C: the operation's progress
    output reg               b_valid,
    output reg  [ADDR_W-1:0] b_addr,
    output reg               c_valid,
    output reg  [ADDR_W-1:0] c_addr,
    // stage C: the word read (RAM output) and the accumulating write
    input  wire [DATA_W-1:0] acc_rdata,
    input  wire              c_acc_write,
    input  wire [DATA_W-1:0] c_acc_wdata,
    output wire [DATA_W-1:0] c_acc_old,
    // stage D: the engine's registered write
    output reg               d_valid,
    output reg  [ADDR_W-1:0] d_addr
);
`ifndef SYNTHESIS
    initial begin
        if (ADDR_W < 1 || DATA_W < 1) begin
            $error("snn_rmw_pipeline: ADDR_W (%0d) and DATA_W (%0d) must be >= 1", ADDR_W, DATA_W);
            $fatal(1, "snn_rmw_pipeline: bad parameters");
        end
    end
`endif

    reg              d_acc_write;          // stage D holds an accumulating write
    reg              b_fwd2, b_fwd3;       // the op two / three ahead of B writes B's word
    reg              c_fwd1, c_fwd2, c_fwd3;  // ... the op one / two / three ahead of C
    reg [DATA_W-1:0] f1_data, f2_data, f3_data;  // what the ops one / two / three ahead wrote

    assign c_acc_old = c_fwd1 ? f1_data : c_fwd2 ? f2_data : c_fwd3 ? f3_data : acc_rdata;

    always @(posedge clk) begin
        if (rst) begin
            read_en     <= 1'b0;
            b_valid     <= 1'b0;
            c_valid     <= 1'b0;
            d_valid     <= 1'b0;
            d_acc_write <= 1'b0;
        end else begin
            read_en     <= issue_valid;
            b_valid     <= read_en;
            c_valid     <= b_valid;
            d_valid     <= c_valid;
            d_acc_write <= c_acc_write;
        end
        read_addr <= issue_addr;
        b_addr    <= read_addr;
        c_addr    <= b_addr;
        d_addr    <= c_addr;
        b_fwd2    <= c_acc_write && (c_addr == read_addr);
        b_fwd3    <= d_acc_write && (d_addr == read_addr);
        c_fwd1    <= c_acc_write && (c_addr == b_addr);
        c_fwd2    <= b_fwd2;
        c_fwd3    <= b_fwd3;
        f1_data   <= c_acc_wdata;
        f2_data   <= f1_data;
        f3_data   <= f2_data;
    end
endmodule
`default_nettype wire
