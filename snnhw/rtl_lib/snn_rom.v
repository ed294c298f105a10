// ============================================================================
// snn_rom -- read-only memory loaded from a hex file (snnhw RTL library, Verilog-2005)
//
// A table initialised with $readmemh from INIT_FILE (no file: "" leaves it
// undefined), read synchronously. OUTREG = 0: one-cycle latency; OUTREG = 1
// or 2: one or two more registers after the memory (two- or three-cycle
// latency, see snn_ram).
//
// Tables of at least BLOCK_MIN_BITS bits (WIDTH * DEPTH) are marked
// rom_style = "block" so they map to block RAM; smaller ones (per-channel bias
// and threshold tables) carry no attribute, so every tool builds them from
// LUTs (no "distributed" attribute: Yosys reads that as LUT *RAM*, which ECP5
// and iCE40 cannot use for a ROM).
//
// Parameters
//   WIDTH           bits per word (>= 1)
//   DEPTH           words (>= 1, <= 2**AW)
//   AW              address bits (>= 1; max(1, ceil(log2(DEPTH))) is lint-clean,
//                   a wider AW works but Verilator flags its unused bits)
//   BLOCK_MIN_BITS  smallest table (bits) marked rom_style = "block" (>= 0)
//   OUTREG          registers after the memory's read register: 0, 1 or 2
//   INIT_FILE       $readmemh file (a path relative to the simulator's or the
//                   synthesis tool's working directory), "" for none
//
// Latency: OUTREG + 1 cycles from addr/re to data.
//
// Interfaces
//   clock     : clk
//   read port : re, addr in; data out (re = 0 holds the read register; the
//               OUTREG registers shift every cycle)
// ============================================================================
`default_nettype none
module snn_rom #(
    parameter integer WIDTH          = 8,
    parameter integer DEPTH          = 16,
    parameter integer AW             = 4,
    parameter integer BLOCK_MIN_BITS = 2048,
    parameter integer OUTREG         = 0,
    parameter         INIT_FILE      = ""
) (
    // clock
    input  wire             clk,
    // read port: data is the word at addr OUTREG + 1 cycles after re
    input  wire             re,
    input  wire [AW-1:0]    addr,
    output wire [WIDTH-1:0] data
);
`ifndef SYNTHESIS
    initial begin
        if (WIDTH < 1) begin
            $error("snn_rom: WIDTH (%0d) must be >= 1", WIDTH);
            $fatal(1, "snn_rom: bad parameters");
        end
        if (DEPTH < 1) begin
            $error("snn_rom: DEPTH (%0d) must be >= 1", DEPTH);
            $fatal(1, "snn_rom: bad parameters");
        end
        if (AW < 1) begin
            $error("snn_rom: AW (%0d) must be >= 1", AW);
            $fatal(1, "snn_rom: bad parameters");
        end
        if (AW < 31 && DEPTH > (1 << AW)) begin
            $error("snn_rom: AW (%0d) is too narrow for DEPTH (%0d) words", AW, DEPTH);
            $fatal(1, "snn_rom: bad parameters");
        end
        if (OUTREG < 0 || OUTREG > 2) begin
            $error("snn_rom: OUTREG (%0d) must be 0, 1 or 2", OUTREG);
            $fatal(1, "snn_rom: bad parameters");
        end
        if (BLOCK_MIN_BITS < 0) begin
            $error("snn_rom: BLOCK_MIN_BITS (%0d) must be >= 0", BLOCK_MIN_BITS);
            $fatal(1, "snn_rom: bad parameters");
        end
    end
`endif

    reg [WIDTH-1:0] rd0;   // the read register
    generate
        if (WIDTH * DEPTH >= BLOCK_MIN_BITS) begin : g_block
            (* rom_style = "block" *)
            reg [WIDTH-1:0] mem [0:DEPTH-1];
            initial begin
                if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
            end
            always @(posedge clk) begin
                if (re) rd0 <= mem[addr];
            end
        end else begin : g_small
            reg [WIDTH-1:0] mem [0:DEPTH-1];   // small table: left to the tool (LUTs)
            initial begin
                if (INIT_FILE != "") $readmemh(INIT_FILE, mem);
            end
            always @(posedge clk) begin
                if (re) rd0 <= mem[addr];
            end
        end
    endgenerate
    snn_delay #(.WIDTH(WIDTH), .STAGES(OUTREG)) u_outreg (.clk(clk), .d(rd0), .q(data));
endmodule
`default_nettype wire
