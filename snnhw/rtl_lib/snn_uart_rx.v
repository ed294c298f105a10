// ============================================================================
// snn_uart_rx -- 8N1 UART receiver (snnhw RTL library, Verilog-2005)
//
// The host link's byte input: one start bit (0), eight data bits LSB first,
// one stop bit (1); the line idles high. rx is asynchronous to clk and goes
// through two flip-flops first (every timing below counts from the
// synchronized line, which lags the pin by two cycles).
//
// A character starts at a falling edge: the synchronized line low after it
// was seen high while idle (or at the previous character's stop sample). The
// start bit is checked again HALF = (DIVISOR - 1) / 2 cycles later, near its
// middle: a line back high there was a glitch and is ignored (a low pulse of
// up to HALF cycles never starts a character). Then every DIVISOR cycles one
// sample: the eight data bits, then the stop bit. A stop bit of 1 delivers
// the byte (m_valid pulse); a stop bit of 0 gives a frame_error pulse instead
// and the receiver waits for the line to go high again before it looks for
// the next start (a break is one error, not a stream of them). After the
// stop sample the receiver looks for the next start at once, so back-to-back
// characters (start bit right after the stop bit) are received.
//
// Baud tolerance: the stop bit, sampled 9 bit times + HALF cycles after the
// start edge (give or take one cycle of edge phase), is the last and worst
// sample; the sender's bit time may be longer by up to HALF / (9 * DIVISOR)
// and shorter by up to (DIVISOR - 1 - HALF) / (10 * DIVISOR) of a bit. That
// covers +-3 % from DIVISOR = 5 on (+-4.3 % at 7, +4.9/-5 % at 16); at
// DIVISOR = 4 it is +2.7 % / -5 %.
//
// No back-pressure: m_valid is high for one cycle per byte and the consumer
// takes m_data then (it holds until the next byte).
//
// Parameters
//   DIVISOR  clock cycles per bit (>= 4: a start check between edges needs room)
//
// Latency: m_valid (or frame_error) is high in the cycle after the
// (3 + HALF + 9 * DIVISOR)-th clock edge from the start edge at the pin (two
// synchronizer edges, the edge that sees it, HALF cycles to mid start bit,
// nine bits): near the stop bit's middle.
// active is high from the cycle after the start edge is seen (synchronized)
// until the stop sample: the whole character, and nothing while idle.
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high)
//   serial line     : rx (asynchronous, idle high)
//   bytes out       : m_valid, m_data (no ready: one-cycle pulses)
//   status          : frame_error (one-cycle pulse, the byte is dropped), active
// ============================================================================
`default_nettype none
module snn_uart_rx #(
    parameter integer DIVISOR = 16
) (
    // clock and reset
    input  wire       clk,
    input  wire       rst,
    // serial line
    input  wire       rx,
    // bytes out (no back-pressure)
    output reg        m_valid,
    output reg  [7:0] m_data,
    // status
    output reg        frame_error,
    output reg        active
);
    localparam integer HALF = (DIVISOR - 1) / 2;                        // start edge to mid start bit
    localparam integer CW   = (DIVISOR > 2) ? $clog2(DIVISOR) : 1;      // counts 0..DIVISOR-1
    localparam integer BIT_LAST  = DIVISOR - 1;                         // count reload: one bit
    localparam integer HALF_LAST = HALF - 1;                            // count reload: to mid start bit
    localparam [1:0] S_IDLE = 2'd0, S_START = 2'd1, S_DATA = 2'd2, S_STOP = 2'd3;

`ifndef SYNTHESIS
    initial begin
        if (DIVISOR < 4) begin
            $error("snn_uart_rx: DIVISOR (%0d) must be >= 4", DIVISOR);
            $fatal(1, "snn_uart_rx: bad parameters");
        end
    end
`endif

    // two flip-flops against metastability; no reset, they only follow the pin
    reg rx_meta, rx_sync;
    always @(posedge clk) begin
        rx_meta <= rx;
        rx_sync <= rx_meta;
    end

    reg [1:0]    state;
    reg [CW-1:0] count;     // cycles to the next sample, minus one
    reg [2:0]    bit_idx;   // data bit being sampled next
    reg [7:0]    shift;     // data bits so far, the newest in bit 7
    reg          armed;     // the line was seen high since the last character: a low is a falling edge

    wire sample = (count == {CW{1'b0}});

    always @(posedge clk) begin
        if (rst) begin
            state       <= S_IDLE;
            count       <= {CW{1'b0}};
            bit_idx     <= 3'd0;
            armed       <= 1'b0;
            m_valid     <= 1'b0;
            frame_error <= 1'b0;
            active      <= 1'b0;
        end else begin
            m_valid     <= 1'b0;
            frame_error <= 1'b0;
            if (state != S_IDLE) count <= count - 1'b1;
            case (state)
                S_IDLE: begin
                    armed <= armed | rx_sync;
                    if (armed && !rx_sync) begin
                        state  <= S_START;
                        count  <= HALF_LAST[CW-1:0];
                        armed  <= 1'b0;
                        active <= 1'b1;
                    end
                end
                S_START: if (sample) begin
                    if (rx_sync) begin   // high again at mid start bit: a glitch
                        state  <= S_IDLE;
                        armed  <= 1'b1;
                        active <= 1'b0;
                    end else begin
                        state   <= S_DATA;
                        count   <= BIT_LAST[CW-1:0];
                        bit_idx <= 3'd0;
                    end
                end
                S_DATA: if (sample) begin
                    shift   <= {rx_sync, shift[7:1]};   // LSB first
                    count   <= BIT_LAST[CW-1:0];
                    bit_idx <= bit_idx + 1'b1;
                    if (bit_idx == 3'd7) state <= S_STOP;
                end
                default: if (sample) begin   // S_STOP
                    state       <= S_IDLE;
                    active      <= 1'b0;
                    armed       <= rx_sync;   // a good stop bit is the high before the next start edge
                    m_valid     <= rx_sync;
                    frame_error <= !rx_sync;
                    if (rx_sync) m_data <= shift;
                end
            endcase
        end
    end
endmodule
`default_nettype wire
