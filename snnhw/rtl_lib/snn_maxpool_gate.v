// ============================================================================
// snn_maxpool_gate -- max-pool spike gate (snnhw RTL library, Verilog-2005)
//
// A spiking max-pool layer (paper section 3.6; docs/numeric_contract.md,
// "Max-pool gate"). Every input neuron j = (c, y, x) keeps a spike counter
// c_j over the image's time steps; in each step, every output window
// (c, oy, ox) passes the spike of the in-bounds input with the largest
// count (ties: the first in row-major window order), so the window spikes
// iff that input spiked in this step. Padded positions are never selected.
//
// Per time step t (1-based):
//   EVENTS : every input spike (c, y, x) increments its counter and stamps
//            it with t; every output window containing it is put on a list
//            once (a per-window mark remembers that it is listed; SELECT
//            clears it). The windows one event reaches are enumerated by
//            snn_scatter_addr, one per cycle (ceil(KH/SH) * ceil(KW/SW)
//            cycles per event).
//   DRAIN  : after the end-of-step token, wait for the counter and mark
//            pipelines to empty.
//   SELECT : for each listed window, scan its in-bounds inputs in
//            row-major order (one counter read per window position, KH*KW
//            cycles, plus 3 cycles per window to fetch its list entry); the
//            input with the largest count (ties: first) is selected; the
//            window spikes iff the selected input's stamp equals t. Windows
//            without an input spike in this step cannot spike, so only
//            listed windows are scanned.
//   FLUSH  : wait for the scan pipeline and the output queue to empty, then
//   EOS    : send the end-of-step token {1, last, 0}.
// After the image's last step (the end-of-step token with the last flag),
// and after reset, a CLEAR sweep of max(N_IN, N_WIN) cycles zeroes counters,
// stamps and marks; in_ready is low meanwhile.
//
// Memories (snn_ram): counters {count, stamp}, N_IN words, three-cycle read
// latency (OUTREG = 2), split into banks of 2**COUNTER_BANK_AW words with
// registered bank outputs when N_IN > 2**COUNTER_BANK_AW; window marks
// (1 bit) and the window list ({c, oy, ox}), N_WIN words each, two-cycle
// read latency (OUTREG = 1). The gated spikes wait in a 4-entry snn_fifo.
//
// Parameters
//   CHANNELS           channels (the same at input and output)
//   H_IN, W_IN         input map
//   H_OUT, W_OUT       output map (windows)
//   KH, KW             window (kernel) size
//   SH, SW             stride
//   PT, PL             top / left padding (bottom / right padding is implied
//                      by H_OUT / W_OUT)
//   T_MAX              maximum number of time steps per image (sizes the
//                      counters and the step stamps: ubits(T_MAX) bits each)
//   COUNTER_BANK_AW    the counter RAM is banked (banks of 2**COUNTER_BANK_AW
//                      words) when N_IN = CHANNELS*H_IN*W_IN exceeds one bank;
//                      0: never banked
//   IN_CW, IN_YW, IN_XW     widths of the input token's c, y, x fields
//   OUT_CW, OUT_YW, OUT_XW  widths of the output token's c, oy, ox fields
//
// Derived widths (localparams) are those of snnhw.codegen.layout, with
// ubits(n) = bits of an unsigned register holding 0..n (at least 1):
//   N_IN = CHANNELS*H_IN*W_IN, N_WIN = CHANNELS*H_OUT*W_OUT,
//   counters and stamps ubits(T_MAX) bits, counter address ubits(N_IN - 1),
//   window address ubits(N_WIN - 1), list length ubits(N_WIN).
//
// Latency and throughput (cycles):
//   EVENTS : ceil(KH/SH) * ceil(KW/SW) per input spike (in_ready is low
//            while an event still has windows to enumerate);
//   DRAIN  : at most 4 after the end-of-step token;
//   SELECT : KH*KW + 3 per listed window (a window with an input spike in
//            the step), stalling while the output queue is full;
//   FLUSH  : 3 plus the output queue's drain, then the end-of-step token;
//   CLEAR  : max(N_IN, N_WIN) after the image's last step and after reset.
// A step's output spikes follow its end-of-step token on the input; the
// output end-of-step token follows the last of them.
//
// Interfaces (valid/ready; a token moves when valid and ready are both high)
//   clock / reset : clk, rst (synchronous, active high)
//   input stream  : in_valid, in_ready, in_data = {eos, last, c, y, x};
//                   a spike token has eos = 0; the end-of-step token has
//                   eos = 1 and last = 1 on the image's last step (its
//                   other bits are ignored). Each input spikes at most once
//                   per step.
//   output stream : out_valid, out_ready, out_data = {eos, last, c, oy, ox};
//                   spike tokens (eos = 0, last = 0) in no particular
//                   order, then the end-of-step token {1, last, 0}.
// ============================================================================
`default_nettype none
module snn_maxpool_gate #(
    parameter integer CHANNELS        = 1,
    parameter integer H_IN            = 2,
    parameter integer W_IN            = 2,
    parameter integer H_OUT           = 1,
    parameter integer W_OUT           = 1,
    parameter integer KH              = 2,
    parameter integer KW              = 2,
    parameter integer SH              = 2,
    parameter integer SW              = 2,
    parameter integer PT              = 0,
    parameter integer PL              = 0,
    parameter integer T_MAX           = 16,
    parameter integer COUNTER_BANK_AW = 10,
    parameter integer IN_CW           = 1,
    parameter integer IN_YW           = 1,
    parameter integer IN_XW           = 1,
    parameter integer OUT_CW          = 1,
    parameter integer OUT_YW          = 1,
    parameter integer OUT_XW          = 1
) (
    // clock and synchronous active-high reset
    input  wire                                clk,
    input  wire                                rst,
    // input spike stream {eos, last, c, y, x}
    input  wire                                in_valid,
    output wire                                in_ready,
    input  wire [IN_CW+IN_YW+IN_XW+1:0]        in_data,
    // output spike stream {eos, last, c, oy, ox}
    output wire                                out_valid,
    input  wire                                out_ready,
    output wire [OUT_CW+OUT_YW+OUT_XW+1:0]     out_data
);
    function integer ubits;            // bits of an unsigned register holding 0..n (at least 1)
        input integer n;
        begin
            ubits = 1;
            while (n > 0 && (n >> ubits) != 0) ubits = ubits + 1;
        end
    endfunction

    // The geometry as the datapath and the instances see it: the parameters,
    // clamped to their legal ranges so that a bad set still elaborates and
    // the parameter check below reports it (equal to the parameters otherwise).
    localparam integer C_OK     = (CHANNELS < 1) ? 1 : CHANNELS;
    localparam integer H_IN_OK  = (H_IN  < 1) ? 1 : H_IN;
    localparam integer W_IN_OK  = (W_IN  < 1) ? 1 : W_IN;
    localparam integer H_OUT_OK = (H_OUT < 1) ? 1 : H_OUT;
    localparam integer W_OUT_OK = (W_OUT < 1) ? 1 : W_OUT;
    localparam integer KH_OK    = (KH < 1) ? 1 : KH;
    localparam integer KW_OK    = (KW < 1) ? 1 : KW;
    localparam integer SH_OK    = (SH < 1) ? 1 : SH;
    localparam integer SW_OK    = (SW < 1) ? 1 : SW;
    localparam integer PT_OK    = (PT < 0) ? 0 : PT;
    localparam integer PL_OK    = (PL < 0) ? 0 : PL;

    localparam integer N_IN   = C_OK * H_IN_OK * W_IN_OK;      // counters
    localparam integer N_WIN  = C_OK * H_OUT_OK * W_OUT_OK;    // windows (output neurons)
    localparam integer N_CLR  = (N_IN > N_WIN) ? N_IN : N_WIN; // length of the CLEAR sweep
    localparam integer CNTW   = ubits(T_MAX);                  // counter bits (counts up to T_MAX)
    localparam integer STW    = ubits(T_MAX);                  // step stamp bits (1..T_MAX, 0 = never)
    localparam integer IN_W   = IN_CW + IN_YW + IN_XW + 2;     // input token bits
    localparam integer LCW    = OUT_CW + OUT_YW + OUT_XW;      // window coordinate bits {c, oy, ox}
    localparam integer LNW    = ubits(N_WIN);                  // listed-window count bits (0..N_WIN)
    localparam integer NAW    = ubits(N_IN - 1);               // counter address bits
    localparam integer WAW    = ubits(N_WIN - 1);              // window address bits
    localparam integer CLW    = ubits(N_CLR - 1);              // CLEAR sweep address bits
    localparam integer KHW    = ubits(KH_OK - 1);              // window row / column bits
    localparam integer KWW    = ubits(KW_OK - 1);
    localparam integer CHW    = ubits(C_OK - 1);               // channel bits (the scatter's unused group output)
    localparam integer CNT_BANK_AW = (COUNTER_BANK_AW >= 1 && COUNTER_BANK_AW <= 30 &&
                                      N_IN > (1 << COUNTER_BANK_AW)) ? COUNTER_BANK_AW : 0;
    // 32-bit constants of the index arithmetic
    localparam [31:0] H_IN_32     = H_IN_OK;
    localparam [31:0] W_IN_32     = W_IN_OK;
    localparam [31:0] PT_32       = PT_OK;
    localparam [31:0] PL_32       = PL_OK;
    localparam [31:0] PAD_OFFSET  = PT_OK * W_IN_OK + PL_OK;     // counter address offset of the padding
    localparam [31:0] N_IN_32     = N_IN;
    localparam [31:0] N_WIN_32    = N_WIN;
    localparam [31:0] LAST_CLR    = N_CLR - 1;
    localparam [31:0] LAST_KY     = KH_OK - 1;
    localparam [31:0] LAST_KX     = KW_OK - 1;
    localparam [31:0] ONE_32      = 1;
    localparam [31:0] ROW_STEP    = W_IN_OK;                   // counter address step to the next window row

`ifndef SYNTHESIS
    initial begin
        if (CHANNELS < 1 || H_IN < 1 || W_IN < 1 || H_OUT < 1 || W_OUT < 1 || KH < 1 || KW < 1 ||
            SH < 1 || SW < 1 || PT < 0 || PL < 0) begin
            $error("snn_maxpool_gate: geometry CHANNELS %0d H_IN %0d W_IN %0d H_OUT %0d W_OUT %0d KH %0d KW %0d SH %0d SW %0d PT %0d PL %0d is not mappable",
                   CHANNELS, H_IN, W_IN, H_OUT, W_OUT, KH, KW, SH, SW, PT, PL);
            $fatal(1, "snn_maxpool_gate: bad parameters");
        end
        if (T_MAX < 1) begin
            $error("snn_maxpool_gate: T_MAX (%0d) must be >= 1", T_MAX);
            $fatal(1, "snn_maxpool_gate: bad parameters");
        end
        if (COUNTER_BANK_AW < 0 || COUNTER_BANK_AW > 30) begin
            $error("snn_maxpool_gate: COUNTER_BANK_AW (%0d) must be in 0..30", COUNTER_BANK_AW);
            $fatal(1, "snn_maxpool_gate: bad parameters");
        end
        if (IN_CW < 1 || IN_YW < 1 || IN_XW < 1 || OUT_CW < 1 || OUT_YW < 1 || OUT_XW < 1 ||
            IN_CW + IN_YW + IN_XW > 30 || OUT_CW + OUT_YW + OUT_XW > 30) begin
            $error("snn_maxpool_gate: token fields IN_CW/IN_YW/IN_XW (%0d/%0d/%0d) and OUT_CW/OUT_YW/OUT_XW (%0d/%0d/%0d) must be >= 1 and sum to at most 30 each",
                   IN_CW, IN_YW, IN_XW, OUT_CW, OUT_YW, OUT_XW);
            $fatal(1, "snn_maxpool_gate: bad parameters");
        end
        if ((1 << IN_CW) < CHANNELS || (1 << IN_YW) < H_IN || (1 << IN_XW) < W_IN ||
            (1 << OUT_CW) < CHANNELS || (1 << OUT_YW) < H_OUT || (1 << OUT_XW) < W_OUT) begin
            $error("snn_maxpool_gate: token fields IN_CW/IN_YW/IN_XW (%0d/%0d/%0d) or OUT_CW/OUT_YW/OUT_XW (%0d/%0d/%0d) cannot hold %0d x %0d x %0d in / %0d x %0d x %0d out",
                   IN_CW, IN_YW, IN_XW, OUT_CW, OUT_YW, OUT_XW, CHANNELS, H_IN, W_IN, CHANNELS, H_OUT, W_OUT);
            $fatal(1, "snn_maxpool_gate: bad parameters");
        end
    end
