// ============================================================================
// snn_ram -- simple dual-port RAM (snnhw RTL library, Verilog-2005)
//
// One synchronous write port, one synchronous read port, one clock.
//
// OUTREG = 0: rdata is the word read at the previous clock edge (one-cycle
// latency); OUTREG = 1: a second register after the memory (two-cycle
// latency), so the output multiplexer of a RAM built from several block RAMs
// ends in a register instead of in the reader's logic; OUTREG = 2: a third
// register (three-cycle latency).
//
// BANK_AW > 0 (needs OUTREG = 2) splits the RAM into banks of 2**BANK_AW
// words, one block RAM deep each, and registers every bank's output before the
// bank multiplexer: the block RAMs' clock-to-output and the routes to a
// multiplexer spread over many block RAMs then fall into different cycles.
// The last bank holds the remaining words (it is still declared 2**BANK_AW
// deep). Banked RAMs are always marked ram_style = "block".
//
// we_all (with we) writes wdata at offset waddr mod 2**BANK_AW of every bank
// at once: a RAM of N words is cleared in 2**BANK_AW cycles instead of N
// (snn_maxpool_gate's per-image clear). A flat RAM (BANK_AW = 0) is one bank:
// we_all writes waddr as a plain write does.
//
// BLOCK = 1 marks the array ram_style = "block" (Yosys and vendor tools infer
// block RAM); BLOCK = 2 marks it ram_style = "distributed" (LUT RAM: a few
// hundred wide words that would fill block RAMs a fraction deep, such as the
// membrane banks of kernel columns in parallel); BLOCK = 0 (shallow memories)
// carries no attribute and leaves the choice (LUT RAM or flip-flops) to the tool.
//
// The engines never use the word read in a cycle in which the same address is
// written (they forward in-flight writes themselves), hence no_rw_check: no
// collision-bypass logic around the memory. Such a read returns an undefined
// word. re = 0 holds the read register (the later output registers shift
// every cycle).
//
// Parameters
//   WIDTH    bits per word (>= 1)
//   DEPTH    words (>= 1, <= 2**AW)
//   AW       address bits (>= 1; max(1, ceil(log2(DEPTH))) is lint-clean, a
//            wider AW works but Verilator flags its unused bits)
//   OUTREG   registers after the memory's read register: 0, 1 or 2
//   BLOCK    1: ram_style = "block"; 2: ram_style = "distributed"; 0: no attribute
//            (0 and 2: flat RAM only)
//   BANK_AW  0: one memory; > 0: banks of 2**BANK_AW words (needs OUTREG = 2
//            and AW > BANK_AW)
//
// Latency: OUTREG + 1 cycles from raddr/re to rdata.
//
// Interfaces
//   clock      : clk
//   write port : we, waddr, wdata (written at the clock edge where we = 1);
//                we_all: the write goes to every bank (see above), tie to 0
//                when unused
//   read port  : re, raddr in; rdata out
// ============================================================================
`default_nettype none
module snn_ram #(
    parameter integer WIDTH   = 8,
    parameter integer DEPTH   = 16,
    parameter integer AW      = 4,
    parameter integer OUTREG  = 0,
    parameter integer BLOCK   = 1,
    parameter integer BANK_AW = 0
) (
    // clock
    input  wire             clk,
    // write port
    input  wire             we,
    input  wire             we_all,
    input  wire [AW-1:0]    waddr,
    input  wire [WIDTH-1:0] wdata,
    // read port: rdata is the word at raddr OUTREG + 1 cycles after re
    input  wire             re,
    input  wire [AW-1:0]    raddr,
    output wire [WIDTH-1:0] rdata
);
`ifndef SYNTHESIS
    initial begin
        if (WIDTH < 1) begin
            $error("snn_ram: WIDTH (%0d) must be >= 1", WIDTH);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (DEPTH < 1) begin
            $error("snn_ram: DEPTH (%0d) must be >= 1", DEPTH);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (AW < 1) begin
            $error("snn_ram: AW (%0d) must be >= 1", AW);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (AW < 31 && DEPTH > (1 << AW)) begin
            $error("snn_ram: AW (%0d) is too narrow for DEPTH (%0d) words", AW, DEPTH);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (OUTREG < 0 || OUTREG > 2) begin
            $error("snn_ram: OUTREG (%0d) must be 0, 1 or 2", OUTREG);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (BLOCK < 0 || BLOCK > 2) begin
            $error("snn_ram: BLOCK (%0d) must be 0, 1 or 2", BLOCK);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (BANK_AW < 0) begin
            $error("snn_ram: BANK_AW (%0d) must be >= 0", BANK_AW);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (BANK_AW > 0 && OUTREG != 2) begin
            $error("snn_ram: BANK_AW > 0 needs OUTREG = 2 (OUTREG is %0d)", OUTREG);
            $fatal(1, "snn_ram: bad parameters");
        end
        if (BANK_AW > 0 && AW <= BANK_AW) begin
            $error("snn_ram: BANK_AW (%0d) must be < AW (%0d): no bank select bits", BANK_AW, AW);
            $fatal(1, "snn_ram: bad parameters");
        end
    end
