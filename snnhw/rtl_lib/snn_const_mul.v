// snnhw hardware library: multiplication by a constant as shifts and adds.
//
// y = x * K modulo 2**OUT_WIDTH, for an unsigned x and a constant K >= 0.
// The product is a chain of shifted adds and subtracts over the
// non-adjacent form (NAF) of K, the signed-digit form with the fewest
// non-zero digits: K = NAF_PLUS - NAF_MINUS, no two adjacent digits non-zero.
// Address paths use this instead of `*`, which synthesis tools map to an
// unregistered hard multiplier (MULT18X18D on ECP5); the adds stay in the
// fabric's carry chains. Combinational, no latency.
//
// Parameters
//   IN_WIDTH   bits of x (unsigned)
//   OUT_WIDTH  bits of y (the product is truncated to them)
//   K          the constant, 0 <= K < 2**31
`default_nettype none
module snn_const_mul #(
    parameter integer IN_WIDTH  = 8,
    parameter integer OUT_WIDTH = 32,
    parameter integer K         = 1
) (
    input  wire [IN_WIDTH-1:0]  x,
    output wire [OUT_WIDTH-1:0] y
);
    // NAF of K: half = K >> 1, three_halves = K + half; the bits where they
    // differ are the non-zero digits, positive where three_halves has the 1.
    localparam [31:0] K32          = K;
    localparam [63:0] K64          = {32'd0, K32};
    localparam [63:0] HALF         = K64 >> 1;
    localparam [63:0] THREE_HALVES = K64 + HALF;
    localparam [63:0] DIGITS       = HALF ^ THREE_HALVES;
    localparam [63:0] NAF_PLUS     = THREE_HALVES & DIGITS;
    localparam [63:0] NAF_MINUS    = HALF & DIGITS;

`ifndef SYNTHESIS
    initial begin
        if (IN_WIDTH < 1 || OUT_WIDTH < 1) begin
            $error("snn_const_mul: IN_WIDTH (%0d) and OUT_WIDTH (%0d) must be >= 1", IN_WIDTH, OUT_WIDTH);
            $fatal(1, "snn_const_mul: bad parameters");
        end
        if (K < 0) begin
            $error("snn_const_mul: K (%0d) must be >= 0", K);
            $fatal(1, "snn_const_mul: bad parameters");
        end
    end
`endif

    // internal widths stay legal for any parameters, so the check above can report bad ones
    localparam integer IW = IN_WIDTH < 1 ? 1 : IN_WIDTH;
    localparam integer OW = OUT_WIDTH < 1 ? 1 : OUT_WIDTH;

    // x zero-extended (or truncated) to the product's width
    wire [OW-1:0] x_ext;
    generate
        if (IW < OW) begin : g_extend
            assign x_ext = {{(OW - IW){1'b0}}, x};
        end else if (IW == OW) begin : g_same
            assign x_ext = x;
        end else begin : g_truncate
            assign x_ext = x[OW-1:0];
            wire unused_x_high = &{1'b0, x[IW-1:OW], 1'b0};
        end
    endgenerate
    wire unused_x_ext = &{1'b0, x_ext, 1'b0};   // K = 0 uses no bit of x

    // partial[i] = x * (the NAF digits of K below bit i); partial[OW] = y
    wire [(OW + 1) * OW - 1:0] partial;
    assign partial[OW-1:0] = {OW{1'b0}};
    genvar i;
    generate
        for (i = 0; i < OW; i = i + 1) begin : g_digit
            wire [OW-1:0] sum_in = partial[i * OW +: OW];
            wire [OW-1:0] sum_out;
            if (i < 64 && NAF_PLUS[i % 64]) begin : g_plus
                assign sum_out = sum_in + (x_ext << i);
            end else if (i < 64 && NAF_MINUS[i % 64]) begin : g_minus
                assign sum_out = sum_in - (x_ext << i);
            end else begin : g_zero
                assign sum_out = sum_in;
            end
            assign partial[(i + 1) * OW +: OW] = sum_out;
        end
    endgenerate
    assign y = partial[OW * OW +: OW];
endmodule
`default_nettype wire
