// ============================================================================
// snn_fifo -- synchronous first-word-fall-through FIFO (snnhw RTL library, Verilog-2005)
//
// Carries AER tokens between layer engines, valid/ready on both sides, one
// clock. The head word is on m_data whenever m_valid is high (first word fall
// through: the memory is read asynchronously -- LUT RAM where the device has
// it, else logic; no ram_style attribute, so every tool chooses).
//
// Writes: a word is stored at every clock edge where s_valid is high and the
// FIFO is not full; s_valid while full is ignored (the word is not stored).
// s_ready = count + SLACK < DEPTH, so s_ready falls SLACK words before the
// FIFO is full:
//   SLACK = 0  ordinary valid/ready: s_ready = not full, and a producer that
//              sees s_ready low holds its word (s_valid may stay high while
//              full, the word is taken when room frees up);
//   SLACK > 0  credit mode for a pipelined producer: up to SLACK words already
//              in flight when it saw s_ready may still arrive as single-cycle
//              s_valid pulses, and they still find room.
// With SNNHW_ASSERT defined (simulation only), an s_valid pulse that arrives
// while the FIFO is full in credit mode (SLACK > 0) stops the simulation: the
// producer exceeded its credit and the word would be lost.
//
// Reads: m_valid = not empty; the head word is popped at every clock edge
// where m_valid and m_ready are high.
//
// Parameters
//   WIDTH  bits per word (>= 1)
//   DEPTH  words (a power of two, >= 2)
//   SLACK  words of credit: s_ready falls SLACK words early (0 <= SLACK < DEPTH)
//
// Latency: a word written at one clock edge is on m_data (m_valid high)
// right after it: one cycle from s_valid to m_valid. A pop frees a place for
// a write at the next edge (s_ready rises one cycle after the pop).
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high: empties the FIFO)
//   input stream    : s_valid, s_ready, s_data
//   output stream   : m_valid, m_ready, m_data
// ============================================================================
`default_nettype none
module snn_fifo #(
    parameter integer WIDTH = 8,
    parameter integer DEPTH = 16,
    parameter integer SLACK = 0
) (
    // clock and reset
    input  wire             clk,
    input  wire             rst,
    // input stream (words in)
    input  wire             s_valid,
    output wire             s_ready,
    input  wire [WIDTH-1:0] s_data,
    // output stream (words out, first word fall through)
    output wire             m_valid,
    input  wire             m_ready,
    output wire [WIDTH-1:0] m_data
);
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;   // pointer bits

`ifndef SYNTHESIS
    initial begin
        if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin
            $error("snn_fifo: DEPTH (%0d) must be a power of two >= 2", DEPTH);
            $fatal(1, "snn_fifo: bad parameters");
        end
        if (WIDTH < 1) begin
            $error("snn_fifo: WIDTH (%0d) must be >= 1", WIDTH);
            $fatal(1, "snn_fifo: bad parameters");
        end
        if (SLACK < 0 || SLACK >= DEPTH) begin
            $error("snn_fifo: SLACK (%0d) must be >= 0 and < DEPTH (%0d)", SLACK, DEPTH);
            $fatal(1, "snn_fifo: bad parameters");
        end
    end
`endif

    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [AW-1:0]    wr_ptr;   // where the next word is written
    reg [AW-1:0]    rd_ptr;   // the head word
    reg [AW:0]      count;    // words held, 0..DEPTH

    wire full = (count == DEPTH[AW:0]);
    wire push = s_valid && !full;
    wire pop  = m_valid && m_ready;

    assign s_ready = ({1'b0, count} + SLACK[AW+1:0]) < {1'b0, DEPTH[AW:0]};
    assign m_valid = (count != {(AW+1){1'b0}});
    assign m_data  = mem[rd_ptr];

    always @(posedge clk) begin
        if (push) mem[wr_ptr] <= s_data;
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr <= {AW{1'b0}};
            rd_ptr <= {AW{1'b0}};
            count  <= {(AW+1){1'b0}};
        end else begin
            if (push) wr_ptr <= wr_ptr + 1'b1;
            if (pop)  rd_ptr <= rd_ptr + 1'b1;
            case ({push, pop})
                2'b10:   count <= count + 1'b1;
                2'b01:   count <= count - 1'b1;
                default: count <= count;
            endcase
        end
    end

`ifdef SNNHW_ASSERT
`ifndef SYNTHESIS
    // credit mode: a word arriving while full is lost
    always @(posedge clk) begin
        if (SLACK > 0 && !rst && s_valid && full) begin
            $error("snn_fifo: s_valid while full (SLACK %0d): the producer exceeded its credit, a word is lost (%m)",
                   SLACK);
            $fatal(1, "snn_fifo: overflow");
        end
    end
`endif
`endif
endmodule
`default_nettype wire
