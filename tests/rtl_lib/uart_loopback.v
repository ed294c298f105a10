// Test wrapper (not library): snn_uart_rx -> snn_fifo -> snn_uart_tx, an echo as the host link's UART
// ends see it. Bytes from rx that find the FIFO full would be lost; the test never sends that fast.
`default_nettype none
module uart_loopback #(
    parameter integer DIVISOR = 16
) (
    input  wire clk,
    input  wire rst,
    input  wire rx,
    output wire tx
);
    wire       rx_valid, fifo_valid, tx_ready;
    wire [7:0] rx_data, fifo_data;
    wire       rx_frame_error, rx_active, fifo_ready;
    snn_uart_rx #(.DIVISOR(DIVISOR)) u_rx (
        .clk(clk), .rst(rst), .rx(rx), .m_valid(rx_valid), .m_data(rx_data),
        .frame_error(rx_frame_error), .active(rx_active));
    snn_fifo #(.WIDTH(8), .DEPTH(4), .SLACK(0)) u_fifo (
        .clk(clk), .rst(rst), .s_valid(rx_valid), .s_ready(fifo_ready), .s_data(rx_data),
        .m_valid(fifo_valid), .m_ready(tx_ready), .m_data(fifo_data));
    snn_uart_tx #(.DIVISOR(DIVISOR)) u_tx (
        .clk(clk), .rst(rst), .s_valid(fifo_valid), .s_ready(tx_ready), .s_data(fifo_data), .tx(tx));
endmodule
`default_nettype wire