`endif

    localparam [2:0] S_CLEAR  = 3'd0,
                     S_EVENTS = 3'd1,
                     S_DRAIN  = 3'd2,
                     S_SELECT = 3'd3,
                     S_FLUSH  = 3'd4,
                     S_EOS    = 3'd5;
    reg [2:0]       state;
    reg             step_last;          // the current step is the image's last
    reg [STW-1:0]   step;               // current step, 1-based
    reg [LNW-1:0]   n_list;             // windows listed in this step
    reg [CLW-1:0]   clr_addr;           // CLEAR sweep address
    wire [31:0]     clr_addr32 = {{(32 - CLW){1'b0}}, clr_addr};

    // ------------------------------------------------------------------
    // Memories: counters {count, stamp}, window marks, window list. Marks and
    // list reads have a two-cycle latency (OUTREG = 1); counter reads three
    // (OUTREG = 2; banked when deeper than 2**COUNTER_BANK_AW words).
    // ------------------------------------------------------------------
    reg              cnt_re;
    reg  [NAW-1:0]   cnt_raddr;
    wire [CNTW+STW-1:0] cnt_rdata;
    reg              cnt_we;
    reg  [NAW-1:0]   cnt_waddr;
    reg  [CNTW+STW-1:0] cnt_wdata;
    snn_ram #(.WIDTH(CNTW + STW), .DEPTH(N_IN), .AW(NAW), .OUTREG(2), .BANK_AW(CNT_BANK_AW)) u_counters (
        .clk(clk), .we(cnt_we), .waddr(cnt_waddr), .wdata(cnt_wdata),
        .re(cnt_re), .raddr(cnt_raddr), .rdata(cnt_rdata));

    reg              mark_re;
    reg  [WAW-1:0]   mark_raddr;
    wire             mark_rdata;           // 1: the window is listed in this step
    reg              mark_we;
    reg  [WAW-1:0]   mark_waddr;
    reg              mark_wdata;
    snn_ram #(.WIDTH(1), .DEPTH(N_WIN), .AW(WAW), .OUTREG(1)) u_marks (
        .clk(clk), .we(mark_we), .waddr(mark_waddr), .wdata(mark_wdata),
        .re(mark_re), .raddr(mark_raddr), .rdata(mark_rdata));

    reg              list_re;
    reg  [WAW-1:0]   list_raddr;
    wire [LCW-1:0]   list_rdata;
    reg              list_we;
    reg  [LCW-1:0]   list_wdata;
    wire [WAW-1:0]   list_waddr = n_list[WAW-1:0];   // n_list < N_WIN while writing
    snn_ram #(.WIDTH(LCW), .DEPTH(N_WIN), .AW(WAW), .OUTREG(1)) u_list (
        .clk(clk), .we(list_we), .waddr(list_waddr), .wdata(list_wdata),
        .re(list_re), .raddr(list_raddr), .rdata(list_rdata));

    // ------------------------------------------------------------------
    // EVENTS: counter update and window listing
    // ------------------------------------------------------------------
    wire             in_eos  = in_data[IN_W-1];
    wire             in_last = in_data[IN_W-2];
    wire [IN_CW-1:0] in_c    = in_data[IN_CW+IN_YW+IN_XW-1:IN_YW+IN_XW];
    wire [IN_YW-1:0] in_y    = in_data[IN_YW+IN_XW-1:IN_XW];
    wire [IN_XW-1:0] in_x    = in_data[IN_XW-1:0];
    // counter address of the incoming spike: c*H_IN*W_IN + y*W_IN + x
    wire [31:0] in_c_times_hw, in_y_times_w;
    snn_const_mul #(.IN_WIDTH(IN_CW), .OUT_WIDTH(32), .K(H_IN_OK * W_IN_OK)) u_in_c_hw (.x(in_c), .y(in_c_times_hw));
    snn_const_mul #(.IN_WIDTH(IN_YW), .OUT_WIDTH(32), .K(W_IN_OK)) u_in_y_w (.x(in_y), .y(in_y_times_w));
    wire [31:0] in_addr = in_c_times_hw + in_y_times_w + {{(32 - IN_XW){1'b0}}, in_x};

    // the windows one event reaches, one per cycle while in EVENTS
    wire             ev_accept;
    wire             it_valid;             // an event's window iteration is pending
    wire             it_in;                // ... and its window is in range
    wire             it_last;              // ... and it is the event's last
    wire [WAW-1:0]   it_win;               // window address (c*H_OUT + oy)*W_OUT + ox
    wire [OUT_YW-1:0] it_oy;
    wire [OUT_XW-1:0] it_ox;
    wire [CHW-1:0]   it_group_unused;
    wire             it_weight_unused;
    snn_scatter_addr #(
        .H_IN(H_IN_OK), .W_IN(W_IN_OK), .H_OUT(H_OUT_OK), .W_OUT(W_OUT_OK), .KH(KH_OK), .KW(KW_OK),
        .SH(SH_OK), .SW(SW_OK), .PT(PT_OK), .PL(PL_OK), .GROUPS(1), .TARGET_CHANNEL_DIV(1), .WEIGHTS(0),
        .CW(IN_CW), .YW(IN_YW), .XW(IN_XW), .GW(CHW), .TAW(WAW), .WAW(1), .OYW(OUT_YW), .OXW(OUT_XW)
    ) u_scatter (
        .clk(clk), .rst(rst),
        .start(ev_accept), .ev_c(in_c), .ev_y(in_y), .ev_x(in_x),
        .advance(state == S_EVENTS), .it_valid(it_valid), .it_in(it_in), .it_last(it_last),
        .it_group(it_group_unused), .it_target(it_win), .it_weight(it_weight_unused),
        .it_oy(it_oy), .it_ox(it_ox));
    reg  [IN_CW-1:0] ev_c;                 // the current event's channel
    wire [31:0]      ev_c32 = {{(32 - IN_CW){1'b0}}, ev_c};

    assign in_ready = (state == S_EVENTS) && (!it_valid || it_last);
    assign ev_accept  = in_valid && in_ready && !in_eos;
    wire   eos_accept = in_valid && in_ready && in_eos;
    wire   mk_issue   = (state == S_EVENTS) && it_valid && it_in;   // read a window's mark

    // counter update: address registered (e), read, word in c3: write. An
    // input spikes at most once per step, so no update overtakes another.
    reg              e_valid, c1_valid, c2_valid, c3_valid;
    reg  [NAW-1:0]   e_addr, c1_addr, c2_addr, c3_addr;
    // window marking: read (m1), word in m2: list it unless marked in this step.
    // The ops one and two ahead may have marked the same window (not yet
    // visible in the word read): m1_fwd2 / m2_fwd.
    reg              m1_valid, m2_valid;
    reg  [WAW-1:0]   m1_addr, m2_addr;
    reg  [LCW-1:0]   m1_coord, m2_coord;
    reg              m1_fwd2, m2_fwd;
    wire             mb_new = m2_valid && !m2_fwd && !mark_rdata;   // list the window in m2

    // ------------------------------------------------------------------
    // SELECT: scan the listed windows. Per window: fetch the list entry,
    // wait for it, compute the scan's start address (BASE), then one counter
    // read per window position with the address stepped by constants.
    // ------------------------------------------------------------------
    localparam [1:0] P_FETCH = 2'd0, P_WAIT = 2'd1, P_BASE = 2'd2, P_SCAN = 2'd3;
    reg  [1:0]       sel_ph;
    reg  [LNW-1:0]   sel_i;                     // list index of the window scanned
    reg  [KHW-1:0]   sel_ky;                    // window position scanned
    reg  [KWW-1:0]   sel_kx;
    reg  [LCW-1:0]   sel_coord;                 // {c, oy, ox} of the window scanned
    reg  [31:0]      sel_iy, sel_ix;            // input row / column of (ky, kx) (wrap when padded)
    reg  [31:0]      sel_ix0;                   // ... of (ky, 0)
    reg  [NAW-1:0]   sel_addr, sel_row;         // counter address of (ky, kx) / (ky, 0)
    wire [OUT_CW-1:0] win_c  = list_rdata[LCW-1:OUT_YW+OUT_XW];
    wire [OUT_YW-1:0] win_oy = list_rdata[OUT_YW+OUT_XW-1:OUT_XW];
    wire [OUT_XW-1:0] win_ox = list_rdata[OUT_XW-1:0];
    wire [31:0] win_oy_times_sh, win_ox_times_sw, win_c_times_hw_in, win_oy_times_shw, win_c_times_hw_out,
                win_oy_times_w;
    snn_const_mul #(.IN_WIDTH(OUT_YW), .OUT_WIDTH(32), .K(SH_OK)) u_oy_sh (.x(win_oy), .y(win_oy_times_sh));
    snn_const_mul #(.IN_WIDTH(OUT_XW), .OUT_WIDTH(32), .K(SW_OK)) u_ox_sw (.x(win_ox), .y(win_ox_times_sw));
    snn_const_mul #(.IN_WIDTH(OUT_CW), .OUT_WIDTH(32), .K(H_IN_OK * W_IN_OK)) u_c_hw_in (
        .x(win_c), .y(win_c_times_hw_in));
    snn_const_mul #(.IN_WIDTH(OUT_YW), .OUT_WIDTH(32), .K(SH_OK * W_IN_OK)) u_oy_shw (.x(win_oy), .y(win_oy_times_shw));
    snn_const_mul #(.IN_WIDTH(OUT_CW), .OUT_WIDTH(32), .K(H_OUT_OK * W_OUT_OK)) u_c_hw_out (
        .x(win_c), .y(win_c_times_hw_out));
    snn_const_mul #(.IN_WIDTH(OUT_YW), .OUT_WIDTH(32), .K(W_OUT_OK)) u_oy_w (.x(win_oy), .y(win_oy_times_w));
    wire [31:0] base_iy   = win_oy_times_sh - PT_32;     // input row / column of the window's (0, 0)
    wire [31:0] base_ix   = win_ox_times_sw - PL_32;
    wire [31:0] base_addr = win_c_times_hw_in + win_oy_times_shw + win_ox_times_sw - PAD_OFFSET;
    wire [31:0] base_win  = win_c_times_hw_out + win_oy_times_w + {{(32 - OUT_XW){1'b0}}, win_ox};
    wire        sel_unmark = (state == S_SELECT) && (sel_ph == P_BASE);
    wire        pos_in    = (sel_iy < H_IN_32) && (sel_ix < W_IN_32);
    wire        pos_first = (sel_ky == {KHW{1'b0}}) && (sel_kx == {KWW{1'b0}});
    wire        pos_last  = (sel_ky == LAST_KY[KHW-1:0]) && (sel_kx == LAST_KX[KWW-1:0]);
    wire        oq_room;
    wire        sel_fetch = (state == S_SELECT) && (sel_ph == P_FETCH) && (sel_i != n_list) && oq_room;
    wire        sel_issue = (state == S_SELECT) && (sel_ph == P_SCAN);

    // scan pipeline: s1, s2 (counter read in flight), sb (word arrives)
    reg              s1_valid, s1_in, s1_first, s1_last;
    reg  [LCW-1:0]   s1_coord;
    reg              s2_valid, s2_in, s2_first, s2_last;
    reg  [LCW-1:0]   s2_coord;
    reg              sb_valid, sb_in, sb_first, sb_last;
    reg  [LCW-1:0]   sb_coord;
    reg              best_have;                 // the window's best input so far: exists,
    reg  [CNTW-1:0]  best_cnt;                  // its count,
    reg              best_spk;                  // it spiked in this step
    wire [CNTW-1:0]  cur_cnt   = cnt_rdata[CNTW+STW-1:STW];
    wire             cur_spk   = (cnt_rdata[STW-1:0] == step);
    wire             have_eff  = sb_first ? 1'b0 : best_have;
    wire             spk_eff   = sb_first ? 1'b0 : best_spk;
    wire             take      = sb_in && (!have_eff || cur_cnt > best_cnt);   // strictly larger: ties to the first
    wire             new_spk   = take ? cur_spk : spk_eff;
    wire             oq_push   = sb_valid && sb_last && new_spk;

    // output queue of gated spikes
    wire             oq_valid;
    wire [LCW-1:0]   oq_data;
    wire             oq_pop = oq_valid && out_ready;
    snn_fifo #(.WIDTH(LCW), .DEPTH(4), .SLACK(1)) u_out_queue (
        .clk(clk), .rst(rst),
        .s_valid(oq_push), .s_ready(oq_room), .s_data(sb_coord),
        .m_valid(oq_valid), .m_ready(oq_pop), .m_data(oq_data));

    assign out_valid = oq_valid || (state == S_EOS);
    assign out_data  = oq_valid ? {2'b00, oq_data} : {1'b1, step_last, {LCW{1'b0}}};

    // ------------------------------------------------------------------
    // Memory port multiplexing
    // ------------------------------------------------------------------
    always @(*) begin
        cnt_re     = e_valid || sel_issue;
        cnt_raddr  = sel_issue ? sel_addr : e_addr;
        cnt_we     = c3_valid || (state == S_CLEAR && clr_addr32 < N_IN_32);
        cnt_waddr  = (state == S_CLEAR) ? clr_addr[NAW-1:0] : c3_addr;
        cnt_wdata  = (state == S_CLEAR) ? {CNTW+STW{1'b0}}
                                        : {cnt_rdata[CNTW+STW-1:STW] + ONE_32[CNTW-1:0], step};
        mark_re    = mk_issue;
        mark_raddr = it_win;
        // marks: set when a window is listed, cleared when SELECT fetches it
        // (so all are clear again at the end of the step), and by CLEAR
        mark_we    = mb_new || sel_unmark || (state == S_CLEAR && clr_addr32 < N_WIN_32);
        mark_waddr = (state == S_CLEAR) ? clr_addr[WAW-1:0] : sel_unmark ? base_win[WAW-1:0] : m2_addr;
        mark_wdata = mb_new;
        list_we    = mb_new;
        list_wdata = m2_coord;
        list_re    = sel_fetch;
        list_raddr = sel_i[WAW-1:0];
    end

    always @(posedge clk) begin
        if (rst) begin
            e_valid  <= 1'b0;
            c1_valid <= 1'b0;
            c2_valid <= 1'b0;
            c3_valid <= 1'b0;
            m1_valid <= 1'b0;
            m2_valid <= 1'b0;
            s1_valid <= 1'b0;
            s2_valid <= 1'b0;
            sb_valid <= 1'b0;
        end else begin
            e_valid  <= ev_accept;
            c1_valid <= e_valid;
            c2_valid <= c1_valid;
            c3_valid <= c2_valid;
            m1_valid <= mk_issue;
            m2_valid <= m1_valid;
            s1_valid <= sel_issue;
            s2_valid <= s1_valid;
            sb_valid <= s2_valid;
        end
        e_addr   <= in_addr[NAW-1:0];
        c1_addr  <= e_addr;
        c2_addr  <= c1_addr;
        c3_addr  <= c2_addr;
        m1_addr  <= it_win;
        m1_coord <= {ev_c32[OUT_CW-1:0], it_oy, it_ox};
        m1_fwd2  <= mb_new && (m2_addr == it_win);      // marked by the op two ahead
        m2_addr  <= m1_addr;
        m2_coord <= m1_coord;
        m2_fwd   <= m1_fwd2 || (mb_new && (m2_addr == m1_addr));   // ... or by the op one ahead
        s1_in    <= pos_in;
        s1_first <= pos_first;
        s1_last  <= pos_last;
        s1_coord <= sel_coord;
        s2_in    <= s1_in;
        s2_first <= s1_first;
        s2_last  <= s1_last;
        s2_coord <= s1_coord;
        sb_in    <= s2_in;
        sb_first <= s2_first;
        sb_last  <= s2_last;
        sb_coord <= s2_coord;
        if (sb_valid) begin
            best_have <= have_eff || sb_in;
            if (take) best_cnt <= cur_cnt;
            best_spk  <= new_spk;
        end
    end

    // Index arithmetic is done in 32 bits; the bits above each address width
    // are zero by construction.
    wire unused_hi = &{1'b0, in_addr[31:NAW], base_win[31:WAW], base_addr[31:NAW], ev_c32[31:OUT_CW],
                       it_group_unused, it_weight_unused, 1'b0};

    // ------------------------------------------------------------------
    // Control
    // ------------------------------------------------------------------
    wire flushed = !it_valid && !e_valid && !c1_valid && !c2_valid && !c3_valid && !m1_valid && !m2_valid;
    always @(posedge clk) begin
        if (rst) begin
            state     <= S_CLEAR;
            step_last <= 1'b0;
            step      <= ONE_32[STW-1:0];
            n_list    <= {LNW{1'b0}};
            clr_addr  <= {CLW{1'b0}};
            sel_ph    <= P_FETCH;
            sel_i     <= {LNW{1'b0}};
            sel_ky    <= {KHW{1'b0}};
            sel_kx    <= {KWW{1'b0}};
        end else begin
            if (ev_accept) ev_c <= in_c;
            if (mb_new) n_list <= n_list + ONE_32[LNW-1:0];

            // window scan
            case (sel_ph)
                P_FETCH: if (sel_fetch) sel_ph <= P_WAIT;
                P_WAIT:  sel_ph <= P_BASE;
                P_BASE: begin
                    sel_ph    <= P_SCAN;
                    sel_ky    <= {KHW{1'b0}};
                    sel_kx    <= {KWW{1'b0}};
                    sel_coord <= list_rdata;
                    sel_iy    <= base_iy;
                    sel_ix    <= base_ix;
                    sel_ix0   <= base_ix;
                    sel_addr  <= base_addr[NAW-1:0];
                    sel_row   <= base_addr[NAW-1:0];
                end
                default: begin   // P_SCAN: one position per cycle
                    if (pos_last) begin
                        sel_ph <= P_FETCH;
                        sel_i  <= sel_i + ONE_32[LNW-1:0];
                    end else if (sel_kx != LAST_KX[KWW-1:0]) begin
                        sel_kx   <= sel_kx + ONE_32[KWW-1:0];
                        sel_ix   <= sel_ix + 32'd1;
                        sel_addr <= sel_addr + ONE_32[NAW-1:0];
                    end else begin
                        sel_kx   <= {KWW{1'b0}};
                        sel_ky   <= sel_ky + ONE_32[KHW-1:0];
                        sel_iy   <= sel_iy + 32'd1;
                        sel_ix   <= sel_ix0;
                        sel_row  <= sel_row + ROW_STEP[NAW-1:0];
                        sel_addr <= sel_row + ROW_STEP[NAW-1:0];
                    end
                end
            endcase

            case (state)
                S_CLEAR: begin
                    if (clr_addr32 == LAST_CLR) begin
                        clr_addr <= {CLW{1'b0}};
                        state    <= S_EVENTS;
                    end else begin
                        clr_addr <= clr_addr + ONE_32[CLW-1:0];
                    end
                end
                S_EVENTS: begin
                    if (eos_accept) begin
                        step_last <= in_last;
                        state     <= S_DRAIN;
                    end
                end
                S_DRAIN: begin
                    if (flushed) begin
                        sel_i <= {LNW{1'b0}};
                        state <= S_SELECT;
                    end
                end
                S_SELECT: begin
                    if (sel_ph == P_FETCH && sel_i == n_list) state <= S_FLUSH;
                end
                S_FLUSH: begin
                    if (!s1_valid && !s2_valid && !sb_valid && !oq_valid) state <= S_EOS;
                end
                S_EOS: begin
                    if (out_ready) begin
                        n_list <= {LNW{1'b0}};
                        if (step_last) begin
                            step  <= ONE_32[STW-1:0];
                            state <= S_CLEAR;
                        end else begin
                            step  <= step + ONE_32[STW-1:0];
                            state <= S_EVENTS;
                        end
                    end
                end
                default: state <= S_CLEAR;
            endcase
        end
    end
endmodule
`default_nettype wire