`endif

    generate
        if (BANK_AW > 0) begin : g_banked
            localparam integer BANK_WORDS = 1 << BANK_AW;
            localparam integer BANKS      = (DEPTH + BANK_WORDS - 1) >> BANK_AW;
            localparam integer SELW       = AW - BANK_AW;   // bank select bits
            wire [WIDTH-1:0] bank_q [0:BANKS-1];            // registered bank outputs (cycle 2)
            genvar b;
            for (b = 0; b < BANKS; b = b + 1) begin : g_bank
                localparam [SELW-1:0] BANK = b;
                (* ram_style = "block", no_rw_check *)
                reg [WIDTH-1:0] mem [0:BANK_WORDS-1];
                reg [WIDTH-1:0] q0, q1;
                always @(posedge clk) begin
                    if (we && (we_all || waddr[AW-1:BANK_AW] == BANK)) mem[waddr[BANK_AW-1:0]] <= wdata;
                end
                always @(posedge clk) begin
                    if (re) q0 <= mem[raddr[BANK_AW-1:0]];
                end
                always @(posedge clk) q1 <= q0;
                assign bank_q[b] = q1;
            end
            reg [SELW-1:0] bank1, bank2;          // the bank of the word, delayed to meet its data
            always @(posedge clk) begin
                bank1 <= raddr[AW-1:BANK_AW];
                bank2 <= bank1;
            end
            reg [WIDTH-1:0] bank_mux, rd2;
            integer k;
            always @(*) begin
                bank_mux = {WIDTH{1'b0}};
                for (k = 0; k < BANKS; k = k + 1)
                    if (bank2 == k[SELW-1:0]) bank_mux = bank_q[k];
            end
            always @(posedge clk) rd2 <= bank_mux;
            assign rdata = rd2;
        end else begin : g_flat
            reg [WIDTH-1:0] rd0;
            wire unused_we_all = we_all;   // one bank: a write to all banks is a plain write
            // separate ifs, not else-if (Yosys would add a genblk scope to the memory's path)
            if (BLOCK == 1) begin : g_block
                (* ram_style = "block", no_rw_check *)
                reg [WIDTH-1:0] mem [0:DEPTH-1];
                always @(posedge clk) begin
                    if (we) mem[waddr] <= wdata;
                end
                always @(posedge clk) begin
                    if (re) rd0 <= mem[raddr];
                end
            end
            if (BLOCK == 2) begin : g_lutram
                (* ram_style = "distributed", no_rw_check *)
                reg [WIDTH-1:0] mem [0:DEPTH-1];
                always @(posedge clk) begin
                    if (we) mem[waddr] <= wdata;
                end
                always @(posedge clk) begin
                    if (re) rd0 <= mem[raddr];
                end
            end
            if (BLOCK == 0) begin : g_small
                (* no_rw_check *)
                reg [WIDTH-1:0] mem [0:DEPTH-1];
                always @(posedge clk) begin
                    if (we) mem[waddr] <= wdata;
                end
                always @(posedge clk) begin
                    if (re) rd0 <= mem[raddr];
                end
            end
            snn_delay #(.WIDTH(WIDTH), .STAGES(OUTREG)) u_outreg (.clk(clk), .d(rd0), .q(rdata));
        end
    endgenerate
endmodule
`default_nettype wire
