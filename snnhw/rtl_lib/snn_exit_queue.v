// ============================================================================
// snn_exit_queue -- early exit: the images' exit rules from layer 0 to the
// output stream, and the exit request back (snnhw RTL library, Verilog-2005)
//
// A FIFO of DEPTH image descriptors {margin, min_steps}: layer 0 pushes one
// when it takes an image's first pixel (the run-time inputs sampled with that
// pixel, as cfg_timesteps is), snn_output_stream reads the head (the image it
// is sending) and pops it when the image's potential beats are sent. So the
// queue holds the images between layer 0 and the output, oldest first; `room`
// is low when it is full, and layer 0 then waits before it takes the next
// image's first pixel (only when more than DEPTH images are in flight).
// `room` is a register loaded with the next cycle's value (from the pointers'
// next values), so it equals "not full" in every cycle while the pointer
// arithmetic stays beside the queue: layer 0 is at the other end of the
// pipeline, and the wire to it is long.
//
// Exit request: snn_output_stream raises exit_req when its current image (the
// head) has exited and holds it until that image ends. Layer 0 runs the newest
// image of the queue, so the request concerns layer 0's image exactly when the
// queue holds one image; exit_now = exit_req && (one image in the queue),
// registered (the request crosses the whole pipeline). Layer 0 makes the next
// step it starts the image's last. One cycle late is safe: the queue changes
// only by a push (layer 0 takes a first pixel: it is not starting a step) or
// by the pop that ends the request.
//
// Image abort: img_abort = exit_req and one image in the queue and neither a push
// nor a pop at this edge, registered. While it is high the queue holds exactly
// the exited image: layer 0 has not taken the next image's first pixel, so no
// token of a later image exists anywhere, and the output has not finished the
// exited one. Every engine is then either still on the exited image (past its
// exit step: the output has taken that step's class beat) or has already passed
// the image's last token; an engine in the first case drops the rest of the
// image's work (snn_neuron_engine, snn_maxpool_gate: a sticky flag until the
// image's last token). The push and pop terms keep img_abort exact in the cycle
// after the queue changes, when exit_now may still be high.
//
// Parameters
//   MARGIN_BITS  bits of the margin (>= 1)
//   STEP_W       bits of min_steps (>= 1)
//   DEPTH        descriptors (a power of two, >= 2)
// Derived: AW = log2(DEPTH) (pointer bits; the pointers have AW + 1).
//
// Latency: a pushed descriptor is the head (if the queue was empty) in the
// next cycle; exit_now and img_abort follow exit_req and the queue by one cycle.
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high)
//   layer 0         : push, push_margin[MARGIN_BITS], push_min_steps[STEP_W], room, exit_now
//   output stream   : head_margin[MARGIN_BITS], head_min_steps[STEP_W], pop, exit_req
//   every engine    : img_abort
// ============================================================================
`default_nettype none
module snn_exit_queue #(
    parameter integer MARGIN_BITS = 8,
    parameter integer STEP_W      = 4,
    parameter integer DEPTH       = 16
) (
    clk, rst,
    push, push_margin, push_min_steps, room, exit_now,
    head_margin, head_min_steps, pop, exit_req,
    img_abort
);
    localparam integer MW = (MARGIN_BITS >= 1) ? MARGIN_BITS : 1;
    localparam integer SW = (STEP_W >= 1) ? STEP_W : 1;
    localparam integer AW = (DEPTH > 2) ? $clog2(DEPTH) : 1;
    localparam integer DW = MW + SW;
    localparam [31:0]  DEPTH32 = DEPTH;
    localparam [AW:0]  FULL = DEPTH32[AW:0];
    localparam [AW:0]  ONE  = 1;

    input  wire          clk;
    input  wire          rst;
    input  wire          push;
    input  wire [MW-1:0] push_margin;
    input  wire [SW-1:0] push_min_steps;
    output reg           room;
    output reg           exit_now;
    output wire [MW-1:0] head_margin;
    output wire [SW-1:0] head_min_steps;
    input  wire          pop;
    input  wire          exit_req;
    output reg           img_abort;

`ifndef SYNTHESIS
    initial begin
        if (MARGIN_BITS < 1) begin
            $error("snn_exit_queue: MARGIN_BITS (%0d) must be >= 1", MARGIN_BITS);
            $fatal(1, "snn_exit_queue: bad parameters");
        end
        if (STEP_W < 1) begin
            $error("snn_exit_queue: STEP_W (%0d) must be >= 1", STEP_W);
            $fatal(1, "snn_exit_queue: bad parameters");
        end
        if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin
            $error("snn_exit_queue: DEPTH (%0d) must be a power of two >= 2", DEPTH);
            $fatal(1, "snn_exit_queue: bad parameters");
        end
    end
`endif

    reg [DW-1:0] mem [0:(1 << AW)-1];
    reg [AW:0]   wr_ptr, rd_ptr;
    wire [AW:0]  count = wr_ptr - rd_ptr;
    wire [AW:0]  wr_next = push ? wr_ptr + ONE : wr_ptr;
    wire [AW:0]  rd_next = pop ? rd_ptr + ONE : rd_ptr;
    wire [DW-1:0] head = mem[rd_ptr[AW-1:0]];
    assign head_margin    = head[DW-1:SW];
    assign head_min_steps = head[SW-1:0];

    always @(posedge clk) begin
        if (push) mem[wr_ptr[AW-1:0]] <= {push_margin, push_min_steps};
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr   <= {(AW + 1){1'b0}};
            rd_ptr   <= {(AW + 1){1'b0}};
            room     <= 1'b1;
            exit_now <= 1'b0;
            img_abort <= 1'b0;
        end else begin
            wr_ptr   <= wr_next;
            rd_ptr   <= rd_next;
            room     <= (wr_next - rd_next) != FULL;
            exit_now <= exit_req && (count == ONE);
            img_abort <= exit_req && (count == ONE) && !push && !pop;
        end
    end

`ifdef SNNHW_ASSERT
    always @(posedge clk) begin
        if (!rst && push && !room) begin
            $display("snn_exit_queue: push into a full queue");
            $fatal(1, "snn_exit_queue: overflow");
        end
        if (!rst && pop && count == {(AW + 1){1'b0}}) begin
            $display("snn_exit_queue: pop of an empty queue");
            $fatal(1, "snn_exit_queue: underflow");
        end
    end
`endif
endmodule
`default_nettype wire
