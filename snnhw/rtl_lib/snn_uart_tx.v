// ============================================================================
// snn_uart_tx -- 8N1 UART transmitter (snnhw RTL library, Verilog-2005)
//
// The host link's byte output: one start bit (0), eight data bits LSB first,
// one stop bit (1), each DIVISOR cycles long; the line idles high. A byte is
// taken at a clock edge where s_valid and s_ready are high, and its start bit
// begins at that edge. s_ready is high while idle and also in the last cycle
// of a stop bit, so a producer that keeps s_valid high gets back-to-back
// characters of exactly 10 * DIVISOR cycles each, with no idle gap.
//
// tx comes straight from a register (no glitches on the pin) and is high
// during and after reset.
//
// Parameters
//   DIVISOR  clock cycles per bit (>= 2)
//
// Latency: the start bit is on tx right after the edge that takes the byte;
// the character ends 10 * DIVISOR cycles later.
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high; an unfinished character is cut short)
//   bytes in        : s_valid, s_ready, s_data
//   serial line     : tx (registered, idle high)
// ============================================================================
`default_nettype none
module snn_uart_tx #(
    parameter integer DIVISOR = 16
) (
    // clock and reset
    input  wire       clk,
    input  wire       rst,
    // bytes in
    input  wire       s_valid,
    output wire       s_ready,
    input  wire [7:0] s_data,
    // serial line
    output reg        tx
);
    localparam integer CW       = (DIVISOR > 2) ? $clog2(DIVISOR) : 1;   // counts 0..DIVISOR-1
    localparam integer BIT_LAST = DIVISOR - 1;                           // count reload: one bit

`ifndef SYNTHESIS
    initial begin
        if (DIVISOR < 2) begin
            $error("snn_uart_tx: DIVISOR (%0d) must be >= 2", DIVISOR);
            $fatal(1, "snn_uart_tx: bad parameters");
        end
    end
`endif

    reg          busy;
    reg [CW-1:0] count;   // cycles left in the bit on tx, minus one
    reg [3:0]    left;    // bits still to send after the one on tx (9 after the start bit)
    reg [8:0]    shift;   // those bits, the next in bit 0: data LSB first, then the stop bit

    // the last cycle of the stop bit: a new byte may start at the coming edge
    wire last_cycle = (count == {CW{1'b0}}) && (left == 4'd0);
    assign s_ready = !busy || last_cycle;

    always @(posedge clk) begin
        if (rst) begin
            busy  <= 1'b0;
            tx    <= 1'b1;
            count <= {CW{1'b0}};
            left  <= 4'd0;
        end else if (s_valid && s_ready) begin
            busy  <= 1'b1;
            tx    <= 1'b0;                   // start bit
            shift <= {1'b1, s_data};
            left  <= 4'd9;
            count <= BIT_LAST[CW-1:0];
        end else if (busy) begin
            if (count != {CW{1'b0}}) begin
                count <= count - 1'b1;
            end else if (left != 4'd0) begin
                tx    <= shift[0];
                shift <= {1'b1, shift[8:1]};
                left  <= left - 1'b1;
                count <= BIT_LAST[CW-1:0];
            end else begin
                busy <= 1'b0;                // the stop bit (tx = 1) is done
            end
        end
    end
endmodule
`default_nettype wire
