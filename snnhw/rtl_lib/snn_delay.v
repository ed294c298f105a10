// ============================================================================
// snn_delay -- a chain of STAGES registers (snnhw RTL library, Verilog-2005)
//
// q is d delayed by STAGES clock cycles; STAGES = 0 makes it a wire. snn_rom
// and snn_ram use it for the output registers after a memory's read register
// (their OUTREG parameter). No reset and no enable: the registers shift every
// cycle.
//
// Parameters
//   WIDTH   bits of d and q (>= 1)
//   STAGES  number of registers (>= 0)
//
// Latency: STAGES cycles.
//
// Interfaces
//   clock : clk
//   data  : d in, q out
// ============================================================================
`default_nettype none
module snn_delay #(
    parameter integer WIDTH  = 8,
    parameter integer STAGES = 1
) (
    // clock
    input  wire             clk,
    // data: q(t) = d(t - STAGES)
    input  wire [WIDTH-1:0] d,
    output wire [WIDTH-1:0] q
);
`ifndef SYNTHESIS
    initial begin
        if (WIDTH < 1) begin
            $error("snn_delay: WIDTH (%0d) must be >= 1", WIDTH);
            $fatal(1, "snn_delay: bad parameters");
        end
        if (STAGES < 0) begin
            $error("snn_delay: STAGES (%0d) must be >= 0", STAGES);
            $fatal(1, "snn_delay: bad parameters");
        end
    end
`endif

    // tap[i] is d delayed by i cycles
    wire [WIDTH-1:0] tap [0:STAGES];
    assign tap[0] = d;
    genvar i;
    generate
        for (i = 0; i < STAGES; i = i + 1) begin : g_stage
            reg [WIDTH-1:0] r;
            always @(posedge clk) r <= tap[i];
            assign tap[i + 1] = r;
        end
    endgenerate
    assign q = tap[STAGES];
    generate
        if (STAGES == 0) begin : g_wire
            wire unused_clk = clk;   // no register: the clock is not used
        end
    endgenerate
endmodule
`default_nettype wire
