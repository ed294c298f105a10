// ============================================================================
// snn_ecp5_pll -- the ECP5 EHXPLLL primitive for one output clock (snnhw RTL library, Verilog-2005)
//
// Makes the accelerator's clock from the board oscillator on Lattice ECP5:
// CLKOP = clk_in * CLKFB_DIV / CLKI_DIV, with the VCO at CLKOP * CLKOP_DIV
// (400..800 MHz on ECP5). Feedback comes from CLKOP itself (FEEDBK_PATH
// "CLKOP", CLKFB tied to CLKOP), so clk_out is phase-aligned to clk_in. The
// parameter values are the ones `ecppll -i <in> -o <out>` prints (for example
// 25 -> 50 MHz: CLKI_DIV 1, CLKFB_DIV 2, CLKOP_DIV 12, CLKOP_CPHASE 5); the
// module checks only their ranges, not that the VCO is in its band -- ecppll
// (or snnhw's board flow) chooses them. The loop-filter attributes are the
// constants ecppll always emits; FREQUENCY_PIN_CLKI/CLKOP tell nextpnr the
// clock frequencies for its timing analysis.
//
// locked is the PLL's LOCK output, asynchronous to clk_out: synchronize it
// before use (snn_reset_gen does).
//
// With `define SNNHW_PLL_BYPASS (simulation and lint: Verilator has no model
// of EHXPLLL) clk_out = clk_in and locked = 1.
//
// Parameters
//   CLKI_DIV      reference divider (1..128)
//   CLKFB_DIV     feedback divider (1..80)
//   CLKOP_DIV     output divider (1..128)
//   CLKOP_CPHASE  output coarse phase in VCO cycles (0..127, as ecppll prints it)
//   FREQ_IN_MHZ   clk_in frequency in MHz, a string ("25")
//   FREQ_OUT_MHZ  clk_out frequency in MHz, a string ("50")
//
// Latency: none (a clock); locked rises some 10..100 us after configuration.
//
// Interfaces
//   clock in  : clk_in (the oscillator pin)
//   clock out : clk_out, locked
// ============================================================================
`default_nettype none
module snn_ecp5_pll #(
    parameter integer CLKI_DIV     = 1,
    parameter integer CLKFB_DIV    = 2,
    parameter integer CLKOP_DIV    = 12,
    parameter integer CLKOP_CPHASE = 5,
    parameter         FREQ_IN_MHZ  = "25",
    parameter         FREQ_OUT_MHZ = "50"
) (
    // clock in
    input  wire clk_in,
    // clock out
    output wire clk_out,
    output wire locked
);
`ifndef SYNTHESIS
    initial begin
        if (CLKI_DIV < 1 || CLKI_DIV > 128) begin
            $error("snn_ecp5_pll: CLKI_DIV (%0d) must be in 1..128", CLKI_DIV);
            $fatal(1, "snn_ecp5_pll: bad parameters");
        end
        if (CLKFB_DIV < 1 || CLKFB_DIV > 80) begin
            $error("snn_ecp5_pll: CLKFB_DIV (%0d) must be in 1..80", CLKFB_DIV);
            $fatal(1, "snn_ecp5_pll: bad parameters");
        end
        if (CLKOP_DIV < 1 || CLKOP_DIV > 128) begin
            $error("snn_ecp5_pll: CLKOP_DIV (%0d) must be in 1..128", CLKOP_DIV);
            $fatal(1, "snn_ecp5_pll: bad parameters");
        end
        if (CLKOP_CPHASE < 0 || CLKOP_CPHASE > 127) begin
            $error("snn_ecp5_pll: CLKOP_CPHASE (%0d) must be in 0..127", CLKOP_CPHASE);
            $fatal(1, "snn_ecp5_pll: bad parameters");
        end
        // nextpnr takes the clock frequencies from these attributes
        if (FREQ_IN_MHZ == "" || FREQ_OUT_MHZ == "") begin
            $error("snn_ecp5_pll: FREQ_IN_MHZ (\"%0s\") and FREQ_OUT_MHZ (\"%0s\") must be given",
                   FREQ_IN_MHZ, FREQ_OUT_MHZ);
            $fatal(1, "snn_ecp5_pll: bad parameters");
        end
    end
`endif

`ifdef SNNHW_PLL_BYPASS
    assign clk_out = clk_in;
    assign locked  = 1'b1;
`else
    wire unused_clkintfb;
    (* FREQUENCY_PIN_CLKI = FREQ_IN_MHZ *)
    (* FREQUENCY_PIN_CLKOP = FREQ_OUT_MHZ *)
    (* ICP_CURRENT = "12" *) (* LPF_RESISTOR = "8" *) (* MFG_ENABLE_FILTEROPAMP = "1" *) (* MFG_GMCREF_SEL = "2" *)
    EHXPLLL #(
        .PLLRST_ENA("DISABLED"),
        .INTFB_WAKE("DISABLED"),
        .STDBY_ENABLE("DISABLED"),
        .DPHASE_SOURCE("DISABLED"),
        .OUTDIVIDER_MUXA("DIVA"),
        .OUTDIVIDER_MUXB("DIVB"),
        .OUTDIVIDER_MUXC("DIVC"),
        .OUTDIVIDER_MUXD("DIVD"),
        .CLKI_DIV(CLKI_DIV),
        .CLKOP_ENABLE("ENABLED"),
        .CLKOP_DIV(CLKOP_DIV),
        .CLKOP_CPHASE(CLKOP_CPHASE),
        .CLKOP_FPHASE(0),
        .FEEDBK_PATH("CLKOP"),
        .CLKFB_DIV(CLKFB_DIV)
    ) u_pll (
        .RST(1'b0),
        .STDBY(1'b0),
        .CLKI(clk_in),
        .CLKOP(clk_out),
        .CLKFB(clk_out),
        .CLKINTFB(unused_clkintfb),  // internal feedback: CLKOP feeds back instead
        .PHASESEL0(1'b0),
        .PHASESEL1(1'b0),
        .PHASEDIR(1'b1),
        .PHASESTEP(1'b1),
        .PHASELOADREG(1'b1),
        .PLLWAKESYNC(1'b0),
        .ENCLKOP(1'b0),
        .LOCK(locked)
    );
`endif
endmodule
`default_nettype wire
