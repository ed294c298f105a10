// ============================================================================
// snn_maxpool_gate -- max-pool spike gate (snnhw RTL library, Verilog-2005)
//
// A spiking max-pool layer (paper section 3.6; docs/numeric_contract.md,
// "Max-pool gate"). Every input neuron j = (c, y, x) keeps a spike counter
// count_j over the image's time steps; in each step t, after the step's
// spikes are counted, every output window (c, oy, ox) selects the in-bounds
// input with the largest count (ties: the first in row-major window order)
// and spikes iff that input spiked in step t. Padded positions are never
// selected.
//
// Incremental argmax. Order a window's inputs by the key (count, -pos),
// pos = ky*KW + kx its position in the window; the contract's selection is
// the input with the largest key. Each window keeps a state word
// {max, arg, stamp}: the key (max, arg) of its selected input and the last
// step in which its selection changed (0: never). An input spike j in step t
// increments count_j (c_j = count_j + 1) and then, for every window w
// containing j (the snn_scatter_addr enumeration, one window per cycle),
//   if c_j > max_w, or c_j == max_w and pos_j(w) < arg_w:
//       (max_w, arg_w) <= (c_j, pos_j(w)), stamp_w <= t, and if stamp_w was
//       not t already, w spikes: its output token is emitted right away.
// Why this is exact:
//  * Keys only grow, and only j's key changes in an update, so the largest
//    key after the update is max(largest key before, new key of j): if the
//    selection was j, its new key beats its old one, which was the maximum;
//    otherwise the other inputs' maximum is unchanged. Keys are distinct
//    (distinct positions), so "larger" is a strict total order: the update
//    rule above keeps (max_w, arg_w) equal to the contract's selection after
//    every update, whatever the order of the spikes within a step. The
//    initial word (0, 0, 0) stands for "all counts 0"; an updating input
//    has c_j >= 1, so it always wins over it (which input is selected
//    among counts of 0 does not matter: the window cannot spike before one
//    of its inputs has).
//  * w spikes in step t  <=>  some spiker of step t updated w in step t
//    (stamp_w = t at the end of the step). (=>) The final selection s
//    spiked in t; before s's update the maximum was at most s's final key
//    and not equal to it (keys are distinct and s's key was smaller before),
//    so s's update changed the selection. (<=) After the last update in
//    step t the selection is that updater, a spiker of t; inputs that do
//    not spike in t never change a window. Windows without an update in t
//    keep a selection that did not spike in t (by (=>)).
//    So every window updated in step t spikes exactly once in step t, at its
//    first update (stamp_w != t): no SELECT scan, no window list.
//  * Overlapping windows (kernel > stride): each window has its own word,
//    and an input reaches each of its windows with that window's position
//    pos_j(w); windows share nothing but the counter. Padding: positions
//    outside the input never exist as inputs, so they never update a window
//    and are never selected.
//
// Pipelines (one window iteration per cycle):
//   counter : an accepted spike's counter address is registered (E), read
//             (three-cycle latency, OUTREG = 2), and count + 1 written back
//             when the word arrives (C3), four cycles after the spike.
//   windows : the spike's window iterations start the cycle after it (W0:
//             window state read, OUTREG = 2), so its first iteration's word
//             arrives (W3) in the same cycle as its counter (C3); later
//             iterations use the count held from C3. W3 compares, writes the
//             new word back and emits. A W3 op misses the writes of the three
//             ops ahead of it (several spikers in one window): they are
//             forwarded (flags computed as the op passes W0..W2 against the
//             op in W3, the three words last written kept in registers).
//   Counters need no forwarding: an input spikes at most once per step, and
//   the pipelines drain before each end-of-step token.
//   Output  : gated spikes wait in a snn_fifo (OQ_DEPTH words). An event is
//             accepted only when the queue has room for all its possible
//             spikes besides those already reserved (a reservation count:
//             + iterations per event at acceptance, - 1 per iteration that
//             ends without a spike and per token popped), so the pipelines
//             never stall.
// After the end-of-step token: wait until the pipelines and the queue are
// empty, then send the end-of-step token {1, last, 0}.
//
// Clear: counters and window words must be zero at each image's start.
// After the image's last step (and after reset) a CLEAR sweep writes zeros
// to every offset of every bank at once (snn_ram we_all), so it takes one
// bank depth -- 2**COUNTER_BANK_AW (counters) or 2**WINDOW_BANK_AW (windows)
// words for a banked RAM, its depth for a flat one -- not N words; in_ready is low meanwhile. (A lazy scheme with
// image tags was not chosen: a tag of k bits lets a word untouched for 2**k
// images look current, so it is not exact without an extra sweep anyway.)
//
// Image abort (early exit, snn_exit_queue's img_abort): img_abort is high only while
// the pipeline holds one image, which has exited, and the output has taken its
// exit step. If the gate has taken part of an image (a token since the last
// image's last end-of-step token) when it sees img_abort, it latches `aborting`
// until it passes that image's last end-of-step token; otherwise (it has
// already passed it) img_abort does not concern it. Every step it still sees is
// after the exit step, so while aborting it takes input tokens one per cycle
// and drops the spikes (no counter or window update; an event whose windows
// are being enumerated finishes, its spikes are dropped), passes the
// end-of-step tokens on, and after the last one runs the usual CLEAR. Spikes
// already in the output queue still leave; downstream engines are on the same
// image and aborting too.
//
// Memories (snn_ram, ram_style block, three-cycle read latency, OUTREG = 2):
// counters {count}, N_IN words; window words {max, arg, stamp}, N_WIN words.
// Each is split into banks (2**COUNTER_BANK_AW, 2**WINDOW_BANK_AW words) with
// registered bank outputs when deeper than one bank.
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
//                      counts and the step stamps: ubits(T_MAX) bits each)
//   COUNTER_BANK_AW    the counter RAM is banked (banks of 2**COUNTER_BANK_AW
//                      words) when deeper than one bank; 0: never banked
//   WINDOW_BANK_AW     the same for the window RAM; -1: COUNTER_BANK_AW (a
//                      block RAM holds more narrow counters than wider window
//                      words, so the generator sizes each bank to one block)
//   IN_CW, IN_YW, IN_XW     widths of the input token's c, y, x fields
//   OUT_CW, OUT_YW, OUT_XW  widths of the output token's c, oy, ox fields
//
// Derived widths (localparams) are those of snnhw.codegen.layout, with
// ubits(n) = bits of an unsigned register holding 0..n (at least 1):
//   N_IN = CHANNELS*H_IN*W_IN, N_WIN = CHANNELS*H_OUT*W_OUT,
//   N_IT = ceil(KH/SH)*ceil(KW/SW) (windows enumerated per event),
//   counts and stamps ubits(T_MAX) bits, window position ubits(KH*KW - 1),
//   counter address ubits(N_IN - 1), window address ubits(N_WIN - 1),
//   N_CLR = max over the two RAMs of (banked ? 2**bank AW : depth).
//
// Latency and throughput (cycles):
//   per input spike N_IT (in_ready is low while an event still has windows
//   to enumerate, or while the output queue has no room for its spikes);
//   an output spike leaves 5 cycles after its window's iteration;
//   per step about 8 after the end-of-step token (pipelines and queue drain),
//   plus the queue's drain under back-pressure;
//   CLEAR N_CLR after the image's last step and after reset.
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
//   image abort   : img_abort (snn_exit_queue), above.
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
    parameter integer WINDOW_BANK_AW  = -1,
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
    output wire [OUT_CW+OUT_YW+OUT_XW+1:0]     out_data,
    // the image being worked on has exited: drop its work
    input  wire                                img_abort
);
    function integer ubits;            // bits of an unsigned register holding 0..n (at least 1)
        input integer n;
        begin
            ubits = 1;
            while (n > 0 && (n >> ubits) != 0) ubits = ubits + 1;
        end
    endfunction

    function integer pow2_at_least;    // the smallest power of two >= n (at least 2)
        input integer n;
        begin
            pow2_at_least = 2;
            while (pow2_at_least < n) pow2_at_least = pow2_at_least * 2;
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
    localparam integer BANK_OK  = (COUNTER_BANK_AW >= 1 && COUNTER_BANK_AW <= 30) ? COUNTER_BANK_AW : 0;
    localparam integer WBANK_OK = (WINDOW_BANK_AW < 0) ? BANK_OK :
                                  (WINDOW_BANK_AW >= 1 && WINDOW_BANK_AW <= 30) ? WINDOW_BANK_AW : 0;

    localparam integer N_IN   = C_OK * H_IN_OK * W_IN_OK;      // counters
    localparam integer N_WIN  = C_OK * H_OUT_OK * W_OUT_OK;    // windows (output neurons)
    localparam integer MH     = (KH_OK + SH_OK - 1) / SH_OK;   // window rows / columns one input reaches
    localparam integer MW     = (KW_OK + SW_OK - 1) / SW_OK;
    localparam integer N_IT   = MH * MW;                       // window iterations per event
    localparam integer CNTW   = ubits(T_MAX);                  // count bits (counts up to T_MAX)
    localparam integer STW    = ubits(T_MAX);                  // step stamp bits (1..T_MAX, 0 = never)
    localparam integer PW     = ubits(KH_OK * KW_OK - 1);      // window position bits
    localparam integer WSW    = CNTW + PW + STW;               // window word {max, arg, stamp}
    localparam integer IN_W   = IN_CW + IN_YW + IN_XW + 2;     // input token bits
    localparam integer LCW    = OUT_CW + OUT_YW + OUT_XW;      // window coordinate bits {c, oy, ox}
    localparam integer NAW    = ubits(N_IN - 1);               // counter address bits
    localparam integer WAW    = ubits(N_WIN - 1);              // window address bits
    localparam integer CHW    = ubits(C_OK - 1);               // channel bits (the scatter's unused group output)
    localparam integer MXW    = ubits(MW - 1);                 // window column iteration bits
    // position register: ky < KH + SH and kx < KW + SW on every iteration
    localparam integer PSW    = ubits((KH_OK + SH_OK) * KW_OK + SW_OK) + 1;
    localparam integer CNT_BANK_AW = (BANK_OK > 0 && N_IN  > (1 << BANK_OK)) ? BANK_OK : 0;
    localparam integer WIN_BANK_AW = (WBANK_OK > 0 && N_WIN > (1 << WBANK_OK)) ? WBANK_OK : 0;
    localparam integer CNT_CLR = (CNT_BANK_AW > 0) ? (1 << CNT_BANK_AW) : N_IN;   // CLEAR words per RAM
    localparam integer WIN_CLR = (WIN_BANK_AW > 0) ? (1 << WIN_BANK_AW) : N_WIN;
    localparam integer N_CLR  = (CNT_CLR > WIN_CLR) ? CNT_CLR : WIN_CLR;          // length of the CLEAR sweep
    localparam integer CLW    = ubits(N_CLR - 1);              // CLEAR sweep address bits
    localparam integer OQ_DEPTH = pow2_at_least(2 * N_IT + 6); // output queue words
    localparam integer UW     = ubits(OQ_DEPTH);               // reservation count bits
    // 32-bit constants of the index arithmetic
    localparam [31:0] PT_32       = PT_OK;
    localparam [31:0] PL_32       = PL_OK;
    localparam [31:0] SH_32       = SH_OK;
    localparam [31:0] SW_32       = SW_OK;
    localparam [31:0] CNT_CLR_32  = CNT_CLR;
    localparam [31:0] WIN_CLR_32  = WIN_CLR;
    localparam [31:0] LAST_CLR    = N_CLR - 1;
    localparam [31:0] LAST_MX     = MW - 1;
    localparam [31:0] ONE_32      = 1;
    localparam [31:0] N_IT_32     = N_IT;
    localparam [31:0] ROOM_LIMIT  = OQ_DEPTH - N_IT;           // accept an event while reserved <= this
    localparam [31:0] POS_COL     = SW_OK;                     // position step to the next window column
    localparam [31:0] POS_ROW     = SH_OK * KW_OK;             // ... to the next window row

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
        if (WINDOW_BANK_AW < -1 || WINDOW_BANK_AW > 30) begin
            $error("snn_maxpool_gate: WINDOW_BANK_AW (%0d) must be in -1..30", WINDOW_BANK_AW);
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

    localparam [1:0] S_CLEAR  = 2'd0,
                     S_EVENTS = 2'd1,
                     S_DRAIN  = 2'd2,
                     S_EOS    = 2'd3;
    reg [1:0]       state;
    reg             step_last;          // the current step is the image's last
    reg [STW-1:0]   step;               // current step, 1-based
    reg [CLW-1:0]   clr_addr;           // CLEAR sweep address
    wire [31:0]     clr_addr32 = {{(32 - CLW){1'b0}}, clr_addr};
    wire            clearing = (state == S_CLEAR);

    // ------------------------------------------------------------------
    // Input token and the event's counter address
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
    // its position in the first window enumerated: ((y + PT) mod SH)*KW + (x + PL) mod SW
    wire [31:0] in_ky0 = ({{(32 - IN_YW){1'b0}}, in_y} + PT_32) % SH_32;
    wire [31:0] in_kx0 = ({{(32 - IN_XW){1'b0}}, in_x} + PL_32) % SW_32;
    wire [31:0] in_ky0_times_kw;
    snn_const_mul #(.IN_WIDTH(32), .OUT_WIDTH(32), .K(KW_OK)) u_ky0_kw (.x(in_ky0), .y(in_ky0_times_kw));
    wire [31:0] in_pos0 = in_ky0_times_kw + in_kx0;

    // ------------------------------------------------------------------
    // Window iterations (W0), one per cycle: window address and coordinate
    // from snn_scatter_addr, the position stepped here in the same order
    // (columns inner, rows outer; by constants)
    // ------------------------------------------------------------------
    wire             ev_accept;
    wire             it_valid;             // an event's window iteration is pending
    wire             it_in;                // ... and its window is in range
    wire             it_last;              // ... and it is the event's last
    wire [WAW-1:0]   it_win;               // window address (c*H_OUT + oy)*W_OUT + ox
    wire [OUT_YW-1:0] it_oy;
    wire [OUT_XW-1:0] it_ox;
    wire [CHW-1:0]   it_group_unused;
    wire             it_weight_unused;
    wire             it_col_in_unused;     // one target bank: it_in, it_win again
    wire [WAW-1:0]   it_col_target_unused;
    wire             it_col_mx_unused;
    snn_scatter_addr #(
        .H_IN(H_IN_OK), .W_IN(W_IN_OK), .H_OUT(H_OUT_OK), .W_OUT(W_OUT_OK), .KH(KH_OK), .KW(KW_OK),
        .SH(SH_OK), .SW(SW_OK), .PT(PT_OK), .PL(PL_OK), .GROUPS(1), .TARGET_CHANNEL_DIV(1), .WEIGHTS(0),
        .CW(IN_CW), .YW(IN_YW), .XW(IN_XW), .GW(CHW), .TAW(WAW), .WAW(1), .OYW(OUT_YW), .OXW(OUT_XW)
    ) u_scatter (
        .clk(clk), .rst(rst),
        .start(ev_accept), .ev_c(in_c), .ev_y(in_y), .ev_x(in_x),
        .advance(1'b1), .it_valid(it_valid), .it_in(it_in), .it_last(it_last),
        .it_group(it_group_unused), .it_target(it_win), .it_weight(it_weight_unused),
        .it_oy(it_oy), .it_ox(it_ox),
        .it_col_in(it_col_in_unused), .it_col_target(it_col_target_unused), .it_col_mx(it_col_mx_unused));
    reg  [IN_CW-1:0] ev_c;                 // the current event's channel
    wire [31:0]      ev_c32 = {{(32 - IN_CW){1'b0}}, ev_c};
    reg  [PSW-1:0]   it_pos, row_pos;      // position of the iteration / of its row's first
    reg  [MXW-1:0]   it_mx;                // window column iteration
    wire             w0_valid = it_valid && it_in;

    // reservation of output queue words (see the header)
    reg  [UW-1:0]    reserved;
    wire [31:0]      reserved32 = {{(32 - UW){1'b0}}, reserved};
    reg              aborting;             // the current image is aborted: its spikes are dropped
    // a dropped token needs neither the window enumeration nor room in the output queue
    assign in_ready   = (state == S_EVENTS) && (aborting || ((!it_valid || it_last) && (reserved32 <= ROOM_LIMIT)));
    assign ev_accept  = in_valid && in_ready && !in_eos && !aborting;
    wire   eos_accept = in_valid && in_ready && in_eos;

    // ------------------------------------------------------------------
    // Memories
    // ------------------------------------------------------------------
    reg  [NAW-1:0]   e_addr, c1_addr, c2_addr, c3_addr;
    reg              e_valid, c1_valid, c2_valid, c3_valid;
    wire [CNTW-1:0]  cnt_rdata;
    wire [CNTW-1:0]  cnt_inc = cnt_rdata + ONE_32[CNTW-1:0];   // the event's count after this step
    wire             cnt_we  = c3_valid || (clearing && clr_addr32 < CNT_CLR_32);
    wire [NAW-1:0]   cnt_waddr = clearing ? clr_addr32[NAW-1:0] : c3_addr;
    wire [CNTW-1:0]  cnt_wdata = clearing ? {CNTW{1'b0}} : cnt_inc;
    snn_ram #(.WIDTH(CNTW), .DEPTH(N_IN), .AW(NAW), .OUTREG(2), .BANK_AW(CNT_BANK_AW)) u_counters (
        .clk(clk), .we(cnt_we), .we_all(clearing), .waddr(cnt_waddr), .wdata(cnt_wdata),
        .re(e_valid), .raddr(e_addr), .rdata(cnt_rdata));

    reg              w1_valid, w2_valid, w3_valid;
    reg  [WAW-1:0]   w1_addr, w2_addr, w3_addr;
    reg  [PW-1:0]    w1_pos, w2_pos, w3_pos;
    reg  [LCW-1:0]   w1_coord, w2_coord, w3_coord;
    reg              w1_fwd3, w2_fwd3, w3_fwd3;   // the op three ahead wrote this window
    reg              w2_fwd2, w3_fwd2;            // ... two ahead
    reg              w3_fwd1;                     // ... one ahead
    reg  [WSW-1:0]   fd1, fd2, fd3;               // the window words written one / two / three cycles ago
    wire [WSW-1:0]   win_rdata;
    wire [WSW-1:0]   w_new;
    wire             win_we    = w3_valid || (clearing && clr_addr32 < WIN_CLR_32);
    wire [WAW-1:0]   win_waddr = clearing ? clr_addr32[WAW-1:0] : w3_addr;
    wire [WSW-1:0]   win_wdata = clearing ? {WSW{1'b0}} : w_new;
    snn_ram #(.WIDTH(WSW), .DEPTH(N_WIN), .AW(WAW), .OUTREG(2), .BANK_AW(WIN_BANK_AW)) u_windows (
        .clk(clk), .we(win_we), .we_all(clearing), .waddr(win_waddr), .wdata(win_wdata),
        .re(w0_valid), .raddr(it_win), .rdata(win_rdata));

    // ------------------------------------------------------------------
    // W3: the window's word (forwarded), the event's count, the update
    // ------------------------------------------------------------------
    reg  [CNTW-1:0]  cnt_hold;                    // the count of the event whose iterations are in W3
    wire [CNTW-1:0]  cur_cnt  = c3_valid ? cnt_inc : cnt_hold;
    wire [WSW-1:0]   old_word = w3_fwd1 ? fd1 : w3_fwd2 ? fd2 : w3_fwd3 ? fd3 : win_rdata;
    wire [CNTW-1:0]  old_max  = old_word[WSW-1:PW+STW];
    wire [PW-1:0]    old_arg  = old_word[PW+STW-1:STW];
    wire [STW-1:0]   old_stmp = old_word[STW-1:0];
    wire             better   = (cur_cnt > old_max) || (cur_cnt == old_max && w3_pos < old_arg);
    assign           w_new    = better ? {cur_cnt, w3_pos, step} : old_word;
    wire             emit     = w3_valid && better && (old_stmp != step) && !aborting;

    // output queue of gated spikes (never full when a spike arrives: reservations)
    wire             oq_valid;
    wire             oq_room_unused;
    wire [LCW-1:0]   oq_data;
    wire             oq_pop = oq_valid && out_ready;
    snn_fifo #(.WIDTH(LCW), .DEPTH(OQ_DEPTH), .SLACK(0)) u_out_queue (
        .clk(clk), .rst(rst),
        .s_valid(emit), .s_ready(oq_room_unused), .s_data(w3_coord),
        .m_valid(oq_valid), .m_ready(oq_pop), .m_data(oq_data));

    assign out_valid = oq_valid || (state == S_EOS);
    assign out_data  = oq_valid ? {2'b00, oq_data} : {1'b1, step_last, {LCW{1'b0}}};

    wire [UW-1:0] res_add = ev_accept ? N_IT_32[UW-1:0] : {UW{1'b0}};
    wire [UW-1:0] res_sub = {{(UW - 1){1'b0}}, it_valid && !it_in} + {{(UW - 1){1'b0}}, w3_valid && !emit}
                          + {{(UW - 1){1'b0}}, oq_pop};

    always @(posedge clk) begin
        if (rst) begin
            e_valid  <= 1'b0;
            c1_valid <= 1'b0;
            c2_valid <= 1'b0;
            c3_valid <= 1'b0;
            w1_valid <= 1'b0;
            w2_valid <= 1'b0;
            w3_valid <= 1'b0;
            reserved <= {UW{1'b0}};
        end else begin
            e_valid  <= ev_accept;
            c1_valid <= e_valid;
            c2_valid <= c1_valid;
            c3_valid <= c2_valid;
            w1_valid <= w0_valid;
            w2_valid <= w1_valid;
            w3_valid <= w2_valid;
            reserved <= reserved + res_add - res_sub;
        end
        e_addr   <= in_addr[NAW-1:0];
        c1_addr  <= e_addr;
        c2_addr  <= c1_addr;
        c3_addr  <= c2_addr;
        if (c3_valid) cnt_hold <= cnt_inc;
        w1_addr  <= it_win;
        w1_pos   <= it_pos[PW-1:0];
        w1_coord <= {ev_c32[OUT_CW-1:0], it_oy, it_ox};
        w1_fwd3  <= w3_valid && (w3_addr == it_win);
        w2_addr  <= w1_addr;
        w2_pos   <= w1_pos;
        w2_coord <= w1_coord;
        w2_fwd3  <= w1_fwd3;
        w2_fwd2  <= w3_valid && (w3_addr == w1_addr);
        w3_addr  <= w2_addr;
        w3_pos   <= w2_pos;
        w3_coord <= w2_coord;
        w3_fwd3  <= w2_fwd3;
        w3_fwd2  <= w2_fwd2;
        w3_fwd1  <= w3_valid && (w3_addr == w2_addr);
        fd1      <= w_new;
        fd2      <= fd1;
        fd3      <= fd2;
        // the iteration's window position
        if (ev_accept) begin
            ev_c    <= in_c;
            it_pos  <= in_pos0[PSW-1:0];
            row_pos <= in_pos0[PSW-1:0];
            it_mx   <= {MXW{1'b0}};
        end else if (it_valid && !it_last) begin
            if (it_mx != LAST_MX[MXW-1:0]) begin
                it_mx  <= it_mx + ONE_32[MXW-1:0];
                it_pos <= it_pos + POS_COL[PSW-1:0];
            end else begin
                it_mx   <= {MXW{1'b0}};
                row_pos <= row_pos + POS_ROW[PSW-1:0];
                it_pos  <= row_pos + POS_ROW[PSW-1:0];
            end
        end
    end

    // Index arithmetic is done in 32 bits; the bits above each width are zero by construction
    // (it_pos's upper bits are non-zero only on iterations out of the window, which do nothing).
    wire unused_hi = &{1'b0, in_addr[31:NAW], in_pos0[31:PSW], in_ky0[31:0], in_kx0[31:0], ev_c32[31:OUT_CW],
                       it_pos[PSW-1:PW], it_group_unused, it_weight_unused, oq_room_unused,
                       it_col_in_unused, it_col_target_unused, it_col_mx_unused, 1'b0};

    // ------------------------------------------------------------------
    // Control
    // ------------------------------------------------------------------
    wire flushed = !it_valid && !e_valid && !c1_valid && !c2_valid && !c3_valid &&
                   !w1_valid && !w2_valid && !w3_valid && !oq_valid;
    // from the image's first token (of any kind) to its last end-of-step token; the abort flag within it
    // (the image's end has priority: img_abort seen in that cycle concerns the image that is ending)
    wire img_end = (state == S_EOS) && out_ready && step_last;
    reg  img_open;
    always @(posedge clk) begin
        if (rst || img_end) begin
            img_open <= 1'b0;
            aborting <= 1'b0;
        end else begin
            if (in_valid && in_ready) img_open <= 1'b1;
            if (img_abort && img_open) aborting <= 1'b1;
        end
    end
    always @(posedge clk) begin
        if (rst) begin
            state     <= S_CLEAR;
            step_last <= 1'b0;
            step      <= ONE_32[STW-1:0];
            clr_addr  <= {CLW{1'b0}};
        end else begin
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
                    if (flushed) state <= S_EOS;
                end
                default: begin   // S_EOS
                    if (out_ready) begin
                        if (step_last) begin
                            step  <= ONE_32[STW-1:0];
                            state <= S_CLEAR;
                        end else begin
                            step  <= step + ONE_32[STW-1:0];
                            state <= S_EVENTS;
                        end
                    end
                end
            endcase
        end
    end
endmodule
`default_nettype wire
