// ============================================================================
// snn_rom_banked -- ROM split into one-block-RAM banks (snnhw RTL library, Verilog-2005)
//
// DEPTH words of WIDTH bits in BANKS = ceil(DEPTH / 2**BANK_AW) banks of
// 2**BANK_AW words (the last bank holds the rest), each an snn_rom loaded
// with $readmemh from its own file:
//     bank k  <-  INIT_PREFIX + ".b" + k in two decimal digits + ".hex"
// e.g. INIT_PREFIX = "mem/l6_weight": mem/l6_weight.b00.hex, .b01.hex, ...
// (three digits from bank 100 on, four from bank 1000 on: Python's
// f"{k:02d}"). Bank k holds the words k * 2**BANK_AW onwards; its file has
// as many lines as the bank has words. The last bank is as deep as its words
// (addressed by addr's low max(1, ceil(log2(words))) bits; a word beyond it
// reads undefined). The names are built in Verilog from the string parameter
// (checked in Verilator and Yosys: a parent's .INIT_PREFIX("...") or Yosys'
// chparam -set INIT_PREFIX "..." both work; Yosys 0.70's hierarchy -chparam
// does not take string values).
//
// Reading takes three cycles: the bank's block RAM (read register), a
// register after every bank (placed next to its block RAM), then the bank
// multiplexer into the output register. The bank registers keep the block
// RAMs' slow clock-to-output and the long routes to a multiplexer spread over
// the device in different cycles. Each bank is an snn_rom with OUTREG = 1 and
// the default BLOCK_MIN_BITS, so a bank of at least 2048 bits is marked
// rom_style = "block" and a smaller one (a short last bank) is left to the tool.
//
// Parameters
//   WIDTH        bits per word (>= 1)
//   DEPTH        words (>= 1, <= 2**AW; at most 10000 banks)
//   AW           address bits (> BANK_AW)
//   BANK_AW      address bits of a bank: banks of 2**BANK_AW words (>= 1)
//   INIT_PREFIX  file name of the banks without ".bNN.hex" (not empty)
//
// Latency: 3 cycles from addr/re to data.
//
// Interfaces
//   clock     : clk
//   read port : re, addr in (bank addr[AW-1:BANK_AW], word in the bank
//               addr[BANK_AW-1:0]); data out. re = 0 holds the banks' read
//               registers; the later registers shift every cycle.
// ============================================================================
`default_nettype none
module snn_rom_banked #(
    parameter integer WIDTH       = 8,
    parameter integer DEPTH       = 16,
    parameter integer AW          = 4,
    parameter integer BANK_AW     = 2,
    parameter         INIT_PREFIX = "rom"
) (
    // clock
    input  wire             clk,
    // read port: data is the word at addr three cycles after re
    input  wire             re,
    input  wire [AW-1:0]    addr,
    output reg  [WIDTH-1:0] data
);
    localparam integer MAX_BANKS  = 10000;                               // four-digit file numbers
    localparam integer BANK_WORDS = 1 << BANK_AW;
    localparam integer BANKS      = (DEPTH + BANK_WORDS - 1) / BANK_WORDS;
    localparam integer SELW       = (AW > BANK_AW) ? AW - BANK_AW : 1;  // bank select bits
    // banks built: all of them; one when the parameters are refused (the check below
    // stops the simulation; a huge bad bank count would only slow elaboration down)
    localparam integer GEN_BANKS  = (BANKS >= 1 && BANKS <= MAX_BANKS) ? BANKS : 1;
    localparam integer LAST_WORDS = (DEPTH > (GEN_BANKS - 1) * BANK_WORDS) ?
                                    DEPTH - (GEN_BANKS - 1) * BANK_WORDS : 1;   // words of the last bank

`ifndef SYNTHESIS
    initial begin
        if (WIDTH < 1) begin
            $error("snn_rom_banked: WIDTH (%0d) must be >= 1", WIDTH);
            $fatal(1, "snn_rom_banked: bad parameters");
        end
        if (DEPTH < 1) begin
            $error("snn_rom_banked: DEPTH (%0d) must be >= 1", DEPTH);
            $fatal(1, "snn_rom_banked: bad parameters");
        end
        if (BANK_AW < 1) begin
            $error("snn_rom_banked: BANK_AW (%0d) must be >= 1", BANK_AW);
            $fatal(1, "snn_rom_banked: bad parameters");
        end
        if (AW <= BANK_AW) begin
            $error("snn_rom_banked: AW (%0d) must be > BANK_AW (%0d): no bank select bits", AW, BANK_AW);
            $fatal(1, "snn_rom_banked: bad parameters");
        end
        if (AW < 31 && DEPTH > (1 << AW)) begin
            $error("snn_rom_banked: AW (%0d) is too narrow for DEPTH (%0d) words", AW, DEPTH);
            $fatal(1, "snn_rom_banked: bad parameters");
        end
        if (BANKS > MAX_BANKS) begin
            $error("snn_rom_banked: %0d banks: at most %0d (four-digit file numbers)", BANKS, MAX_BANKS);
            $fatal(1, "snn_rom_banked: bad parameters");
        end
        if (INIT_PREFIX == "") begin
            $error("snn_rom_banked: INIT_PREFIX must name the bank files");
            $fatal(1, "snn_rom_banked: bad parameters");
        end
    end
