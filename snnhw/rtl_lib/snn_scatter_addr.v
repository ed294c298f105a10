// snnhw hardware library: scatter address generator.
//
// An input event (a pixel or a spike) at (c, y, x) reaches, through a
// KH x KW kernel with stride SH x SW and top/left padding PT/PL, the outputs
// oy = (y + PT - ky) / SH for the kernel rows ky = ky0 + SH*my with
// ky0 = (y + PT) mod SH, my = 0 .. ceil(KH/SH) - 1 (the same for columns).
// The generator enumerates one iteration per (my, mx, channel group) and
// cycle, GROUPS channel groups innermost, and flags the iterations whose
// kernel position and output position are in range (it_in). Positions out
// of range cost their cycle and do nothing.
//
// Two addresses follow the iterations; both are registers that step by
// constants (no products on the address path; the start values use
// snn_const_mul):
//   target  og*H_OUT*W_OUT + oy*W_OUT + ox      (a membrane word, a window)
//   weight  WEIGHT_BASE + ((c*KH + ky)*KW + kx)*GROUPS + og   (WEIGHTS = 1 only)
// where og is the channel group: the GROUPS groups from og0 on, og0 = 0, or
// when TARGET_CHANNEL_DIV > 0 og0 = (c / TARGET_CHANNEL_DIV) * GROUPS (a
// grouped convolution: the output groups of the event's convolution group,
// c / TARGET_CHANNEL_DIV input channels each; average pooling: the event's
// own lane group, c / lanes; max-pool windows: c). The weight address counts
// og - og0 (the weights of one input channel cover its convolution group's
// outputs only); it_group and the target the absolute og.
//
// Kernel columns in parallel (COLS = KW > 1, stride SW = 1; for the neuron
// engines): the outputs an event reaches in one kernel row are COLS
// consecutive columns ox = qx - mx, mx = 0 .. KW-1, so with the targets
// banked by ox mod COLS (bank b holds the columns ox = COLS*j + b at word j)
// each bank gets exactly one of them. The generator then iterates only
// (my, channel group); per bank b it gives it_col_in[b] (the row and the
// bank's column in range), it_col_target[b] and it_col_mx[b], the kernel
// column kx = mx of that bank's output, fixed for the event:
//   mx_b = (qx - b) mod COLS, ox_b = qx - mx_b,
//   target_b = og*H_OUT*WB + oy*WB + ox_b / COLS,  WB = ceil(W_OUT / COLS)
//   weight   = (c*KH + ky)*GROUPS + og   (one word holds the KW columns)
// With COLS = 1 the bank outputs repeat it_in and it_target (mx = 0).
//
// Timing: `start` loads an event (it_valid rises in the next cycle); each
// cycle with `advance` and it_valid moves to the next iteration, and after
// the one flagged it_last it_valid falls unless `start` loads the next event
// in the same cycle (start has priority).
//
// Parameters
//   H_IN, W_IN              input map (sizes the quotient registers)
//   H_OUT, W_OUT            output map
//   KH, KW, SH, SW, PT, PL  kernel, stride, top/left padding
//   COLS                    1, or KW: kernel columns per cycle, targets banked by column
//   GROUPS                  channel groups iterated per kernel position (>= 1)
//   TARGET_CHANNEL_DIV      0, or the divisor of c giving the event's convolution group (og0 above)
//   WEIGHTS                 1: produce the weight address
//   WEIGHT_BASE             added to every weight address (a region of a weight ROM shared by several
//                           scatter generators, one per synapse input of a multi-input engine)
//   CW, YW, XW              event coordinate widths
//   GW, TAW, WAW            group, target-address and weight-address widths
//   OYW, OXW                widths of the it_oy / it_ox outputs
//   COL_MXW                 width of each it_col_mx field (holds COLS - 1)
`default_nettype none
module snn_scatter_addr #(
    parameter integer H_IN  = 1,
    parameter integer W_IN  = 1,
    parameter integer H_OUT = 1,
    parameter integer W_OUT = 1,
    parameter integer KH    = 1,
    parameter integer KW    = 1,
    parameter integer SH    = 1,
    parameter integer SW    = 1,
    parameter integer PT    = 0,
    parameter integer PL    = 0,
    parameter integer COLS  = 1,
    parameter integer GROUPS = 1,
    parameter integer TARGET_CHANNEL_DIV = 0,
    parameter integer WEIGHTS = 1,
    parameter integer WEIGHT_BASE = 0,
    parameter integer CW    = 1,
    parameter integer YW    = 1,
    parameter integer XW    = 1,
    parameter integer GW    = 1,
    parameter integer TAW   = 1,
    parameter integer WAW   = 1,
    parameter integer OYW   = 1,
    parameter integer OXW   = 1,
    parameter integer COL_MXW = 1
) (
    input  wire           clk,
    input  wire           rst,
    // event in: loaded when start is high
    input  wire           start,
    input  wire [CW-1:0]  ev_c,
    input  wire [YW-1:0]  ev_y,
    input  wire [XW-1:0]  ev_x,
    // iterations out: one per cycle while advance is high
    input  wire           advance,
    output reg            it_valid,
    output wire           it_in,       // kernel and output position in range
    output wire           it_last,     // the event's last iteration
    output reg  [GW-1:0]  it_group,
    output reg  [TAW-1:0] it_target,
    output wire [WAW-1:0] it_weight,
    output wire [OYW-1:0] it_oy,
    output wire [OXW-1:0] it_ox,
    // per target bank (COLS = 1: it_in, it_target, 0)
    output wire [COLS-1:0]     it_col_in,
    output wire [COLS*TAW-1:0] it_col_target,
    output wire [COLS*COL_MXW-1:0] it_col_mx
);
    function integer ubits;            // bits of an unsigned register holding 0..n
        input integer n;
        begin
            ubits = 1;
            while (n > 0 && (n >> ubits) != 0) ubits = ubits + 1;   // n < 0 (bad parameters): 1
        end
    endfunction

    localparam integer MH   = (KH + SH - 1) / SH;      // kernel rows one input row reaches
    localparam integer MW_K = (KW + SW - 1) / SW;          // kernel columns one input column reaches
    localparam integer MW   = (COLS > 1) ? 1 : MW_K;       // ... iterated one per cycle
    localparam integer KW_W = (COLS > 1) ? 1 : KW;         // kernel columns per weight word: 1 or all
    localparam integer WB   = (COLS > 1) ? (W_OUT + COLS - 1) / COLS : W_OUT;   // target words per row
    localparam integer QMAX_Y = (H_IN - 1 + PT) / SH;
    localparam integer QMAX_X = (W_IN - 1 + PL) / SW;
    localparam integer QW   = ubits(QMAX_Y > QMAX_X ? QMAX_Y : QMAX_X);
    localparam integer KYW  = ubits((SH > SW ? SH : SW) - 1);
    localparam integer MYW  = ubits(MH - 1);
    localparam integer MXW  = ubits(MW - 1);
    localparam integer KIW  = ubits(MH * SH > MW_K * SW ? MH * SH : MW_K * SW);   // holds KH, KW, a kernel row / column
    localparam integer DW_N = (QW > MYW ? (QW > MXW ? QW : MXW) : (MYW > MXW ? MYW : MXW)) + 1;
    localparam integer DW   = (DW_N < 31) ? DW_N : 31;   // bits of q - m (bounded, so bad parameters reach their check)
    localparam integer DMAX = 1 << (DW - 1);        // above any output row / column q - m >= 0
    localparam [31:0]   KH32 = KH;
    localparam [31:0]   KW32 = KW;
    localparam [31:0]   H_LIM = (H_OUT < DMAX) ? H_OUT : DMAX;   // the output limits in DW bits, same test
    localparam [31:0]   W_LIM = (W_OUT < DMAX) ? W_OUT : DMAX;
    localparam integer HW_OUT = H_OUT * WB;              // target words per channel group
    // address steps, modulo the address width
    localparam integer TA_STEP_GROUP_I = HW_OUT;
    localparam integer TA_STEP_COL_I   = -(GROUPS - 1) * HW_OUT - 1;
    localparam integer TA_STEP_ROW_I   = -WB;
    localparam integer WA_STEP_COL_I   = SW * GROUPS - (GROUPS - 1);
    localparam integer WA_STEP_ROW_I   = SH * KW_W * GROUPS;
    localparam [31:0]  TA_STEP_GROUP = TA_STEP_GROUP_I;
    localparam [31:0]  TA_STEP_COL   = TA_STEP_COL_I;
    localparam [31:0]  TA_STEP_ROW   = TA_STEP_ROW_I;
    localparam [31:0]  WA_STEP_COL   = WA_STEP_COL_I;
    localparam [31:0]  WA_STEP_ROW   = WA_STEP_ROW_I;
    localparam [31:0]  LAST_GROUP    = GROUPS - 1;
    localparam [31:0]  LAST_MY       = MH - 1;
    localparam [31:0]  LAST_MX       = MW - 1;

    // COLS > 1, bank `bank`, for each input-column quotient v = 0..QMAX_X: the kernel column
    // (v - bank) mod COLS that reaches the bank, whether that output column v - mx exists, and its word
    function integer bank_mx_of(input integer v, input integer bank);
        bank_mx_of = (v + COLS - bank) % COLS;
    endfunction
    function [(QMAX_X+1)*COL_MXW-1:0] bank_mx_table(input integer bank);
        integer v, j, m;
        begin
            for (v = 0; v <= QMAX_X; v = v + 1) begin
                m = bank_mx_of(v, bank);
                for (j = 0; j < COL_MXW; j = j + 1) bank_mx_table[v*COL_MXW + j] = ((m >> j) % 2) == 1;
            end
        end
    endfunction
    function [QMAX_X:0] bank_ok_table(input integer bank);
        integer v, o;
        begin
            for (v = 0; v <= QMAX_X; v = v + 1) begin
                o = v - bank_mx_of(v, bank);
                bank_ok_table[v] = (o >= 0) && (o < W_OUT);
            end
        end
    endfunction
    function [(QMAX_X+1)*TAW-1:0] bank_word_table(input integer bank);
        integer v, j, o;
        begin
            for (v = 0; v <= QMAX_X; v = v + 1) begin
                o = v - bank_mx_of(v, bank);
                o = (o > 0) ? o / COLS : 0;   // a column left of the map: not in range, any word
                for (j = 0; j < TAW; j = j + 1) bank_word_table[v*TAW + j] = ((o >> j) % 2) == 1;
            end
        end
    endfunction


`ifndef SYNTHESIS
    initial begin
        if (KH < 1 || KW < 1 || SH < 1 || SW < 1 || PT < 0 || PL < 0 || H_OUT < 1 || W_OUT < 1 ||
            H_IN < 1 || W_IN < 1) begin
            $error("snn_scatter_addr: geometry H_IN %0d W_IN %0d H_OUT %0d W_OUT %0d KH %0d KW %0d SH %0d SW %0d PT %0d PL %0d is not mappable",
                   H_IN, W_IN, H_OUT, W_OUT, KH, KW, SH, SW, PT, PL);
            $fatal(1, "snn_scatter_addr: bad parameters");
        end
        if (GROUPS < 1 || TARGET_CHANNEL_DIV < 0 || WEIGHT_BASE < 0) begin
            $error("snn_scatter_addr: GROUPS (%0d) must be >= 1, TARGET_CHANNEL_DIV (%0d) and WEIGHT_BASE (%0d) >= 0",
                   GROUPS, TARGET_CHANNEL_DIV, WEIGHT_BASE);
            $fatal(1, "snn_scatter_addr: bad parameters");
        end
        if (TAW > 31 || WAW > 31 || (1 << TAW) < GROUPS * HW_OUT || (1 << GW) < GROUPS ||
            (TARGET_CHANNEL_DIV == 0 && (1 << TAW) < HW_OUT)) begin
            $error("snn_scatter_addr: TAW (%0d), WAW (%0d) or GW (%0d) too narrow for %0d group(s) of %0d outputs",
                   TAW, WAW, GW, GROUPS, HW_OUT);
            $fatal(1, "snn_scatter_addr: bad parameters");
        end
        if (COLS < 1 || (COLS > 1 && (COLS != KW || SW != 1 || WEIGHTS == 0)) ||
            (1 << COL_MXW) < COLS) begin
            $error("snn_scatter_addr: COLS (%0d) must be 1, or KW (%0d) with SW (%0d) = 1 and weights; COL_MXW %0d",
                   COLS, KW, SW, COL_MXW);
            $fatal(1, "snn_scatter_addr: bad parameters");
        end
        if ((1 << OYW) < H_OUT || (1 << OXW) < W_OUT) begin
            $error("snn_scatter_addr: OYW (%0d) / OXW (%0d) cannot hold H_OUT %0d / W_OUT %0d", OYW, OXW, H_OUT, W_OUT);
            $fatal(1, "snn_scatter_addr: bad parameters");
        end
    end
