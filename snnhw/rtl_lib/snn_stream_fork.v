// snnhw hardware library: stream fork (one token stream to several consumers).
//
// A layer whose spikes several layers read (the block input of a residual
// network: the first conv of the block and the shortcut of the Add) feeds
// one fork. Every token goes to every output, in order: the input token is
// taken when each output has accepted it, in this cycle or an earlier one
// (an eager fork: `sent` remembers the outputs that have taken the current
// token, so a slow consumer never makes a fast one see a token twice). The
// outputs' valid comes from in_valid and the `sent` register only (no path
// from one output's ready to another output's valid); in_ready depends on
// the outputs' ready.
//
// The top level puts a token FIFO (snn_fifo) on every output. Deadlock
// freedom where a fork's branches meet again (a long branch conv -> conv and
// a short identity shortcut into one snn_event_merge): every stream carries
// a time step's events, then its end-of-step (eos) token, in step order, and
// the fork passes them in that order to every branch; so when a consumer
// stalls the fork with tokens of step t+1 (the merge holds the shortcut's
// eos of step t until the long branch's eos of step t arrives), every token
// of step t has already reached every branch, and the long branch needs
// nothing more to finish step t: its eos reaches the merge, the merge lets
// the step end and the shortcut's FIFO drains. Within a step the merge takes
// either input's events as they come (it waits only at eos), and an engine
// takes all of a step's events before it sweeps and emits that step's
// spikes, so no consumer waits for a later token of the fork while holding
// an earlier one. Any FIFO depth >= 1 is therefore free of deadlock; the
// depth only decides how far the short branch may run ahead into the next
// step while the long branch still sweeps (throughput, not correctness).
//
// Parameters
//   N_OUT   outputs (>= 2)
//   WIDTH   token bits (>= 1)
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high: forgets `sent`)
//   input stream    : in_valid, in_ready, in_data[WIDTH]
//   output streams  : out_valid[N_OUT], out_ready[N_OUT], out_data[N_OUT*WIDTH]
//                     (output k at bits k*WIDTH +: WIDTH; all carry in_data)
`default_nettype none
module snn_stream_fork #(
    parameter integer N_OUT = 2,
    parameter integer WIDTH = 8
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   in_valid,
    output wire                   in_ready,
    input  wire [WIDTH-1:0]       in_data,
    output wire [N_OUT-1:0]       out_valid,
    input  wire [N_OUT-1:0]       out_ready,
    output wire [N_OUT*WIDTH-1:0] out_data
);
`ifndef SYNTHESIS
    initial begin
        if (N_OUT < 2 || WIDTH < 1) begin
            $error("snn_stream_fork: N_OUT (%0d) must be >= 2 and WIDTH (%0d) >= 1", N_OUT, WIDTH);
            $fatal(1, "snn_stream_fork: bad parameters");
        end
    end
`endif

    reg  [N_OUT-1:0] sent;                                 // outputs that have taken the current token
    wire [N_OUT-1:0] taken = sent | (out_valid & out_ready);
    assign out_valid = {N_OUT{in_valid}} & ~sent;
    assign in_ready  = &taken;
    assign out_data  = {N_OUT{in_data}};

    always @(posedge clk) begin
        if (rst || (in_valid && in_ready)) sent <= {N_OUT{1'b0}};
        else if (in_valid)                 sent <= taken;
    end
endmodule
`default_nettype wire