`endif

    wire [WIDTH-1:0] bank_data [0:GEN_BANKS-1];   // registered bank outputs (cycle 2)
    genvar k;
    generate
        for (k = 0; k < GEN_BANKS; k = k + 1) begin : g_bank
            localparam integer WORDS = (k == GEN_BANKS - 1) ? LAST_WORDS : BANK_WORDS;
            localparam integer BAW   = (WORDS > 1) ? $clog2(WORDS) : 1;   // address bits of this bank
            // decimal digits of k as characters
            localparam integer C0 = 48 + k % 10;            // "0" + digit
            localparam integer C1 = 48 + (k / 10) % 10;
            localparam integer C2 = 48 + (k / 100) % 10;
            localparam integer C3 = 48 + (k / 1000) % 10;
            localparam [7:0] D0 = C0[7:0];
            localparam [7:0] D1 = C1[7:0];
            localparam [7:0] D2 = C2[7:0];
            localparam [7:0] D3 = C3[7:0];
            if (k < 100) begin : g_2digits
                snn_rom #(.WIDTH(WIDTH), .DEPTH(WORDS), .AW(BAW), .OUTREG(1),
                          .INIT_FILE({INIT_PREFIX, ".b", D1, D0, ".hex"})) u_bank (
                    .clk(clk), .re(re), .addr(addr[BAW-1:0]), .data(bank_data[k]));
            end else if (k < 1000) begin : g_3digits
                snn_rom #(.WIDTH(WIDTH), .DEPTH(WORDS), .AW(BAW), .OUTREG(1),
                          .INIT_FILE({INIT_PREFIX, ".b", D2, D1, D0, ".hex"})) u_bank (
                    .clk(clk), .re(re), .addr(addr[BAW-1:0]), .data(bank_data[k]));
            end else begin : g_4digits
                snn_rom #(.WIDTH(WIDTH), .DEPTH(WORDS), .AW(BAW), .OUTREG(1),
                          .INIT_FILE({INIT_PREFIX, ".b", D3, D2, D1, D0, ".hex"})) u_bank (
                    .clk(clk), .re(re), .addr(addr[BAW-1:0]), .data(bank_data[k]));
            end
        end
    endgenerate

    // the bank of the word, delayed to meet its data
    reg [SELW-1:0] bank1, bank2;
    always @(posedge clk) begin
        bank1 <= addr[AW-1:AW-SELW];
        bank2 <= bank1;
    end

    // bank multiplexer into the output register; no such bank (never addressed): zero
    localparam [WIDTH-1:0] NO_BANK = 0;
    integer b;
    always @(posedge clk) begin
        data <= NO_BANK;
        for (b = 0; b < GEN_BANKS; b = b + 1)
            if (bank2 == b[SELW-1:0]) data <= bank_data[b];
    end
endmodule
`default_nettype wire
