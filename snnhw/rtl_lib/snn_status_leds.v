// ============================================================================
// snn_status_leds -- the board's status LEDs (snnhw RTL library, Verilog-2005)
//
//   led[0]          heartbeat: the top bit of a free-running HEARTBEAT_BITS
//                   counter, so it blinks at clk / 2^HEARTBEAT_BITS; it runs
//                   in reset too, so a board held in reset still shows that
//                   its clock runs
//   led[1]          locked (the PLL; shown in reset too, when it matters most)
//   led[2]          busy
//   led[3]          error
//   led[LEDS-1:4]   the low LEDS - 4 bits of last_class
// Every LED is a register (no glitches on the pins); busy, error and the
// class LEDs are 0 in reset. LEDs are active high: a board with active-low
// LEDs inverts them in its top.
//
// Parameters
//   HEARTBEAT_BITS  heartbeat counter bits (>= 2): 25 at 50 MHz blinks at 1.5 Hz
//   LEDS            number of LEDs (4..8)
//
// Latency: one cycle from an input to its LED.
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high)
//   status in       : locked (may be asynchronous: it only drives an LED), busy, error, last_class
//   LEDs            : led
// ============================================================================
`default_nettype none
module snn_status_leds #(
    parameter integer HEARTBEAT_BITS = 25,
    parameter integer LEDS           = 8
) (
    // clock and reset
    input  wire            clk,
    input  wire            rst,
    // status in
    input  wire            locked,
    input  wire            busy,
    input  wire            error,
    input  wire [7:0]      last_class,
    // LEDs
    output wire [LEDS-1:0] led
);
    localparam integer CLASS_LEDS = LEDS - 4;   // LEDs left for last_class

`ifndef SYNTHESIS
    initial begin
        if (HEARTBEAT_BITS < 2) begin
            $error("snn_status_leds: HEARTBEAT_BITS (%0d) must be >= 2", HEARTBEAT_BITS);
            $fatal(1, "snn_status_leds: bad parameters");
        end
        if (LEDS < 4 || LEDS > 8) begin
            $error("snn_status_leds: LEDS (%0d) must be in 4..8", LEDS);
            $fatal(1, "snn_status_leds: bad parameters");
        end
    end
`endif

    // free running, no reset: the heartbeat must not stop in reset
    reg [HEARTBEAT_BITS-1:0] beat;
    reg                      led_beat, led_locked;
    initial begin   // FF initial values (the device loads them): a defined heartbeat from configuration on
        beat       = {HEARTBEAT_BITS{1'b0}};
        led_beat   = 1'b0;
        led_locked = 1'b0;
    end
    always @(posedge clk) begin
        beat       <= beat + 1'b1;
        led_beat   <= beat[HEARTBEAT_BITS-1];
        led_locked <= locked;
    end

    reg led_busy, led_error;
    always @(posedge clk) begin
        if (rst) begin
            led_busy  <= 1'b0;
            led_error <= 1'b0;
        end else begin
            led_busy  <= busy;
            led_error <= error;
        end
    end
    assign led[3:0] = {led_error, led_busy, led_locked, led_beat};

    generate
        if (CLASS_LEDS > 0) begin : g_class
            reg [CLASS_LEDS-1:0] led_class;
            always @(posedge clk) begin
                if (rst) led_class <= {CLASS_LEDS{1'b0}};
                else     led_class <= last_class[CLASS_LEDS-1:0];
            end
            assign led[LEDS-1:4] = led_class;
        end
    endgenerate
    wire [7:0] unused_class = last_class;   // only the low CLASS_LEDS bits show
endmodule
`default_nettype wire
