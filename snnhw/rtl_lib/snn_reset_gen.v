// ============================================================================
// snn_reset_gen -- the board's reset (snnhw RTL library, Verilog-2005)
//
// Holds rst high from FPGA configuration, while the PLL is not locked, while
// the reset button is pressed, and for HOLD_CYCLES cycles after both are fine.
// The registers start from their initial values (Yosys honours them on ECP5,
// the device sets them during configuration), so rst is high from the very
// first clock edge without any external reset. pll_locked and button are
// asynchronous (PLL output, raw pin) and each goes through two flip-flops; a
// bouncing button only restarts the hold count. A lost lock or a press at any
// time resets again.
//
// rst only starts the accelerator: snn_top then runs its own INIT/CLEAR sweep
// over its memories with s_axis_tready low (manifest.interface
// .init_cycles_after_reset bounds it), so nothing here needs to last that long.
//
// Parameters
//   HOLD_CYCLES         cycles rst stays high after its causes go away (>= 1)
//   BUTTON_ACTIVE_HIGH  1: a pressed button reads 1; 0: it reads 0 (pull-up to a switch to ground)
//
// Latency: after the last cause goes away (pll_locked rises or the button is
// released) between two clock edges, rst falls at the (HOLD_CYCLES + 3)-th
// edge: two synchronizer edges, HOLD_CYCLES counting edges, and the edge that
// registers rst. A cause rst sees at the third edge after it appears
// (synchronizer, then the rst register).
//
// Interfaces
//   clock     : clk (the PLL output; it may be unstable before pll_locked)
//   causes    : pll_locked, button (asynchronous)
//   reset out : rst (synchronous to clk, active high)
// ============================================================================
`default_nettype none
module snn_reset_gen #(
    parameter integer HOLD_CYCLES        = 16,
    parameter integer BUTTON_ACTIVE_HIGH = 1
) (
    // clock
    input  wire clk,
    // causes
    input  wire pll_locked,
    input  wire button,
    // reset out
    output wire rst
);
    localparam integer CW = (HOLD_CYCLES > 0) ? $clog2(HOLD_CYCLES + 1) : 1;   // counts 0..HOLD_CYCLES
    localparam [0:0]   BUTTON_IDLE = (BUTTON_ACTIVE_HIGH != 0) ? 1'b0 : 1'b1;   // level when released

`ifndef SYNTHESIS
    initial begin
        if (HOLD_CYCLES < 1) begin
            $error("snn_reset_gen: HOLD_CYCLES (%0d) must be >= 1", HOLD_CYCLES);
            $fatal(1, "snn_reset_gen: bad parameters");
        end
        if (BUTTON_ACTIVE_HIGH != 0 && BUTTON_ACTIVE_HIGH != 1) begin
            $error("snn_reset_gen: BUTTON_ACTIVE_HIGH (%0d) must be 0 or 1", BUTTON_ACTIVE_HIGH);
            $fatal(1, "snn_reset_gen: bad parameters");
        end
    end
`endif

    reg          locked_meta, locked_sync;
    reg          button_meta, button_sync;
    reg [CW-1:0] count;   // cycles without a cause, saturating at HOLD_CYCLES
    reg          rst_r;
    // The power-on state, as FF initial values (not under SYNTHESIS: the
    // device loads them at configuration): unlocked, released, count 0, in
    // reset. An initial block rather than declaration initializers: lint
    // (PROCASSINIT) flags those on registers that an always block writes.
    initial begin
        locked_meta = 1'b0;
        locked_sync = 1'b0;
        button_meta = BUTTON_IDLE;
        button_sync = BUTTON_IDLE;
        count       = {CW{1'b0}};
        rst_r       = 1'b1;
    end

    wire cause = !locked_sync || (button_sync != BUTTON_IDLE);

    always @(posedge clk) begin
        locked_meta <= pll_locked;
        locked_sync <= locked_meta;
        button_meta <= button;
        button_sync <= button_meta;
        if (cause) begin
            count <= {CW{1'b0}};
            rst_r <= 1'b1;
        end else if (count != HOLD_CYCLES[CW-1:0]) begin
            count <= count + 1'b1;
            rst_r <= 1'b1;
        end else begin
            rst_r <= 1'b0;
        end
    end
    assign rst = rst_r;
endmodule
`default_nettype wire
