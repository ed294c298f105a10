// snnhw hardware library: spike tap of one layer's output stream (simulation
// and debugging; instantiated by snn_top only under `define SNNHW_TAPS).
//
// Watches a token stream {eos, last, address} and reports every spike that
// passes (tap_valid) with its 0-based time step and its neuron index in
// C-H-W order, and every end of step (tap_eos). The step counter restarts
// after a token flagged last.
//
// Parameters
//   MAP           1: address {c, y, x} of a HEIGHT x WIDTH map; 0: {index}
//   CW, YW, XW    address field widths (YW, XW unused when MAP = 0)
//   HEIGHT, WIDTH map size (MAP = 1)
//   ADDR_W        width of the flat neuron index
//   STEP_W        width of the step counter
`default_nettype none
module snn_spike_tap #(
    parameter integer MAP    = 1,
    parameter integer CW     = 1,
    parameter integer YW     = 1,
    parameter integer XW     = 1,
    parameter integer HEIGHT = 1,
    parameter integer WIDTH  = 1,
    parameter integer ADDR_W = 1,
    parameter integer STEP_W = 1
) (
    input  wire                         clk,
    input  wire                         rst,
    // the watched stream
    input  wire                         valid,
    input  wire                         ready,
    input  wire [CW+(MAP != 0 ? YW+XW : 0)+1:0] data,
    // what passed
    output wire                         tap_valid,
    output wire                         tap_eos,
    output wire [STEP_W-1:0]            tap_step,
    output wire [ADDR_W-1:0]            tap_addr
);
    localparam integer TOKEN_W = CW + (MAP != 0 ? YW + XW : 0) + 2;

`ifndef SYNTHESIS
    initial begin
        if (ADDR_W < 1 || ADDR_W > 31 || STEP_W < 1 || HEIGHT < 1 || WIDTH < 1) begin
            $error("snn_spike_tap: ADDR_W (%0d) must be 1..31, STEP_W (%0d), HEIGHT, WIDTH >= 1", ADDR_W, STEP_W);
            $fatal(1, "snn_spike_tap: bad parameters");
        end
    end
`endif

    wire fire   = valid && ready;
    wire is_eos = data[TOKEN_W-1];
    reg  [STEP_W-1:0] step;
    always @(posedge clk) begin
        if (rst) step <= {STEP_W{1'b0}};
        else if (fire && is_eos) step <= data[TOKEN_W-2] ? {STEP_W{1'b0}} : step + 1'b1;
    end

    wire [31:0] flat;
    generate
        if (MAP != 0) begin : g_map
            wire [31:0] c32 = {{(32 - CW){1'b0}}, data[CW+YW+XW-1:YW+XW]};
            wire [31:0] y32 = {{(32 - YW){1'b0}}, data[YW+XW-1:XW]};
            wire [31:0] x32 = {{(32 - XW){1'b0}}, data[XW-1:0]};
            assign flat = (c32 * HEIGHT + y32) * WIDTH + x32;
        end else begin : g_vector
            assign flat = {{(32 - CW){1'b0}}, data[CW-1:0]};
        end
    endgenerate
    wire unused_flat = &{1'b0, flat[31:ADDR_W], 1'b0};   // zero by construction when ADDR_W < 32

    assign tap_valid = fire && !is_eos;
    assign tap_eos   = fire && is_eos;
    assign tap_step  = step;
    assign tap_addr  = flat[ADDR_W-1:0];
endmodule
`default_nettype wire
