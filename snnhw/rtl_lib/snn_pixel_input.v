// snnhw hardware library: the analog input front end of the first layer.
//
// Counts the accepted pixels of an image in C-H-W order and tells the
// engine where the next pixel sits (px_c, px_y, px_x), whether it is the
// image's first or last pixel, and how many time steps the image runs:
// cfg_timesteps sampled with the first pixel, 0 counting as 1 and values
// above T_MAX clamped to T_MAX. The pixel count is authoritative: a tlast
// (pixel_last) that disagrees with it sets the sticky framing_error and
// changes nothing else.
//
// Parameters
//   CHANNELS, HEIGHT, WIDTH  image shape (a dense first layer: CHANNELS = C*H*W, HEIGHT = WIDTH = 1)
//   CW, YW, XW               widths of px_c, px_y, px_x
//   T_MAX                    largest number of time steps
//   STEP_W                   width of cfg_timesteps and t_steps
`default_nettype none
module snn_pixel_input #(
    parameter integer CHANNELS = 1,
    parameter integer HEIGHT   = 1,
    parameter integer WIDTH    = 1,
    parameter integer CW       = 1,
    parameter integer YW       = 1,
    parameter integer XW       = 1,
    parameter integer T_MAX    = 1,
    parameter integer STEP_W   = 1
) (
    input  wire              clk,
    input  wire              rst,
    // a pixel is accepted this cycle (and its tlast)
    input  wire              pixel_take,
    input  wire              pixel_last,
    // run-time configuration
    input  wire [STEP_W-1:0] cfg_timesteps,
    // position of the next pixel
    output reg  [CW-1:0]     px_c,
    output reg  [YW-1:0]     px_y,
    output reg  [XW-1:0]     px_x,
    output reg               px_first,
    output wire              px_last,
    // the current image
    output reg  [STEP_W-1:0] t_steps,
    output reg               framing_error
);
    localparam [31:0] LAST_C = CHANNELS - 1;
    localparam [31:0] LAST_Y = HEIGHT - 1;
    localparam [31:0] LAST_X = WIDTH - 1;
    localparam [31:0] T_MAX32 = T_MAX;

`ifndef SYNTHESIS
    initial begin
        if (CHANNELS < 1 || HEIGHT < 1 || WIDTH < 1 || (1 << CW) < CHANNELS || (1 << YW) < HEIGHT ||
            (1 << XW) < WIDTH) begin
            $error("snn_pixel_input: image %0dx%0dx%0d does not fit CW %0d, YW %0d, XW %0d",
                   CHANNELS, HEIGHT, WIDTH, CW, YW, XW);
            $fatal(1, "snn_pixel_input: bad parameters");
        end
        if (T_MAX < 1 || STEP_W > 31 || (1 << STEP_W) <= T_MAX) begin
            $error("snn_pixel_input: T_MAX (%0d) must be >= 1 and below 2**STEP_W (STEP_W = %0d)", T_MAX, STEP_W);
            $fatal(1, "snn_pixel_input: bad parameters");
        end
    end
`endif

    // compared in 32 bits: with T_MAX = 2**STEP_W - 1 (STEP_W = ubits(T_MAX), T_MAX = 1, 3, 7, 15 ...)
    // a STEP_W-bit comparison is constant and lint (CMPCONST) flags it
    wire [31:0] cfg32 = {{(32 - STEP_W){1'b0}}, cfg_timesteps};

    // px_first is a register (the position is (0, 0, 0) exactly after a reset or the last pixel):
    // it gates layer 0's first-pixel handshake with the early-exit queue, a long wire away, so
    // the counters' compare stays off that path
    assign px_last  = (px_c == LAST_C[CW-1:0]) && (px_y == LAST_Y[YW-1:0]) && (px_x == LAST_X[XW-1:0]);

    always @(posedge clk) begin
        if (rst) begin
            t_steps       <= {{(STEP_W - 1){1'b0}}, 1'b1};
            px_c          <= {CW{1'b0}};
            px_y          <= {YW{1'b0}};
            px_x          <= {XW{1'b0}};
            framing_error <= 1'b0;
            px_first      <= 1'b1;
        end else if (pixel_take) begin
            px_first <= px_last;
            if (px_first) begin
                if (cfg_timesteps == {STEP_W{1'b0}})
                    t_steps <= {{(STEP_W - 1){1'b0}}, 1'b1};
                else if (cfg32 > T_MAX32)
                    t_steps <= T_MAX32[STEP_W-1:0];
                else
                    t_steps <= cfg_timesteps;
            end
            if (pixel_last != px_last) framing_error <= 1'b1;
            if (px_last) begin
                px_c <= {CW{1'b0}};
                px_y <= {YW{1'b0}};
                px_x <= {XW{1'b0}};
            end else if (px_x != LAST_X[XW-1:0]) begin
                px_x <= px_x + 1'b1;
            end else begin
                px_x <= {XW{1'b0}};
                if (px_y != LAST_Y[YW-1:0]) begin
                    px_y <= px_y + 1'b1;
                end else begin
                    px_y <= {YW{1'b0}};
                    px_c <= px_c + 1'b1;
                end
            end
        end
    end
endmodule
`default_nettype wire
