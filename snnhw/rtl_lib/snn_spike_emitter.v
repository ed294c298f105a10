// snnhw hardware library: spike queue and emitter of a spiking layer.
//
// The fire sweep pushes one entry per membrane word with at least one spike
// (channel group, position, P-lane fire mask) into a small queue; the
// emitter sends one spike per cycle from the queue's head, lowest lane
// first, as the output channel group*LANES + lane at the entry's position.
// The queue is credit controlled: push_room falls while fewer than
// PUSH_LATENCY + 1 entries are free, so a producer whose pipeline holds up
// to PUSH_LATENCY pushes after it saw push_room never overflows it and the
// sweep never stalls mid-pipeline.
//
// Parameters
//   LANES         lanes per membrane word (P)
//   GROUP_W       channel-group width
//   CHANNEL_W     output channel width (holds the channel count - 1)
//   POSITION      1: entries carry an output position (oy, ox); 0: vector output
//   OY_W, OX_W    position widths (unused when POSITION = 0)
//   DEPTH         queue entries (power of two)
//   PUSH_LATENCY  pushes that may follow a low push_room
`default_nettype none
module snn_spike_emitter #(
    parameter integer LANES        = 1,
    parameter integer GROUP_W      = 1,
    parameter integer CHANNEL_W    = 1,
    parameter integer POSITION     = 1,
    parameter integer OY_W         = 1,
    parameter integer OX_W         = 1,
    parameter integer DEPTH        = 8,
    parameter integer PUSH_LATENCY = 3
) (
    input  wire                 clk,
    input  wire                 rst,
    // fire sweep: a word with spikes
    input  wire                 push,
    output wire                 push_room,
    input  wire [GROUP_W-1:0]   push_group,
    input  wire [OY_W-1:0]      push_oy,
    input  wire [OX_W-1:0]      push_ox,
    input  wire [LANES-1:0]     push_mask,
    // spikes out, one per cycle (valid/ready)
    output wire                 spike_valid,
    input  wire                 spike_ready,
    output wire [CHANNEL_W-1:0] spike_channel,
    output wire [OY_W-1:0]      spike_oy,
    output wire [OX_W-1:0]      spike_ox,
    // anything queued or being emitted
    output wire                 busy
);
    function integer ubits;            // bits of an unsigned register holding 0..n
        input integer n;
        begin
            ubits = 1;
            while ((n >> ubits) != 0) ubits = ubits + 1;
        end
    endfunction

    localparam integer LANE_W  = ubits(LANES - 1);
    localparam integer POS_W   = (POSITION != 0) ? OY_W + OX_W : 0;
    localparam integer ENTRY_W = GROUP_W + POS_W + LANES;

`ifndef SYNTHESIS
    initial begin
        if (LANES < 1 || GROUP_W < 1 || CHANNEL_W < 1 || OY_W < 1 || OX_W < 1) begin
            $error("snn_spike_emitter: LANES (%0d) and the widths must be >= 1", LANES);
            $fatal(1, "snn_spike_emitter: bad parameters");
        end
        if ((1 << CHANNEL_W) < LANES) begin
            $error("snn_spike_emitter: CHANNEL_W (%0d) cannot hold a lane of LANES (%0d)", CHANNEL_W, LANES);
            $fatal(1, "snn_spike_emitter: bad parameters");
        end
        if (PUSH_LATENCY < 0 || PUSH_LATENCY >= DEPTH) begin
            $error("snn_spike_emitter: PUSH_LATENCY (%0d) must be in 0 .. DEPTH - 1 (DEPTH = %0d)", PUSH_LATENCY, DEPTH);
            $fatal(1, "snn_spike_emitter: bad parameters");
        end
    end
`endif

    // ---- queue ----
    wire               queue_valid;
    wire               queue_pop;
    wire [ENTRY_W-1:0] queue_head;
    wire [ENTRY_W-1:0] push_entry;
    generate
        if (POSITION != 0) begin : g_pos_entry
            assign push_entry = {push_group, push_oy, push_ox, push_mask};
        end else begin : g_vec_entry
            assign push_entry = {push_group, push_mask};
            wire unused_push_pos = &{1'b0, push_oy, push_ox, 1'b0};
        end
    endgenerate
    snn_fifo #(.WIDTH(ENTRY_W), .DEPTH(DEPTH), .SLACK(PUSH_LATENCY)) u_spike_queue (
        .clk(clk), .rst(rst),
        .s_valid(push), .s_ready(push_room), .s_data(push_entry),
        .m_valid(queue_valid), .m_ready(queue_pop), .m_data(queue_head));

    // ---- emitter: the head entry, lowest lane first ----
    reg                 emit_valid;
    reg  [LANES-1:0]    emit_mask;         // lanes still to send
    reg  [GROUP_W-1:0]  emit_group;
    reg  [CHANNEL_W-1:0] emit_channel_base; // emit_group * LANES
    reg  [OY_W-1:0]     emit_oy;
    reg  [OX_W-1:0]     emit_ox;

    function [LANE_W-1:0] lowest_lane(input [LANES-1:0] m);
        integer k;
        begin
            lowest_lane = {LANE_W{1'b0}};
            for (k = LANES - 1; k >= 0; k = k - 1)
                if (m[k]) lowest_lane = k[LANE_W-1:0];
        end
    endfunction

    wire [GROUP_W-1:0] head_group = queue_head[ENTRY_W-1:ENTRY_W-GROUP_W];
    wire [31:0]        head_channel_base;
    snn_const_mul #(.IN_WIDTH(GROUP_W), .OUT_WIDTH(32), .K(LANES)) u_group_lanes (
        .x(head_group), .y(head_channel_base));
    wire [LANE_W-1:0]  emit_lane = lowest_lane(emit_mask);
    wire [LANES-1:0]   emit_rest = emit_mask & (emit_mask - {{(LANES - 1){1'b0}}, 1'b1});
    wire [31:0]        emit_channel = {{(32 - CHANNEL_W){1'b0}}, emit_channel_base} + {{(32 - LANE_W){1'b0}}, emit_lane};
    wire               emit_fire = emit_valid && spike_ready;
    wire               emit_done = emit_fire && (emit_rest == {LANES{1'b0}});
    assign queue_pop = queue_valid && (!emit_valid || emit_done);

    always @(posedge clk) begin
        if (rst) begin
            emit_valid <= 1'b0;
        end else if (queue_pop) begin
            emit_valid <= 1'b1;
        end else if (emit_done) begin
            emit_valid <= 1'b0;
        end
        if (queue_pop) begin
            emit_group        <= head_group;
            emit_mask         <= queue_head[LANES-1:0];
            emit_channel_base <= head_channel_base[CHANNEL_W-1:0];
        end else if (emit_fire) begin
            emit_mask <= emit_rest;
        end
    end
    generate
        if (POSITION != 0) begin : g_pos
            always @(posedge clk) begin
                if (queue_pop) {emit_oy, emit_ox} <= queue_head[LANES +: OY_W + OX_W];
            end
        end else begin : g_vec
            always @(posedge clk) begin
                emit_oy <= {OY_W{1'b0}};
                emit_ox <= {OX_W{1'b0}};
            end
        end
    endgenerate

    assign spike_valid   = emit_valid;
    assign spike_channel = emit_channel[CHANNEL_W-1:0];
    assign spike_oy      = emit_oy;
    assign spike_ox      = emit_ox;
    assign busy          = queue_valid || emit_valid;
    wire unused_emit = &{1'b0, emit_group, head_channel_base[31:CHANNEL_W], emit_channel[31:CHANNEL_W], 1'b0};
endmodule
`default_nettype wire
