// ============================================================================
// snn_flatten -- AER token address flattening (snnhw RTL library, Verilog-2005)
//
// Re-maps the tokens of a (CHANNELS, ROWS, COLUMNS) stream to a flat stream
// of CHANNELS * ROWS * COLUMNS neurons in C-H-W order:
//     (c, y, x)  ->  (c * ROWS + y) * COLUMNS + x = c * (ROWS * COLUMNS) + y * COLUMNS + x
// The constant products are shifts and adds (snn_const_mul). No state, no
// cycles: valid/ready pass straight through.
//
// Token layout (both streams): {eos, last, address}. The two flag bits are
// passed on unchanged; an end-of-step token's address bits are don't-care
// (they are flattened like any address).
//   in_data  = {eos, last, c[CHANNEL_BITS-1:0], y[ROW_BITS-1:0], x[COLUMN_BITS-1:0]}
//   out_data = {eos, last, index[INDEX_BITS-1:0]}
// where a field for n values is max(1, ceil(log2(n))) bits wide:
//   CHANNEL_BITS, ROW_BITS, COLUMN_BITS for CHANNELS, ROWS, COLUMNS;
//   INDEX_BITS for CHANNELS * ROWS * COLUMNS.
// The ports are declared after these localparams (a Verilog-2005 non-ANSI
// port list), so every width follows from the three parameters.
//
// Parameters
//   CHANNELS  channels of the input stream (>= 1)
//   ROWS      rows (height) of the input stream (>= 1)
//   COLUMNS   columns (width) of the input stream (>= 1)
//
// Latency: 0 (combinational).
//
// Interfaces
//   input stream  : in_valid, in_ready, in_data    (IN_BITS = CHANNEL_BITS + ROW_BITS + COLUMN_BITS + 2)
//   output stream : out_valid, out_ready, out_data (OUT_BITS = INDEX_BITS + 2)
// ============================================================================
`default_nettype none
module snn_flatten #(
    parameter integer CHANNELS = 1,
    parameter integer ROWS     = 1,
    parameter integer COLUMNS  = 1
) (
    in_valid, in_ready, in_data,
    out_valid, out_ready, out_data
);
    localparam integer NEURONS      = CHANNELS * ROWS * COLUMNS;
    localparam integer CHANNEL_BITS = (CHANNELS > 1) ? $clog2(CHANNELS) : 1;
    localparam integer ROW_BITS     = (ROWS > 1) ? $clog2(ROWS) : 1;
    localparam integer COLUMN_BITS  = (COLUMNS > 1) ? $clog2(COLUMNS) : 1;
    localparam integer INDEX_BITS   = (NEURONS > 1) ? $clog2(NEURONS) : 1;
    localparam integer IN_BITS      = 2 + CHANNEL_BITS + ROW_BITS + COLUMN_BITS;
    localparam integer OUT_BITS     = 2 + INDEX_BITS;

    // input stream: {eos, last, c, y, x}
    input  wire                in_valid;
    output wire                in_ready;
    input  wire [IN_BITS-1:0]  in_data;
    // output stream: {eos, last, flat index}
    output wire                out_valid;
    input  wire                out_ready;
    output wire [OUT_BITS-1:0] out_data;

`ifndef SYNTHESIS
    initial begin
        if (CHANNELS < 1 || ROWS < 1 || COLUMNS < 1) begin
            $error("snn_flatten: CHANNELS (%0d), ROWS (%0d) and COLUMNS (%0d) must be >= 1", CHANNELS, ROWS, COLUMNS);
            $fatal(1, "snn_flatten: bad parameters");
        end
    end
`endif

    wire [CHANNEL_BITS-1:0] in_channel = in_data[IN_BITS-3:ROW_BITS+COLUMN_BITS];
    wire [ROW_BITS-1:0]     in_row     = in_data[ROW_BITS+COLUMN_BITS-1:COLUMN_BITS];
    wire [COLUMN_BITS-1:0]  in_column  = in_data[COLUMN_BITS-1:0];

    // the three terms, modulo 2**INDEX_BITS
    wire [INDEX_BITS-1:0] channel_offset;   // c * ROWS * COLUMNS
    wire [INDEX_BITS-1:0] row_offset;       // y * COLUMNS
    wire [INDEX_BITS-1:0] column_offset;    // x (K = 1: zero-extended)
    snn_const_mul #(.IN_WIDTH(CHANNEL_BITS), .OUT_WIDTH(INDEX_BITS), .K(ROWS * COLUMNS)) u_channel_offset (
        .x(in_channel), .y(channel_offset));
    snn_const_mul #(.IN_WIDTH(ROW_BITS), .OUT_WIDTH(INDEX_BITS), .K(COLUMNS)) u_row_offset (
        .x(in_row), .y(row_offset));
    snn_const_mul #(.IN_WIDTH(COLUMN_BITS), .OUT_WIDTH(INDEX_BITS), .K(1)) u_column_offset (
        .x(in_column), .y(column_offset));
    wire [INDEX_BITS-1:0] flat_index = channel_offset + row_offset + column_offset;

    assign out_valid = in_valid;
    assign in_ready  = out_ready;
    assign out_data  = {in_data[IN_BITS-1:IN_BITS-2], flat_index};
endmodule
`default_nettype wire
