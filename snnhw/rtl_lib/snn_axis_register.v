// ============================================================================
// snn_axis_register -- a register slice for a valid/ready stream (snnhw RTL
// library, Verilog-2005)
//
// A skid buffer: m_valid, m_data and s_ready all come from registers, so no
// combinational path crosses the slice in either direction, and a beat can
// pass every cycle. snn_top puts one on each AXI4-Stream port so that the
// paths from and to the user's logic end at a register (timing at the
// design's boundary does not depend on what is attached to it).
//
// Parameters
//   WIDTH   bits of a beat (>= 1): the stream's tdata with its sideband
//           (tlast, tuser, configuration sampled with the beat)
//
// Latency: one cycle from an accepted s beat to m_valid; two beats of storage.
//
// Interfaces
//   clock, reset : clk, rst (synchronous, active high; empties the slice)
//   slave        : s_valid, s_ready, s_data
//   master       : m_valid, m_ready, m_data
// ============================================================================
`default_nettype none
module snn_axis_register #(
    parameter integer WIDTH = 8
) (
    // clock and reset
    input  wire             clk,
    input  wire             rst,
    // slave stream
    input  wire             s_valid,
    output wire             s_ready,
    input  wire [WIDTH-1:0] s_data,
    // master stream
    output wire             m_valid,
    input  wire             m_ready,
    output wire [WIDTH-1:0] m_data
);
`ifndef SYNTHESIS
    initial begin
        if (WIDTH < 1) begin
            $error("snn_axis_register: WIDTH (%0d) must be >= 1", WIDTH);
            $fatal(1, "snn_axis_register: bad parameters");
        end
    end
`endif

    reg             main_valid;  // the beat offered on m_*
    reg [WIDTH-1:0] main_data;
    reg             skid_valid;  // a beat taken while m_* was stalled
    reg [WIDTH-1:0] skid_data;

    // s_ready is registered: it only waits for the skid register to drain
    assign s_ready = !skid_valid;
    assign m_valid = main_valid;
    assign m_data  = main_data;

    always @(posedge clk) begin
        if (rst) begin
            main_valid <= 1'b0;
            skid_valid <= 1'b0;
        end else if (!main_valid || m_ready) begin
            // the main register is free (or its beat leaves now): refill it, the skid beat first
            if (skid_valid) begin
                main_data  <= skid_data;
                skid_valid <= 1'b0;
            end else begin
                main_data  <= s_data;
            end
            main_valid <= skid_valid || s_valid;
        end else if (s_valid && !skid_valid) begin
            // m_* stalled with a beat in the main register: park the incoming beat
            skid_data  <= s_data;
            skid_valid <= 1'b1;
        end
    end
endmodule
`default_nettype wire