`endif

    // ---- the next event's geometry (32-bit index arithmetic) ----
    wire [31:0] c32 = {{(32 - CW){1'b0}}, ev_c};
    wire [31:0] y_pad = {{(32 - YW){1'b0}}, ev_y} + PT;
    wire [31:0] x_pad = {{(32 - XW){1'b0}}, ev_x} + PL;
    wire [31:0] start_qy  = y_pad / SH;
    wire [31:0] start_qx  = x_pad / SW;
    wire [31:0] start_ky0 = y_pad % SH;
    wire [31:0] start_kx0 = x_pad % SW;
    wire [31:0] c_group = (TARGET_CHANNEL_DIV > 0) ? c32 / TARGET_CHANNEL_DIV : 32'd0;
    wire [31:0] start_group;           // og0
    snn_const_mul #(.IN_WIDTH(32), .OUT_WIDTH(32), .K(GROUPS)) u_group0 (.x(c_group), .y(start_group));
    wire [31:0] qy_times_w, group_times_hw;
    snn_const_mul #(.IN_WIDTH(32), .OUT_WIDTH(32), .K(WB)) u_qy_w (.x(start_qy), .y(qy_times_w));
    snn_const_mul #(.IN_WIDTH(32), .OUT_WIDTH(32), .K(TARGET_CHANNEL_DIV > 0 ? HW_OUT : 0)) u_group_hw (
        .x(start_group), .y(group_times_hw));
    // COLS > 1: the row's first word; each bank adds its column word (below)
    wire [31:0] start_target = group_times_hw + qy_times_w + ((COLS > 1) ? 32'd0 : start_qx);

    // ---- iteration state ----
    reg  [QW-1:0]  ev_qy, ev_qx;       // (y + PT) div SH, (x + PL) div SW
    reg  [KYW-1:0] ev_ky0, ev_kx0;     // (y + PT) mod SH, (x + PL) mod SW
    reg  [MYW-1:0] it_my;
    reg  [MXW-1:0] it_mx;
    reg  [TAW-1:0] row_target;         // target address of (my, mx = 0, group 0)

    // The in-range tests run every iteration, from the event's registers to the engine's RAM enables:
    // they are computed in as few bits as the values need (short carry chains), not in 32.
    wire [KIW-1:0] my_times_sh, mx_times_sw;
    snn_const_mul #(.IN_WIDTH(MYW), .OUT_WIDTH(KIW), .K(SH)) u_my_sh (.x(it_my), .y(my_times_sh));
    snn_const_mul #(.IN_WIDTH(MXW), .OUT_WIDTH(KIW), .K(SW)) u_mx_sw (.x(it_mx), .y(mx_times_sw));
    wire [KIW-1:0] it_ky = {{(KIW - KYW){1'b0}}, ev_ky0} + my_times_sh;   // < MH*SH: no overflow
    wire [KIW-1:0] it_kx = {{(KIW - KYW){1'b0}}, ev_kx0} + mx_times_sw;
    // output row / column q - m in DW bits, two's complement: the top bit is set when m > q
    wire [DW-1:0] oy_d = {{(DW - QW){1'b0}}, ev_qy} - {{(DW - MYW){1'b0}}, it_my};
    wire [DW-1:0] ox_d = {{(DW - QW){1'b0}}, ev_qx} - {{(DW - MXW){1'b0}}, it_mx};
    wire [31:0] oy32 = {{(32 - DW){oy_d[DW-1]}}, oy_d};   // the difference modulo 2**32
    wire [31:0] ox32 = {{(32 - DW){ox_d[DW-1]}}, ox_d};
    wire   row_in = (it_ky < KH32[KIW-1:0]) && !oy_d[DW-1] && (oy_d < H_LIM[DW-1:0]);
    wire [COLS-1:0] ev_col_ok;         // COLS > 1: the bank's output column is in range (per event)
    assign it_in = row_in && ((COLS > 1) ? (|ev_col_ok) : ((it_kx < KW32[KIW-1:0]) && !ox_d[DW-1] && (ox_d < W_LIM[DW-1:0])));
    assign it_oy = oy32[OYW-1:0];
    assign it_ox = ox32[OXW-1:0];
    wire   col_last   = (it_mx == LAST_MX[MXW-1:0]);
    wire   row_last   = (it_my == LAST_MY[MYW-1:0]);
    reg  [GW-1:0]  it_group0;          // og0 of the event
    reg  [GW-1:0]  it_group_rel;       // og - og0
    wire   group_last = (GROUPS == 1) || (it_group_rel == LAST_GROUP[GW-1:0]);
    assign it_last = group_last && col_last && row_last;

    always @(posedge clk) begin
        if (rst) begin
            it_valid <= 1'b0;
        end else if (start) begin
            it_valid   <= 1'b1;
            ev_qy      <= start_qy[QW-1:0];
            ev_qx      <= start_qx[QW-1:0];
            ev_ky0     <= start_ky0[KYW-1:0];
            ev_kx0     <= start_kx0[KYW-1:0];
            it_my      <= {MYW{1'b0}};
            it_mx      <= {MXW{1'b0}};
            it_group   <= start_group[GW-1:0];
            it_group0  <= start_group[GW-1:0];
            it_group_rel <= {GW{1'b0}};
            it_target  <= start_target[TAW-1:0];
            row_target <= start_target[TAW-1:0];
        end else if (it_valid && advance) begin
            if (it_last) begin
                it_valid <= 1'b0;
            end else if (!group_last) begin
                it_group  <= it_group + 1'b1;
                it_group_rel <= it_group_rel + 1'b1;
                it_target <= it_target + TA_STEP_GROUP[TAW-1:0];
            end else begin
                if (GROUPS > 1) begin
                    it_group     <= it_group0;
                    it_group_rel <= {GW{1'b0}};
                end
                if (!col_last) begin
                    it_mx     <= it_mx + 1'b1;
                    it_target <= it_target + TA_STEP_COL[TAW-1:0];
                end else begin
                    it_mx      <= {MXW{1'b0}};
                    it_my      <= it_my + 1'b1;
                    row_target <= row_target + TA_STEP_ROW[TAW-1:0];
                    it_target  <= row_target + TA_STEP_ROW[TAW-1:0];
                end
            end
        end
    end

    // ---- per-bank targets: the row's word plus the bank's column word, stepped with it ----
    genvar b;
    generate
        if (COLS == 1) begin : g_one_bank
            assign ev_col_ok     = 1'b1;
            assign it_col_in     = it_in;
            assign it_col_target = it_target;
            assign it_col_mx     = {COL_MXW{1'b0}};
        end else begin : g_banks
            // for the next event, by the input column's quotient qx: the bank's kernel column, whether its
            // output column is in range, and its word: tables over 0..QMAX_X built at elaboration (a
            // division by the constant COLS in logic maps to a chain of carry-chain subtractors)
            wire [QW-1:0] qx = start_qx[QW-1:0];
            for (b = 0; b < COLS; b = b + 1) begin : g_bank
                localparam [(QMAX_X+1)*COL_MXW-1:0] MX_TABLE   = bank_mx_table(b);
                localparam [QMAX_X:0]               OK_TABLE   = bank_ok_table(b);
                localparam [(QMAX_X+1)*TAW-1:0]     WORD_TABLE = bank_word_table(b);
                wire [COL_MXW-1:0] mx       = MX_TABLE[qx*COL_MXW +: COL_MXW];
                wire               ok       = OK_TABLE[qx];
                wire [TAW-1:0]     word_taw = WORD_TABLE[qx*TAW +: TAW];
                reg            col_ok;
                reg  [COL_MXW-1:0] col_mx;
                reg  [TAW-1:0] target, row_word;
                always @(posedge clk) begin
                    if (start) begin
                        col_ok   <= ok;
                        col_mx   <= mx;
                        target   <= start_target[TAW-1:0] + word_taw;
                        row_word <= start_target[TAW-1:0] + word_taw;
                    end else if (it_valid && advance && !it_last) begin
                        if (!group_last) begin
                            target <= target + TA_STEP_GROUP[TAW-1:0];
                        end else begin
                            row_word <= row_word + TA_STEP_ROW[TAW-1:0];
                            target   <= row_word + TA_STEP_ROW[TAW-1:0];
                        end
                    end
                end
                assign ev_col_ok[b]                 = col_ok;
                assign it_col_in[b]                 = row_in && col_ok;
                assign it_col_target[b*TAW +: TAW]  = target;
                assign it_col_mx[b*COL_MXW +: COL_MXW] = col_mx;
            end
        end
    endgenerate

    // ---- weight address: WEIGHT_BASE + ((c*KH + ky0)*KW + kx0)*GROUPS at the start, then stepped ----
    generate
        if (WEIGHTS != 0) begin : g_weights
            reg  [WAW-1:0] weight_addr, row_weight;
            wire [31:0] c_times_khkwg, ky0_times_kwg, kx0_times_g;
            snn_const_mul #(.IN_WIDTH(32), .OUT_WIDTH(32), .K(KH * KW_W * GROUPS)) u_c (.x(c32), .y(c_times_khkwg));
            snn_const_mul #(.IN_WIDTH(32), .OUT_WIDTH(32), .K(KW_W * GROUPS)) u_ky0 (.x(start_ky0), .y(ky0_times_kwg));
            snn_const_mul #(.IN_WIDTH(32), .OUT_WIDTH(32), .K(GROUPS)) u_kx0 (.x(start_kx0), .y(kx0_times_g));
            localparam [31:0] BASE = WEIGHT_BASE;
            wire [31:0] start_weight = c_times_khkwg + ky0_times_kwg + kx0_times_g + BASE;
            always @(posedge clk) begin
                if (start) begin
                    weight_addr <= start_weight[WAW-1:0];
                    row_weight  <= start_weight[WAW-1:0];
                end else if (it_valid && advance && !it_last) begin
                    if (!group_last) begin
                        weight_addr <= weight_addr + 1'b1;
                    end else if (!col_last) begin
                        weight_addr <= weight_addr + WA_STEP_COL[WAW-1:0];
                    end else begin
                        row_weight  <= row_weight + WA_STEP_ROW[WAW-1:0];
                        weight_addr <= row_weight + WA_STEP_ROW[WAW-1:0];
                    end
                end
            end
            assign it_weight = weight_addr;
            wire unused_weight_hi = &{1'b0, start_weight[31:WAW], 1'b0};
        end else begin : g_no_weights
            assign it_weight = {WAW{1'b0}};
        end
    endgenerate

    // the bits above each register's width are zero by construction
    wire unused_hi = &{1'b0, start_qy[31:QW], start_qx[31:QW], start_ky0[31:KYW], start_kx0[31:KYW],
                       start_group[31:GW], start_target[31:TAW], oy32[31:OYW], ox32[31:OXW], 1'b0};
endmodule
`default_nettype wire
