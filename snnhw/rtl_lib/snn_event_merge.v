// ============================================================================
// snn_event_merge -- merges N_IN token streams into one, a time step at a time
// (snnhw RTL library, Verilog-2005)
//
// A layer that sums several inputs (a residual Add, a Concat) takes the events
// of several engines. Each input is a token stream {eos, last, payload}: eos
// (the MSB) marks the end of a time step, last (the next bit, meaningful on eos
// tokens) marks the image's last step, the payload is a spike address. The
// output stream carries {eos, last, src, payload}: src names the input an event
// came from (0 on eos tokens), so the consumer sees one stream of events per
// step, each with its origin.
//
// Events: within a step the event tokens of all inputs pass in any interleaving
// but never reordered within one input. A round-robin arbiter picks one event
// per cycle among the inputs that offer one: after an input is served, the
// inputs above it come first, so an input that keeps offering an event is
// served within N_IN - 1 events of the others. The last bit of an event passes
// through unchanged.
//
// Step boundary: an input's eos token is taken as soon as it is offered (it
// needs no output slot) and held: that input then stalls (in_ready low), its
// next tokens belong to the next step. When every input has delivered its eos
// (the last one may arrive in the same cycle), exactly one eos token goes out,
// its last taken from the inputs, and all inputs are released for the next
// step. The inputs must agree on last: without SYNTHESIS a disagreement stops
// the simulation. So one step's tokens never mix with the next step's.
//
// Output register: snn_axis_register (a skid buffer). out_valid and
// out_data come from registers and the internal ready (the skid register is
// free) is a register, so there is no combinational path from out_ready to
// in_ready. in_ready[k] depends on in_valid and the eos bit of the inputs (the
// arbiter): ready may follow valid on a valid/ready stream.
//
// Throughput: one output token per cycle while out_ready is high and the inputs
// offer tokens: the eos tokens of the inputs are taken beside the events, and
// the merged eos goes out in the cycle the last input's eos arrives.
//
// Parameters
//   N_IN         input streams (>= 2)
//   PAYLOAD_W    payload bits (>= 1)
//   SRC_W        bits of src: ubits(N_IN - 1) = clog2(N_IN) (the default)
//   IN_TOKEN_W   bits of an input token: 2 + PAYLOAD_W (the default)
//   OUT_TOKEN_W  bits of an output token: 2 + SRC_W + PAYLOAD_W (the default)
//
// Latency: one cycle from an accepted input token (or the last input eos) to
// out_valid; two tokens of output storage.
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high: empties the output
//                     register, forgets the held eos tokens, restarts the arbiter)
//   input streams   : in_valid[N_IN], in_ready[N_IN], in_data[N_IN*IN_TOKEN_W]
//                     (input k at bits k*IN_TOKEN_W +: IN_TOKEN_W)
//   output stream   : out_valid, out_ready, out_data[OUT_TOKEN_W]
// ============================================================================
`default_nettype none
module snn_event_merge #(
    parameter integer N_IN        = 2,
    parameter integer PAYLOAD_W   = 8,
    parameter integer SRC_W       = (N_IN > 1) ? $clog2(N_IN) : 1,
    parameter integer IN_TOKEN_W  = 2 + PAYLOAD_W,
    parameter integer OUT_TOKEN_W = 2 + SRC_W + PAYLOAD_W
) (
    // clock and reset
    input  wire                       clk,
    input  wire                       rst,
    // input streams
    input  wire [N_IN-1:0]            in_valid,
    output wire [N_IN-1:0]            in_ready,
    input  wire [N_IN*IN_TOKEN_W-1:0] in_data,
    // output stream
    output wire                       out_valid,
    input  wire                       out_ready,
    output wire [OUT_TOKEN_W-1:0]     out_data
);
    localparam integer SRC_NEED = (N_IN > 1) ? $clog2(N_IN) : 1;
    localparam integer PW       = (PAYLOAD_W >= 1) ? PAYLOAD_W : 1;   // elaborates for the check's message

`ifndef SYNTHESIS
    initial begin
        if (N_IN < 2) begin
            $error("snn_event_merge: N_IN (%0d) must be >= 2", N_IN);
            $fatal(1, "snn_event_merge: bad parameters");
        end
        if (PAYLOAD_W < 1) begin
            $error("snn_event_merge: PAYLOAD_W (%0d) must be >= 1", PAYLOAD_W);
            $fatal(1, "snn_event_merge: bad parameters");
        end
        if (SRC_W != SRC_NEED) begin
            $error("snn_event_merge: SRC_W (%0d) must be ubits(N_IN - 1) = %0d", SRC_W, SRC_NEED);
            $fatal(1, "snn_event_merge: bad parameters");
        end
        if (IN_TOKEN_W != 2 + PAYLOAD_W) begin
            $error("snn_event_merge: IN_TOKEN_W (%0d) must be 2 + PAYLOAD_W = %0d", IN_TOKEN_W, 2 + PAYLOAD_W);
            $fatal(1, "snn_event_merge: bad parameters");
        end
        if (OUT_TOKEN_W != 2 + SRC_W + PAYLOAD_W) begin
            $error("snn_event_merge: OUT_TOKEN_W (%0d) must be 2 + SRC_W + PAYLOAD_W = %0d", OUT_TOKEN_W,
                   2 + SRC_W + PAYLOAD_W);
            $fatal(1, "snn_event_merge: bad parameters");
        end
    end
