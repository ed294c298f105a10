// snnhw hardware library: the arithmetic of one neuron lane (stage C).
//
// Scatter (an input event): acc_new = acc_old + increment, where the
// increment is the weight (INCREMENT = 0), the weight times the pixel
// (INCREMENT = 1, analog first layer; the product is registered from stage
// B into stage C) or 1 in the event's own lane (INCREMENT = 2, average
// pooling).
// Fire sweep (numeric contract): v1 = v + add (add: the bias, or the input
// current of the analog layer), computed in CALC_BITS so nothing overflows.
//   SPIKING = 1: d1 = v + add - theta through one carry-save layer and one
//     carry chain; fire = step && lane_exists && d1 >= 0; the new membrane is
//     clamp(d1) (RESET_SUB = 1) or 0 (RESET_SUB = 0) when firing, clamp(v1)
//     otherwise, with clamp to [VMIN, VMAX]; reinit writes v_init (theta / 2
//     when V_INIT_HALF = 1, else 0).
//   SPIKING = 0 (output layer): no firing; potential = v1, the new membrane
//     is v1, or 0 on reinit.
// Combinational except for the registered analog product.
//
// Parameters
//   SPIKING, RESET_SUB, V_INIT_HALF  role and numeric options (0/1)
//   INCREMENT    0 weight, 1 weight * pixel, 2 unit
//   ACC_BITS     width of the accumulated word (membrane, or input current)
//   WEIGHT_BITS, MEM_BITS, ADD_BITS, THETA_BITS (unsigned)
//   CALC_BITS    width of the fire arithmetic: > every operand width + 1
//   VMIN, VMAX   the clamp range (VMIN < 0 < VMAX, within MEM_BITS)
`default_nettype none
module snn_neuron_lane #(
    parameter integer SPIKING     = 1,
    parameter integer RESET_SUB   = 1,
    parameter integer V_INIT_HALF = 0,
    parameter integer INCREMENT   = 0,
    parameter integer ACC_BITS    = 8,
    parameter integer WEIGHT_BITS = 4,
    parameter integer MEM_BITS    = 8,
    parameter integer ADD_BITS    = 8,
    parameter integer THETA_BITS  = 4,
    parameter integer CALC_BITS   = 10,
    parameter signed [63:0] VMIN  = -128,
    parameter signed [63:0] VMAX  = 127
) (
    input  wire                   clk,
    // scatter: the accumulated word and its increment
    input  wire [ACC_BITS-1:0]    acc_old,
    input  wire [WEIGHT_BITS-1:0] weight,       // stage C (INCREMENT = 1: stage B)
    input  wire [7:0]             pixel,        // stage B, INCREMENT = 1
    input  wire                   unit,         // INCREMENT = 2: the event's lane
    output wire [ACC_BITS-1:0]    acc_new,
    // fire sweep
    input  wire [MEM_BITS-1:0]    v_cur,
    input  wire [ADD_BITS-1:0]    add,
    input  wire [THETA_BITS-1:0]  theta,
    input  wire                   step,         // a real time step (not the INIT sweep)
    input  wire                   lane_exists,  // the lane's channel exists (last group may be partial)
    input  wire                   reinit,       // write the initial value
    output wire                   fire,
    output wire [MEM_BITS-1:0]    v_new,
    output wire [MEM_BITS-1:0]    potential     // SPIKING = 0: v + add
);
    localparam signed [CALC_BITS-1:0] VMIN_C = VMIN[CALC_BITS-1:0];
    localparam signed [CALC_BITS-1:0] VMAX_C = VMAX[CALC_BITS-1:0];

`ifndef SYNTHESIS
    initial begin
        if (CALC_BITS > 64 || CALC_BITS < MEM_BITS + 2 || CALC_BITS < ADD_BITS + 2 || CALC_BITS < THETA_BITS + 3) begin
            $error("snn_neuron_lane: CALC_BITS (%0d) must exceed MEM_BITS (%0d), ADD_BITS (%0d) by 2 and THETA_BITS (%0d) by 3, and be <= 64",
                   CALC_BITS, MEM_BITS, ADD_BITS, THETA_BITS);
            $fatal(1, "snn_neuron_lane: bad parameters");
        end
        if (SPIKING != 0 && (VMIN >= 0 || VMAX <= 0 || VMIN < -(64'sd1 <<< (MEM_BITS - 1)) ||
                             VMAX >= (64'sd1 <<< (MEM_BITS - 1)))) begin
            $error("snn_neuron_lane: clamp range [%0d, %0d] must contain 0 and fit MEM_BITS (%0d)", VMIN, VMAX, MEM_BITS);
            $fatal(1, "snn_neuron_lane: bad parameters");
        end
        if (INCREMENT < 0 || INCREMENT > 2 || ACC_BITS < 2 || WEIGHT_BITS < 2 || THETA_BITS < 2) begin
            $error("snn_neuron_lane: INCREMENT (%0d) must be 0..2, ACC_BITS (%0d), WEIGHT_BITS (%0d) and THETA_BITS (%0d) >= 2",
                   INCREMENT, ACC_BITS, WEIGHT_BITS, THETA_BITS);
            $fatal(1, "snn_neuron_lane: bad parameters");
        end
        if (SPIKING != 0 && V_INIT_HALF != 0 && THETA_BITS > MEM_BITS) begin
            $error("snn_neuron_lane: theta / 2 (%0d bits) does not fit MEM_BITS (%0d)", THETA_BITS - 1, MEM_BITS);
            $fatal(1, "snn_neuron_lane: bad parameters");
        end
    end
`endif

    // ---- scatter ----
    generate
        if (INCREMENT == 1) begin : g_product
            wire signed [WEIGHT_BITS+8:0] product = $signed(weight) * $signed({1'b0, pixel});
            wire signed [ACC_BITS-1:0]    product_acc;     // sign-extended or truncated to ACC_BITS
            if (ACC_BITS > WEIGHT_BITS + 9) begin : g_extend
                assign product_acc = {{(ACC_BITS - WEIGHT_BITS - 9){product[WEIGHT_BITS+8]}}, product};
            end else begin : g_fit
                assign product_acc = product[ACC_BITS-1:0];
                if (ACC_BITS < WEIGHT_BITS + 9) begin : g_truncate   // the current's range is known to fit
                    wire unused_product = &{1'b0, product[WEIGHT_BITS+8:ACC_BITS], 1'b0};
                end
            end
            reg  signed [ACC_BITS-1:0]    increment;
            always @(posedge clk) increment <= product_acc;
            assign acc_new = acc_old + increment;
            wire unused_scatter = &{1'b0, unit, 1'b0};
        end else if (INCREMENT == 2) begin : g_unit
            assign acc_new = acc_old + {{(ACC_BITS - 1){1'b0}}, unit};
            wire unused_scatter = &{1'b0, clk, weight, pixel, 1'b0};
        end else begin : g_weight
            wire signed [ACC_BITS-1:0] increment;
            if (ACC_BITS > WEIGHT_BITS) begin : g_extend
                assign increment = {{(ACC_BITS - WEIGHT_BITS){weight[WEIGHT_BITS-1]}}, weight};
            end else begin : g_same
                assign increment = weight[ACC_BITS-1:0];
            end
            assign acc_new = acc_old + increment;
            wire unused_scatter = &{1'b0, clk, pixel, unit, 1'b0};
        end
    endgenerate

    // ---- fire sweep, in CALC_BITS (no overflow possible) ----
    wire signed [CALC_BITS-1:0] v_x   = {{(CALC_BITS - MEM_BITS){v_cur[MEM_BITS-1]}}, v_cur};
    wire signed [CALC_BITS-1:0] add_x = {{(CALC_BITS - ADD_BITS){add[ADD_BITS-1]}}, add};
    wire signed [CALC_BITS-1:0] v1    = v_x + add_x;

    generate
        if (SPIKING != 0) begin : g_spiking
            wire [CALC_BITS-1:0] ntheta = ~{{(CALC_BITS - THETA_BITS){1'b0}}, theta};
            // d1 = v + add - theta with one carry chain: a carry-save layer
            // (v, add, ~theta) and the +1 of the negation in the carry's LSB
            wire [CALC_BITS-1:0] cs_sum   = v_x ^ add_x ^ ntheta;
            wire [CALC_BITS-2:0] cs_carry = (v_x[CALC_BITS-2:0] & add_x[CALC_BITS-2:0]) |
                                            (v_x[CALC_BITS-2:0] & ntheta[CALC_BITS-2:0]) |
                                            (add_x[CALC_BITS-2:0] & ntheta[CALC_BITS-2:0]);
            wire signed [CALC_BITS-1:0] d1 = cs_sum + {cs_carry, 1'b1};
            assign fire = step && lane_exists && !d1[CALC_BITS-1];    // v + add >= theta
            wire signed [CALC_BITS-1:0] v_fired;
            if (RESET_SUB != 0) begin : g_subtract
                assign v_fired = (d1 > VMAX_C) ? VMAX_C : (d1 < VMIN_C) ? VMIN_C : d1;
            end else begin : g_zero
                assign v_fired = {CALC_BITS{1'b0}};
                wire unused_d1 = &{1'b0, d1[CALC_BITS-2:0], 1'b0};
            end
            wire signed [CALC_BITS-1:0] v_clamped = (v1 > VMAX_C) ? VMAX_C : (v1 < VMIN_C) ? VMIN_C : v1;
            wire signed [CALC_BITS-1:0] v_next    = fire ? v_fired : v_clamped;
            wire        [MEM_BITS-1:0]  v_init;
            if (V_INIT_HALF != 0) begin : g_half
                assign v_init = {{(MEM_BITS - THETA_BITS + 1){1'b0}}, theta[THETA_BITS-1:1]};   // theta >> 1
            end else begin : g_zero_init
                assign v_init = {MEM_BITS{1'b0}};
            end
            assign v_new     = reinit ? v_init : v_next[MEM_BITS-1:0];
            assign potential = {MEM_BITS{1'b0}};
            // v_next lies in [VMIN, VMAX]: its upper bits are sign copies
            wire unused_fire = &{1'b0, v_next[CALC_BITS-1:MEM_BITS], 1'b0};
        end else begin : g_output
            assign fire      = 1'b0;
            assign v_new     = reinit ? {MEM_BITS{1'b0}} : v1[MEM_BITS-1:0];
            assign potential = v1[MEM_BITS-1:0];
            // v1 fits MEM_BITS (numeric contract): its upper bits are sign copies
            wire unused_fire = &{1'b0, v1[CALC_BITS-1:MEM_BITS], theta, step, lane_exists, 1'b0};
        end
    endgenerate
endmodule
`default_nettype wire
