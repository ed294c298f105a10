// ============================================================================
// snn_fifo_block -- deep first-word-fall-through FIFO in block RAM (snnhw RTL
// library, Verilog-2005)
//
// Carries AER tokens between layer engines like snn_fifo, valid/ready on both
// sides, one clock, but holds a whole time step's spikes: a link into an
// engine that takes several cycles per event (a convolution's scatter) lets
// the engine before it finish its fire sweep and start the next step while
// this engine works through the queue, instead of stalling the sweep on a
// 32-word FIFO. The words live in a block RAM (snn_ram, BLOCK = 1, one-cycle
// synchronous read) and are prefetched into a three-word output queue, so the
// head is on m_data whenever m_valid is high (first word fall through) and a
// word leaves at every cycle the reader takes one.
//
// Writes: a word is stored at every clock edge where s_valid and s_ready are
// high; s_ready = the RAM is not full (s_valid may stay high while it is: the
// word waits). Reads: m_valid = the output queue holds a word; the head is
// popped at every clock edge where m_valid and m_ready are high. A RAM read is
// issued when the RAM holds a word and the queue, with the read in flight,
// holds at most two words: the word then finds a place even if the reader
// takes none, so the reader's m_ready stays off the RAM's read enable (a path
// from the engine's logic into a block RAM). The RAM address being read always
// holds a word, so it is never the one being written: no read-during-write
// collision exists.
//
// Parameters
//   WIDTH  bits per word (>= 1)
//   DEPTH  words of the RAM (a power of two, >= 2); the FIFO holds DEPTH + 3
//
// Latency: a word written at one clock edge is read from the RAM at the next,
// enters the output queue at the one after, and is on m_data (m_valid high)
// right after it: three cycles from s_valid to m_valid. At a steady stream one
// word passes per cycle.
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high: empties the FIFO)
//   input stream    : s_valid, s_ready, s_data
//   output stream   : m_valid, m_ready, m_data
// ============================================================================
`default_nettype none
module snn_fifo_block #(
    parameter integer WIDTH = 8,
    parameter integer DEPTH = 1024
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
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;   // RAM address bits

`ifndef SYNTHESIS
    initial begin
        if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0) begin
            $error("snn_fifo_block: DEPTH (%0d) must be a power of two >= 2", DEPTH);
            $fatal(1, "snn_fifo_block: bad parameters");
        end
        if (WIDTH < 1) begin
            $error("snn_fifo_block: WIDTH (%0d) must be >= 1", WIDTH);
            $fatal(1, "snn_fifo_block: bad parameters");
        end
    end
`endif

    // ---- the RAM: words between the write pointer and the read pointer ----
    reg  [AW:0] wr_ptr, rd_ptr;               // one bit more than the address: full vs empty
    wire [AW:0] ram_count = wr_ptr - rd_ptr;
    wire        ram_full  = (ram_count == DEPTH[AW:0]);
    wire        push      = s_valid && !ram_full;
    assign s_ready = !ram_full;

    // ---- the output queue: q0 (head), q1, q2, q_count words; one RAM read in flight at most ----
    reg  [WIDTH-1:0] q0, q1, q2;
    reg  [1:0]       q_count;
    reg              in_flight;               // a read issued at the last edge: its word is on rdata
    wire [WIDTH-1:0] rdata;
    wire             pop   = m_valid && m_ready;
    wire             issue = (ram_count != {(AW + 1){1'b0}}) && ({1'b0, q_count} + {2'b00, in_flight} <= 3'd2);
    wire [1:0]       slot  = q_count - {1'b0, pop};   // where the word in flight lands
    assign m_valid = (q_count != 2'd0);
    assign m_data  = q0;

    snn_ram #(.WIDTH(WIDTH), .DEPTH(DEPTH), .AW(AW), .OUTREG(0), .BLOCK(1), .BANK_AW(0)) u_ram (
        .clk(clk), .we(push), .we_all(1'b0), .waddr(wr_ptr[AW-1:0]), .wdata(s_data),
        .re(issue), .raddr(rd_ptr[AW-1:0]), .rdata(rdata));

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr    <= {(AW + 1){1'b0}};
            rd_ptr    <= {(AW + 1){1'b0}};
            in_flight <= 1'b0;
            q_count   <= 2'd0;
        end else begin
            if (push)  wr_ptr <= wr_ptr + 1'b1;
            if (issue) rd_ptr <= rd_ptr + 1'b1;
            in_flight <= issue;
            q_count   <= slot + {1'b0, in_flight};
        end
    end

    // the queue's words: a pop shifts them toward the head; the word from the RAM takes the first free place
    always @(posedge clk) begin
        if (pop) begin
            q0 <= q1;
            q1 <= q2;
        end
        if (in_flight) begin
            case (slot)
                2'd0:    q0 <= rdata;
                2'd1:    q1 <= rdata;
                default: q2 <= rdata;
            endcase
        end
    end
endmodule
`default_nettype wire