`endif

    // ---- the inputs' fields ----
    wire [N_IN-1:0]      in_eos;       // the head token is an eos
    wire [N_IN-1:0]      in_last;
    wire [PW-1:0]        in_payload [0:N_IN-1];
    genvar g;
    generate
        for (g = 0; g < N_IN; g = g + 1) begin : field
            assign in_eos[g]     = in_data[g * IN_TOKEN_W + IN_TOKEN_W - 1];
            assign in_last[g]    = in_data[g * IN_TOKEN_W + IN_TOKEN_W - 2];
            assign in_payload[g] = in_data[g * IN_TOKEN_W +: PW];
        end
    endgenerate

    // ---- step state: the inputs whose eos is taken, and their last bits ----
    reg  [N_IN-1:0] held;
    reg  [N_IN-1:0] held_last;
    wire [N_IN-1:0] eos_now   = in_valid & in_eos & ~held;      // an eos offered now (taken at once)
    wire [N_IN-1:0] have_eos  = held | eos_now;                  // this step's eos taken or offered
    wire [N_IN-1:0] step_last = (held & held_last) | (~held & in_last);   // valid where have_eos
    wire            all_eos   = &have_eos;                       // the step ends now

    // ---- round-robin arbiter over the event requests ----
    reg  [N_IN-1:0] rr_mask;                                     // the inputs above the last served one
    wire [N_IN-1:0] req      = in_valid & ~in_eos & ~held;
    wire [N_IN-1:0] req_hi   = req & rr_mask;
    wire [N_IN-1:0] pick_in  = (|req_hi) ? req_hi : req;
    wire [N_IN-1:0] grant    = pick_in & (~pick_in + 1'b1);      // the lowest requesting input, one-hot
    reg  [SRC_W-1:0]     grant_src;
    reg  [PW-1:0]        grant_payload;
    reg                  grant_last;
    integer i;
    always @(*) begin
        grant_src     = {SRC_W{1'b0}};
        grant_payload = {PW{1'b0}};
        grant_last    = 1'b0;
        for (i = 0; i < N_IN; i = i + 1) begin
            if (grant[i]) begin
                grant_src     = grant_src | i[SRC_W-1:0];
                grant_payload = grant_payload | in_payload[i];
                grant_last    = grant_last | in_last[i];
            end
        end
    end

    // ---- the token into the output register ----
    wire                   s_ready;                              // the skid register is free (a register)
    wire                   s_valid = all_eos || (|req);          // all_eos excludes every request
    wire [OUT_TOKEN_W-1:0] s_data  = all_eos ? {1'b1, step_last[0], {(SRC_W + PW){1'b0}}}
                                             : {1'b0, grant_last, grant_src, grant_payload};
    wire                   fire_eos = all_eos && s_ready;        // the merged eos enters: release the inputs
    wire                   fire_ev  = !all_eos && (|req) && s_ready;

    assign in_ready = eos_now | (grant & {N_IN{fire_ev}});

    always @(posedge clk) begin
        if (rst) begin
            held    <= {N_IN{1'b0}};
            rr_mask <= {N_IN{1'b1}};
        end else begin
            held <= fire_eos ? {N_IN{1'b0}} : have_eos;
            if (fire_ev) rr_mask <= ~(grant | (grant - 1'b1));   // the inputs above the served one
        end
    end

    always @(posedge clk) begin
        held_last <= (eos_now & in_last) | (~eos_now & held_last);
    end

    // ---- output register: registered valid, data and ready (no path from out_ready to in_ready) ----
    snn_axis_register #(.WIDTH(OUT_TOKEN_W)) u_out (
        .clk(clk), .rst(rst), .s_valid(s_valid), .s_ready(s_ready), .s_data(s_data),
        .m_valid(out_valid), .m_ready(out_ready), .m_data(out_data));

`ifndef SYNTHESIS
    // every input's eos of a step must carry the same last
    always @(posedge clk) begin
        if (!rst && fire_eos && (|step_last) != (&step_last)) begin
            $error("snn_event_merge: the inputs disagree on last at the end of a step (last bits %b) (%m)",
                   step_last);
            $fatal(1, "snn_event_merge: last mismatch");
        end
    end
`endif
endmodule
`default_nettype wire
