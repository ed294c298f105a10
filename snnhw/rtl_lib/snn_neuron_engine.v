// snnhw hardware library: event-driven neuron engine (one layer).
//
// One engine per convolution, dense or average-pooling layer. Per time step:
//   EVENTS  each input event (a spike token, or for the analog first layer a
//           non-zero pixel) is scattered by snn_scatter_addr to the output
//           neurons it reaches; each cycle updates LANES output channels of
//           one membrane word through snn_rmw_pipeline (read-modify-write,
//           in-flight writes forwarded) and snn_neuron_lane:
//             V[o, oy, ox] += W[o, c, ky, kx]       (spiking input)
//             I[o, oy, ox] += W[o, c, ky, kx] * x   (ANALOG = 1: into the
//                          input-current memory I, once per image)
//             V[c, oy, ox] += 1                     (AVGPOOL = 1, own lane)
//   FIRE    after the end-of-step token (ANALOG = 1: after the image's last
//           pixel, then once per step) a sweep over every membrane word:
//           V += bias (ANALOG: V += I); SPIKING = 1: fire when V >= theta,
//           reset by subtraction or to zero, clamp, spikes to snn_spike_emitter;
//           SPIKING = 0 (output layer): the potentials go out on the res_*
//           port, one word per cycle;
//   EOS     an end-of-step token (flagged last on the image's last step).
// Kernel columns in parallel (COLS = KW > 1, stride 1): the membranes (and
// currents) are in COLS banks by output column (bank ox mod COLS, word
// (group*H_OUT + oy)*ceil(W_OUT/COLS) + ox/COLS), each with its own
// read-modify-write pipeline and lanes, and a weight word holds the KW
// kernel columns: an event's kernel row updates COLS outputs per channel
// group in one cycle (snn_scatter_addr). The fire sweep still visits one
// position per cycle in (group, oy, ox) order, so spikes leave in the same
// order as with COLS = 1.
// Grouped convolution (CONV_GROUPS = g > 1; depthwise: g = C_IN): input
// channel c reaches only the C_OUT/g outputs of its group c / (C_IN/g), in
// (C_OUT/g)/LANES channel groups (LANES divides C_OUT/g), and its weight words
// hold those outputs only.
// Several synapse inputs (N_SYN > 1: a residual Add, a layer reading a
// Concat): the input tokens come from snn_event_merge, {eos, last, src, c,
// y, x}, and every synapse input k has its own geometry (SYN_* parameters,
// 32 bits per input: input map, kernel, stride, padding, convolution
// groups) and its own snn_scatter_addr; the event's src starts that one, and
// its iterations (one event at a time, as above) drive the one set of
// membranes. The weight ROM holds the inputs' weights one after another,
// input k's from word SYN_WBASE[k] on (WEIGHT_DEPTH words in all). The
// membranes integrate every input's events of a step before the sweep, in
// the merge's order; the adds wrap in MEM_BITS (no clamp before the sweep),
// so the order does not change the result: MEM_BITS holds the step's total.
// N_SYN > 1 needs COLS = 1, ANALOG = 0 and AVGPOOL = 0; C_IN .. PL and
// CONV_GROUPS are then unused (set them to input 0's geometry, CONV_GROUPS 1).
// The last step's sweep writes the initial values back (V = v_init, I = bias),
// so no state leaks into the next image; after reset an INIT sweep does the
// same. Numeric semantics: docs/numeric_contract.md; memory map and cycle
// model: docs/hardware.md.
//
// Image abort (early exit, snn_exit_queue's img_abort): img_abort is high only while
// the pipeline holds one image, which has exited, and the output has taken its
// exit step. An engine that has taken part of an image (img_open: a token or,
// for ANALOG = 1, past its pixel phase) and sees img_abort latches `aborting` until
// it passes that image's last end-of-step token; an engine that has already
// passed it (img_open low) ignores img_abort, so the next image is never touched.
// Every step an aborting engine still sees is after the exit step (it had
// passed the exit step's end-of-step token before the output could decide), so
// its results are not needed:
//   events      consumed and dropped, one per cycle (an event already being
//               scattered finishes; the last step's sweep overwrites it);
//   non-last    no sweep (a sweep under way stops), the end-of-step token
//   steps       passes on;
//   last step   the usual initializing sweep (V = v_init, I = bias), without
//               spikes or potentials, then the last end-of-step token.
// Spikes already in the spike queue still leave; downstream engines are on the
// same image and aborting too.
//
// Interfaces (all exist; the role selects which are used, the others are
// tied off by the instantiating top level):
//   pixel input  (ANALOG = 1)   s_valid/s_ready/s_pixel/s_last, cfg_timesteps, framing_error
//   early exit   (ANALOG = 1)   img_room/img_start/exit_now (snn_exit_queue): an image's first
//                               pixel is taken only while img_room is high, img_start pulses
//                               when it is; exit_now makes the next step the engine starts
//                               the image's last (the image then ends with the usual last-step
//                               sweep, every later engine follows the token's last flag)
//   image abort  (every role)   img_abort (snn_exit_queue): drop the rest of the current image (above)
//   token input  (ANALOG = 0)   in_valid/in_ready/in_data = {eos, last, address}
//                               (N_SYN > 1: {eos, last, src, c, y, x})
//   token output (SPIKING = 1)  out_valid/out_ready/out_data = {eos, last, address}
//   potentials   (SPIKING = 0)  res_* words during the sweep, res_eos_* at end of step
//
// Parameters: see the parameter list; widths that size ports are parameters
// (Verilog-2005 ports can use only those) and are checked against the
// geometry.
`default_nettype none
module snn_neuron_engine #(
    // role and numeric options
    parameter integer ANALOG      = 0,     // 1: first layer, analog pixel input
    parameter integer SPIKING     = 1,     // 1: spiking layer; 0: output layer (accumulates potentials)
    parameter integer AVGPOOL     = 0,     // 1: average pooling (weight 1 in the event's own channel)
    parameter integer RESET_SUB   = 1,     // 1: reset by subtraction; 0: reset to zero
    parameter integer V_INIT_HALF = 0,     // 1: membranes start at theta / 2
    // geometry (a dense layer is a 1x1 convolution of a 1x1 map)
    parameter integer C_IN  = 1,
    parameter integer H_IN  = 1,
    parameter integer W_IN  = 1,
    parameter integer C_OUT = 1,
    parameter integer H_OUT = 1,
    parameter integer W_OUT = 1,
    parameter integer KH = 1,
    parameter integer KW = 1,
    parameter integer SH = 1,
    parameter integer SW = 1,
    parameter integer PT = 0,
    parameter integer PL = 0,
    parameter integer LANES = 1,           // output channels updated per cycle
    parameter integer COLS  = 1,           // output columns updated per cycle: 1, or KW (banked membranes)
    parameter integer CONV_GROUPS = 1,     // convolution groups (depthwise: C_IN)
    // several synapse inputs (N_SYN > 1): per input k, bits [32*k +: 32] of each SYN_* parameter
    parameter integer N_SYN = 1,
    parameter integer SRC_W = 1,           // the token's src field (N_SYN > 1): ubits(N_SYN - 1)
    parameter [32*N_SYN-1:0] SYN_C_IN = 0,
    parameter [32*N_SYN-1:0] SYN_H_IN = 0,
    parameter [32*N_SYN-1:0] SYN_W_IN = 0,
    parameter [32*N_SYN-1:0] SYN_KH = 0,
    parameter [32*N_SYN-1:0] SYN_KW = 0,
    parameter [32*N_SYN-1:0] SYN_SH = 0,
    parameter [32*N_SYN-1:0] SYN_SW = 0,
    parameter [32*N_SYN-1:0] SYN_PT = 0,
    parameter [32*N_SYN-1:0] SYN_PL = 0,
    parameter [32*N_SYN-1:0] SYN_GROUPS = 0,   // convolution groups of input k (LANES divides C_OUT / groups)
    parameter [32*N_SYN-1:0] SYN_WBASE = 0,    // input k's first weight word
    parameter integer WEIGHT_DEPTH = 0,        // N_SYN > 1: weight words of all inputs
    // number formats
    parameter integer WEIGHT_BITS  = 8,
    parameter integer MEM_BITS     = 16,
    parameter integer BIAS_BITS    = 8,
    parameter integer THETA_BITS   = 8,    // unsigned
    parameter integer CURRENT_BITS = 0,    // ANALOG = 1: input-current width
    parameter signed [63:0] VMIN = -32768,
    parameter signed [63:0] VMAX = 32767,
    parameter integer T_MAX  = 1,
    // streams: token fields {eos, last, c, y, x} (IN_3D / OUT_3D = 0: {eos, last, index})
    parameter integer IN_3D  = 1,
    parameter integer IN_CW  = 1,
    parameter integer IN_YW  = 1,
    parameter integer IN_XW  = 1,
    parameter integer OUT_3D = 1,
    parameter integer OUT_CW = 1,
    parameter integer OUT_YW = 1,
    parameter integer OUT_XW = 1,
    // port widths (derived; checked)
    parameter integer IN_TOKEN_W  = 3,
    parameter integer OUT_TOKEN_W = 3,
    parameter integer STEP_W      = 1,     // holds T_MAX
    parameter integer GROUP_W     = 1,     // holds ceil(C_OUT / LANES) - 1
    parameter integer MEM_ADDR_W  = 1,     // holds the membrane depth (of one column bank) - 1
    parameter integer POS_W       = 1,     // holds H_OUT * W_OUT - 1
    // memories
    parameter integer MEM_BLOCK        = 1,   // membrane (and current) RAM: 1 block RAM, 2 LUT RAM, 0 the tool's choice
    parameter integer WEIGHT_BANK_AW   = 0,   // > 0: weight ROM in banks of 2**WEIGHT_BANK_AW words
    parameter integer WEIGHT_BLOCK     = 1,   // 1: weight ROM in block RAM (when >= 2048 bits); 0: in logic
    parameter         WEIGHT_FILE      = "",  // $readmemh image (banked: prefix of the bank files)
    parameter         BIAS_FILE        = "",
    parameter         THETA_FILE       = ""
) (
    input  wire                          clk,
    input  wire                          rst,
    // pixel input, C-H-W order (ANALOG = 1)
    input  wire                          s_valid,
    output wire                          s_ready,
    input  wire [7:0]                    s_pixel,
    input  wire                          s_last,
    input  wire [STEP_W-1:0]             cfg_timesteps,   // sampled with the image's first pixel
    output wire                          framing_error,   // sticky: tlast disagreed with the pixel count
    input  wire                          img_room,        // an image's first pixel may be taken
    output wire                          img_start,       // an image's first pixel is taken
    input  wire                          exit_now,        // the image exits: the next step started is its last
    input  wire                          img_abort,       // the image being worked on has exited: drop its work
    // input spike tokens (ANALOG = 0)
    input  wire                          in_valid,
    output wire                          in_ready,
    input  wire [IN_TOKEN_W-1:0]         in_data,
    // output spike tokens (SPIKING = 1)
    output wire                          out_valid,
    input  wire                          out_ready,
    output wire [OUT_TOKEN_W-1:0]        out_data,
    // output potentials, one channel-group word per beat during the sweep (SPIKING = 0)
    output wire                          res_valid,
    output wire                          res_last,        // the image's last step
    output wire [GROUP_W-1:0]            res_group,       // lanes: channels group*LANES + p
    output wire [MEM_ADDR_W-1:0]         res_addr,        // membrane word group*H_OUT*W_OUT + pos
    output wire [POS_W-1:0]              res_pos,         // oy*W_OUT + ox
    output wire [LANES*MEM_BITS-1:0]     res_potentials,
    output wire                          res_eos_valid,   // end of step, held until res_eos_ready
    output wire                          res_eos_last,
    input  wire                          res_eos_ready
);
    function integer ubits;            // bits of an unsigned register holding 0..n
        input integer n;
        begin
            ubits = 1;
            while ((n >> ubits) != 0) ubits = ubits + 1;
        end
    endfunction
    function integer max2(input integer a, input integer b);
        max2 = a > b ? a : b;
    endfunction

    localparam integer GROUPS   = (C_OUT + LANES - 1) / LANES;   // channel groups (words per position)
    localparam integer HW_OUT   = H_OUT * W_OUT;
    localparam integer WB_COLS  = (W_OUT + COLS - 1) / COLS;     // membrane words per row and bank
    localparam integer VDEPTH   = GROUPS * H_OUT * WB_COLS;      // membrane words per bank
    localparam integer COL_W    = ubits(COLS - 1);
    localparam integer KW_WORD  = (COLS > 1) ? 1 : KW;           // kernel columns per weight address
    localparam integer EV_GROUPS = GROUPS / CONV_GROUPS;         // channel groups an input channel reaches
    localparam integer WDEPTH   = (AVGPOOL != 0) ? 1 : (N_SYN > 1) ? WEIGHT_DEPTH :
                                  C_IN * KH * KW_WORD * EV_GROUPS;   // weight words
    localparam integer TOKEN_SRC_W = (N_SYN > 1) ? SRC_W : 0;    // the src field of an input token
    localparam integer WWORD    = COLS * LANES * WEIGHT_BITS;    // a weight word: COLS kernel columns of LANES
    localparam integer WEIGHT_AW = ubits(WDEPTH - 1);
    localparam integer ACC_BITS = (ANALOG != 0) ? CURRENT_BITS : MEM_BITS;   // the word the scatter accumulates
    localparam integer ADD_BITS = (ANALOG != 0) ? CURRENT_BITS : BIAS_BITS;  // what the sweep adds to V
    localparam integer CALC_BITS = max2(max2(MEM_BITS, BIAS_BITS), max2(CURRENT_BITS, THETA_BITS + 1)) + 2;
    localparam integer LAST_LANES = C_OUT - (GROUPS - 1) * LANES;     // lanes of the last channel group
    localparam integer SWEEP_YW = ubits(H_OUT - 1);
    localparam integer SWEEP_XW = ubits(W_OUT - 1);
    localparam [31:0]  LAST_ADDR  = VDEPTH - 1;
    localparam [31:0]  LAST_COL   = (W_OUT - 1) % COLS;          // the bank of the last column
    localparam [31:0]  LAST_BANK  = COLS - 1;
    localparam [31:0]  ROW_WORDS  = WB_COLS;
    localparam [31:0]  LAST_GROUP = GROUPS - 1;
    localparam [31:0]  LAST_POS   = HW_OUT - 1;
    localparam [31:0]  LAST_OY    = H_OUT - 1;
    localparam [31:0]  LAST_OX    = W_OUT - 1;

`ifndef SYNTHESIS
    initial begin
        if (C_IN < 1 || H_IN < 1 || W_IN < 1 || C_OUT < 1 || H_OUT < 1 || W_OUT < 1 || LANES < 1 || LANES > C_OUT) begin
            $error("snn_neuron_engine: shape %0dx%0dx%0d -> %0dx%0dx%0d with LANES %0d (1..C_OUT) is not mappable",
                   C_IN, H_IN, W_IN, C_OUT, H_OUT, W_OUT, LANES);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (IN_TOKEN_W != ((ANALOG != 0) ? 10 : 2 + TOKEN_SRC_W + IN_CW + ((IN_3D != 0) ? IN_YW + IN_XW : 0)) ||
            OUT_TOKEN_W != 2 + OUT_CW + ((OUT_3D != 0) ? OUT_YW + OUT_XW : 0)) begin
            $error("snn_neuron_engine: IN_TOKEN_W (%0d) / OUT_TOKEN_W (%0d) disagree with the token fields",
                   IN_TOKEN_W, OUT_TOKEN_W);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (GROUP_W != ubits(GROUPS - 1) || MEM_ADDR_W != ubits(VDEPTH - 1) || POS_W != ubits(HW_OUT - 1) ||
            STEP_W != ubits(T_MAX)) begin
            $error("snn_neuron_engine: GROUP_W %0d, MEM_ADDR_W %0d, POS_W %0d, STEP_W %0d must be %0d, %0d, %0d, %0d",
                   GROUP_W, MEM_ADDR_W, POS_W, STEP_W, ubits(GROUPS - 1), ubits(VDEPTH - 1), ubits(HW_OUT - 1),
                   ubits(T_MAX));
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if ((1 << OUT_CW) < C_OUT || (OUT_3D != 0 && ((1 << OUT_YW) < H_OUT || (1 << OUT_XW) < W_OUT))) begin
            $error("snn_neuron_engine: output token fields (%0d, %0d, %0d bits) cannot address %0dx%0dx%0d",
                   OUT_CW, OUT_YW, OUT_XW, C_OUT, H_OUT, W_OUT);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if ((ANALOG != 0 && (CURRENT_BITS < 2 || AVGPOOL != 0 || SPIKING == 0)) || (AVGPOOL != 0 && C_IN != C_OUT)) begin
            $error("snn_neuron_engine: ANALOG %0d needs CURRENT_BITS >= 2 and SPIKING = 1; AVGPOOL %0d needs C_IN = C_OUT",
                   ANALOG, AVGPOOL);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (COLS < 1 || (COLS > 1 && (COLS != KW || SW != 1 || SPIKING == 0 || AVGPOOL != 0))) begin
            $error("snn_neuron_engine: COLS (%0d) must be 1, or KW (%0d) with stride SW (%0d) = 1 in a spiking conv",
                   COLS, KW, SW);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (CONV_GROUPS < 1 || (CONV_GROUPS > 1 && (C_IN % CONV_GROUPS != 0 || C_OUT % CONV_GROUPS != 0 ||
                                                     (C_OUT / CONV_GROUPS) % LANES != 0 || AVGPOOL != 0 ||
                                                     ANALOG != 0))) begin
            $error("snn_neuron_engine: CONV_GROUPS (%0d) must divide C_IN (%0d) and C_OUT (%0d), LANES (%0d) C_OUT / CONV_GROUPS, in a convolution that is not the analog layer",
                   CONV_GROUPS, C_IN, C_OUT, LANES);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (WEIGHT_BLOCK != 0 && WEIGHT_BLOCK != 1) begin
            $error("snn_neuron_engine: WEIGHT_BLOCK (%0d) must be 0 or 1", WEIGHT_BLOCK);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (WEIGHT_BANK_AW < 0 || (WEIGHT_BANK_AW > 0 && ANALOG != 0)) begin
            $error("snn_neuron_engine: WEIGHT_BANK_AW (%0d) must be >= 0, and 0 for the analog layer", WEIGHT_BANK_AW);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (N_SYN < 1 || (N_SYN > 1 && (COLS != 1 || ANALOG != 0 || AVGPOOL != 0 || IN_3D == 0 ||
                                         (1 << SRC_W) < N_SYN || CONV_GROUPS != 1 || WEIGHT_DEPTH < 1))) begin
            $error("snn_neuron_engine: N_SYN (%0d) > 1 needs COLS = 1, ANALOG = 0, AVGPOOL = 0, IN_3D = 1, CONV_GROUPS = 1, WEIGHT_DEPTH >= 1 and SRC_W (%0d) bits for src",
                   N_SYN, SRC_W);
            $fatal(1, "snn_neuron_engine: bad parameters");
        end
        if (N_SYN > 1) begin : check_syn
            integer k, depth, grp;
            depth = 0;
            for (k = 0; k < N_SYN; k = k + 1) begin
                grp = SYN_GROUPS[32*k +: 32];
                if (SYN_C_IN[32*k +: 32] < 1 || SYN_H_IN[32*k +: 32] < 1 || SYN_W_IN[32*k +: 32] < 1 ||
                    SYN_KH[32*k +: 32] < 1 || SYN_KW[32*k +: 32] < 1 || SYN_SH[32*k +: 32] < 1 ||
                    SYN_SW[32*k +: 32] < 1 || grp < 1 || SYN_C_IN[32*k +: 32] % grp != 0 ||
                    C_OUT % grp != 0 || (grp > 1 && (C_OUT / grp) % LANES != 0) ||
                    (1 << IN_CW) < SYN_C_IN[32*k +: 32] || (1 << IN_YW) < SYN_H_IN[32*k +: 32] ||
                    (1 << IN_XW) < SYN_W_IN[32*k +: 32] || SYN_WBASE[32*k +: 32] != depth) begin
                    $error("snn_neuron_engine: synapse input %0d: input %0dx%0dx%0d, kernel %0dx%0d, stride %0dx%0d, %0d group(s), weights from word %0d (expected %0d) are not mappable",
                           k, SYN_C_IN[32*k +: 32], SYN_H_IN[32*k +: 32], SYN_W_IN[32*k +: 32], SYN_KH[32*k +: 32],
                           SYN_KW[32*k +: 32], SYN_SH[32*k +: 32], SYN_SW[32*k +: 32], grp, SYN_WBASE[32*k +: 32], depth);
                    $fatal(1, "snn_neuron_engine: bad parameters");
                end
                depth = depth + SYN_C_IN[32*k +: 32] * SYN_KH[32*k +: 32] * SYN_KW[32*k +: 32] * (GROUPS / grp);
            end
            if (depth != WEIGHT_DEPTH) begin
                $error("snn_neuron_engine: WEIGHT_DEPTH (%0d) must be the synapse inputs' %0d weight words",
                       WEIGHT_DEPTH, depth);
                $fatal(1, "snn_neuron_engine: bad parameters");
            end
        end
    end
`endif

    // ------------------------------------------------------------------
    // Phases
    // ------------------------------------------------------------------
    localparam [2:0] S_INIT   = 3'd0,  // write initial values to every neuron
                     S_EVENTS = 3'd1,  // accept input events (pixels or tokens)
                     S_DRAIN  = 3'd2,  // wait for the last scatter write
                     S_FIRE   = 3'd3,  // fire sweep
                     S_FLUSH  = 3'd4,  // wait for the sweep's writes and spikes
                     S_EOS    = 3'd5;  // emit the end-of-step token
    reg [2:0]        state;
    reg              step_last;        // the step being finished is the image's last
    reg [STEP_W-1:0] step;             // 0-based time step within the image

    // ------------------------------------------------------------------
    // Input events: the next event's position, and acceptance
    // ------------------------------------------------------------------
    wire              scatter_busy;    // an event's iterations are pending (not on its last)
    wire [IN_CW-1:0]  next_c;
    wire [IN_YW-1:0]  next_y;
    wire [IN_XW-1:0]  next_x;
    wire [SRC_W-1:0]  next_src;        // N_SYN > 1: the event's synapse input
    wire              ev_accept;       // an event with work starts this cycle
    wire              eos_accept;      // an end-of-step token is taken
    wire              eos_last;
    wire              last_pixel_taken;
    wire [STEP_W-1:0] t_steps;         // ANALOG: time steps of the current image
    wire              img_open;        // part of an image is taken and its last end of step not yet passed
    wire              img_end;         // the image's last end-of-step token passes on
    reg               aborting;        // the current image is aborted (see the header)
    generate
        if (ANALOG != 0) begin : g_pixels
            wire px_first, px_last;
            assign s_ready = (state == S_EVENTS) && !scatter_busy && (img_room || !px_first);
            wire   pixel_take = s_valid && s_ready;
            assign img_start  = pixel_take && px_first;
            snn_pixel_input #(.CHANNELS(C_IN), .HEIGHT(H_IN), .WIDTH(W_IN), .CW(IN_CW), .YW(IN_YW), .XW(IN_XW),
                              .T_MAX(T_MAX), .STEP_W(STEP_W)) u_pixels (
                .clk(clk), .rst(rst),
                .pixel_take(pixel_take), .pixel_last(s_last), .cfg_timesteps(cfg_timesteps),
                .px_c(next_c), .px_y(next_y), .px_x(next_x), .px_first(px_first), .px_last(px_last),
                .t_steps(t_steps), .framing_error(framing_error));
            assign ev_accept        = pixel_take && (s_pixel != 8'd0);   // zero pixels cost a cycle, no work
            assign last_pixel_taken = pixel_take && px_last;
            // the pixel phase is never part of an aborted image: img_abort falls before the next first pixel
            assign img_open         = (state != S_INIT) && (state != S_EVENTS);
            assign eos_accept       = 1'b0;
            assign eos_last         = 1'b0;
            assign next_src         = {SRC_W{1'b0}};
            assign in_ready         = 1'b0;
            wire unused_pixel_ports = &{1'b0, in_valid, in_data, 1'b0};
        end else begin : g_tokens
            assign in_ready  = (state == S_EVENTS) && !scatter_busy;
            wire   in_eos    = in_data[IN_TOKEN_W-1];
            assign eos_last  = in_data[IN_TOKEN_W-2];
            assign ev_accept  = in_valid && in_ready && !in_eos && !aborting;   // aborting: dropped
            assign eos_accept = in_valid && in_ready && in_eos;
            if (N_SYN > 1) begin : g_src
                assign next_src = in_data[IN_TOKEN_W-3 -: SRC_W];
            end else begin : g_no_src
                assign next_src = {SRC_W{1'b0}};
            end
            if (IN_3D != 0) begin : g_map
                assign next_c = in_data[IN_CW+IN_YW+IN_XW-1:IN_YW+IN_XW];
                assign next_y = in_data[IN_YW+IN_XW-1:IN_XW];
                assign next_x = in_data[IN_XW-1:0];
            end else begin : g_vector
                assign next_c = in_data[IN_CW-1:0];
                assign next_y = {IN_YW{1'b0}};
                assign next_x = {IN_XW{1'b0}};
            end
            assign s_ready          = 1'b0;
            assign framing_error    = 1'b0;
            assign t_steps          = {STEP_W{1'b0}};
            assign last_pixel_taken = 1'b0;
            assign img_start        = 1'b0;
            // from the image's first token (of any kind) to its last end of step
            reg img_open_q;
            always @(posedge clk) begin
                if (rst || img_end)             img_open_q <= 1'b0;
                else if (in_valid && in_ready)  img_open_q <= 1'b1;
            end
            assign img_open = img_open_q;
            wire unused_token_ports = &{1'b0, s_valid, s_pixel, s_last, cfg_timesteps, img_room, exit_now, 1'b0};
        end
    endgenerate

    // ------------------------------------------------------------------
    // Scatter: one iteration (kernel position, channel group) per cycle
    // ------------------------------------------------------------------
    wire                  it_valid, it_in, it_last;
    wire [GROUP_W-1:0]    it_group;
    wire [MEM_ADDR_W-1:0] unused_it_target;
    wire [COLS-1:0]       it_col_in;
    wire [COLS*MEM_ADDR_W-1:0] it_col_addr;
    wire [COLS*COL_W-1:0] it_col_mx;
    wire [WEIGHT_AW-1:0]  it_weight_addr;
    wire [SWEEP_YW-1:0]   unused_it_oy;
    wire [SWEEP_XW-1:0]   unused_it_ox;
    wire                  sc_phase = (state == S_EVENTS) || (state == S_DRAIN);   // iterations may end in S_DRAIN
    assign scatter_busy = it_valid && !it_last;
    generate
        if (N_SYN == 1) begin : g_scatter
            snn_scatter_addr #(
                .H_IN(H_IN), .W_IN(W_IN), .H_OUT(H_OUT), .W_OUT(W_OUT), .KH(KH), .KW(KW), .SH(SH), .SW(SW),
                .PT(PT), .PL(PL), .COLS(COLS), .GROUPS((AVGPOOL != 0) ? 1 : EV_GROUPS),
                .TARGET_CHANNEL_DIV((AVGPOOL != 0) ? LANES : (CONV_GROUPS > 1) ? C_IN / CONV_GROUPS : 0),
                .WEIGHTS((AVGPOOL != 0) ? 0 : 1), .CW(IN_CW), .YW(IN_YW), .XW(IN_XW), .GW(GROUP_W), .TAW(MEM_ADDR_W),
                .WAW(WEIGHT_AW), .OYW(SWEEP_YW), .OXW(SWEEP_XW), .COL_MXW(COL_W)
            ) u_scatter (
                .clk(clk), .rst(rst),
                .start(ev_accept), .ev_c(next_c), .ev_y(next_y), .ev_x(next_x),
                .advance(sc_phase), .it_valid(it_valid), .it_in(it_in), .it_last(it_last), .it_group(it_group),
                .it_target(unused_it_target), .it_weight(it_weight_addr), .it_oy(unused_it_oy), .it_ox(unused_it_ox),
                .it_col_in(it_col_in), .it_col_target(it_col_addr), .it_col_mx(it_col_mx));
            wire unused_src = &{1'b0, next_src, 1'b0};
        end else begin : g_scatters
            // one scatter generator per synapse input; the event's src starts its own, and only the one
            // iterating (at most one: an event starts when the previous one is on its last iteration)
            // drives the iteration outputs (an AND-OR multiplexer on the it_valid flags)
            genvar k;
            wire [N_SYN-1:0]            v_k, in_k, last_k;
            wire [N_SYN*GROUP_W-1:0]    group_k;
            wire [N_SYN*MEM_ADDR_W-1:0] target_k;
            wire [N_SYN*WEIGHT_AW-1:0]  weight_k;
            for (k = 0; k < N_SYN; k = k + 1) begin : g_syn
                localparam integer K_C_IN = SYN_C_IN[32*k +: 32];
                localparam integer K_GRP  = SYN_GROUPS[32*k +: 32];
                localparam [31:0]  K_SRC  = k;
                wire [MEM_ADDR_W-1:0] col_target;
                wire [SWEEP_YW-1:0]   unused_oy;
                wire [SWEEP_XW-1:0]   unused_ox;
                wire                  unused_col_in;
                wire [COL_W-1:0]      unused_col_mx;
                snn_scatter_addr #(
                    .H_IN(SYN_H_IN[32*k +: 32]), .W_IN(SYN_W_IN[32*k +: 32]), .H_OUT(H_OUT), .W_OUT(W_OUT),
                    .KH(SYN_KH[32*k +: 32]), .KW(SYN_KW[32*k +: 32]), .SH(SYN_SH[32*k +: 32]),
                    .SW(SYN_SW[32*k +: 32]), .PT(SYN_PT[32*k +: 32]), .PL(SYN_PL[32*k +: 32]), .COLS(1),
                    .GROUPS(GROUPS / K_GRP), .TARGET_CHANNEL_DIV((K_GRP > 1) ? K_C_IN / K_GRP : 0),
                    .WEIGHTS(1), .WEIGHT_BASE(SYN_WBASE[32*k +: 32]), .CW(IN_CW), .YW(IN_YW), .XW(IN_XW),
                    .GW(GROUP_W), .TAW(MEM_ADDR_W), .WAW(WEIGHT_AW), .OYW(SWEEP_YW), .OXW(SWEEP_XW), .COL_MXW(COL_W)
                ) u_scatter (
                    .clk(clk), .rst(rst),
                    .start(ev_accept && next_src == K_SRC[SRC_W-1:0]), .ev_c(next_c), .ev_y(next_y), .ev_x(next_x),
                    .advance(sc_phase), .it_valid(v_k[k]), .it_in(in_k[k]), .it_last(last_k[k]),
                    .it_group(group_k[k*GROUP_W +: GROUP_W]), .it_target(target_k[k*MEM_ADDR_W +: MEM_ADDR_W]),
                    .it_weight(weight_k[k*WEIGHT_AW +: WEIGHT_AW]), .it_oy(unused_oy), .it_ox(unused_ox),
                    .it_col_in(unused_col_in), .it_col_target(col_target), .it_col_mx(unused_col_mx));
                wire unused_syn = &{1'b0, unused_oy, unused_ox, unused_col_in, unused_col_mx, col_target, 1'b0};
            end
            reg                  m_in, m_last;
            reg [GROUP_W-1:0]    m_group;
            reg [MEM_ADDR_W-1:0] m_target;
            reg [WEIGHT_AW-1:0]  m_weight;
            integer j;
            always @(*) begin
                m_in = 1'b0;
                m_last = 1'b0;
                m_group = {GROUP_W{1'b0}};
                m_target = {MEM_ADDR_W{1'b0}};
                m_weight = {WEIGHT_AW{1'b0}};
                for (j = 0; j < N_SYN; j = j + 1) begin
                    if (v_k[j]) begin
                        m_in     = m_in | in_k[j];
                        m_last   = m_last | last_k[j];
                        m_group  = m_group | group_k[j*GROUP_W +: GROUP_W];
                        m_target = m_target | target_k[j*MEM_ADDR_W +: MEM_ADDR_W];
                        m_weight = m_weight | weight_k[j*WEIGHT_AW +: WEIGHT_AW];
                    end
                end
            end
            assign it_valid         = |v_k;
            assign it_in            = m_in;
            assign it_last          = m_last;
            assign it_group         = m_group;
            assign it_weight_addr   = m_weight;
            assign it_col_in        = m_in;
            assign it_col_addr      = m_target;
            assign it_col_mx        = {COL_W{1'b0}};
            assign unused_it_target = m_target;
            assign unused_it_oy     = {SWEEP_YW{1'b0}};
            assign unused_it_ox     = {SWEEP_XW{1'b0}};
        end
    endgenerate
    wire sc_issue = sc_phase && it_valid && it_in;
    // the weight ROM reads every iteration, in range or not (an iteration out of range issues nothing,
    // so its word is never used): its enable, on block RAMs across the device, does not wait for
    // the range test's carry chain
    wire sc_read = sc_phase && it_valid;

    // the event's multiplier (ANALOG: the pixel) and lane (AVGPOOL: one-hot)
    reg  [7:0]       ev_pixel;
    reg  [LANES-1:0] ev_lane;
    wire [31:0]      next_c32 = {{(32 - IN_CW){1'b0}}, next_c};
    wire [31:0]      next_lane = next_c32 % LANES;
    always @(posedge clk) begin
        if (ev_accept) begin
            ev_pixel <= s_pixel;
            ev_lane  <= {{(LANES - 1){1'b0}}, 1'b1} << next_lane;
        end
    end

    // ------------------------------------------------------------------
    // Fire-sweep address generator
    // ------------------------------------------------------------------
    reg                   sw_running;      // addresses left to issue
    reg  [MEM_ADDR_W-1:0] sw_addr;
    reg  [GROUP_W-1:0]    sw_group;
    reg  [SWEEP_YW-1:0]   sw_oy;
    reg  [SWEEP_XW-1:0]   sw_ox;
    reg  [POS_W-1:0]      sw_pos;          // oy*W_OUT + ox
    reg  [COL_W-1:0]      sw_col;          // the bank of column ox (ox mod COLS)
    reg  [MEM_ADDR_W-1:0] sw_row_addr;     // COLS > 1: the word of (group, oy, ox = 0)
    wire                  sw_end = (sw_addr == LAST_ADDR[MEM_ADDR_W-1:0]) &&
                                   (COLS == 1 || sw_col == LAST_COL[COL_W-1:0]);
    wire                  sw_col_last = (COLS == 1) || (sw_col == LAST_BANK[COL_W-1:0]);
    wire [MEM_ADDR_W-1:0] sw_next_row  = (COLS == 1) ? sw_addr + 1'b1 : sw_row_addr + ROW_WORDS[MEM_ADDR_W-1:0];
    wire                  emit_room;       // the spike queue can take the sweep's pushes in flight
    // an aborted image's non-last step: no sweep (one under way stops); its last step sweeps without spikes
    wire                  skip_sweep = aborting && !step_last;
    wire                  sw_cancel  = (state == S_FIRE) && skip_sweep;
    wire                  sw_issue = sw_running && (state == S_INIT ||
                                                    (state == S_FIRE && !skip_sweep && (emit_room || SPIKING == 0 || aborting)));
    reg                   sweep_begin;     // control: start a sweep

    always @(posedge clk) begin
        // reset (then the INIT sweep runs), or the sweep's last address issued, or the sweep cancelled
        if (rst || sw_cancel || (sw_issue && sw_end)) begin
            sw_running  <= rst;
            sw_addr     <= {MEM_ADDR_W{1'b0}};
            sw_row_addr <= {MEM_ADDR_W{1'b0}};
            sw_col      <= {COL_W{1'b0}};
            sw_group    <= {GROUP_W{1'b0}};
            sw_oy       <= {SWEEP_YW{1'b0}};
            sw_ox       <= {SWEEP_XW{1'b0}};
            sw_pos      <= {POS_W{1'b0}};
        end else if (sw_issue) begin
            sw_pos  <= (sw_pos == LAST_POS[POS_W-1:0]) ? {POS_W{1'b0}} : sw_pos + 1'b1;
            if (sw_ox != LAST_OX[SWEEP_XW-1:0]) begin
                sw_ox <= sw_ox + 1'b1;
                // the next column: the next bank, or bank 0 of the next word
                if (sw_col_last) begin
                    sw_col  <= {COL_W{1'b0}};
                    sw_addr <= sw_addr + 1'b1;
                end else begin
                    sw_col  <= sw_col + 1'b1;
                end
            end else begin
                sw_ox       <= {SWEEP_XW{1'b0}};
                sw_col      <= {COL_W{1'b0}};
                sw_addr     <= sw_next_row;
                sw_row_addr <= sw_next_row;
                if (sw_oy != LAST_OY[SWEEP_YW-1:0]) begin
                    sw_oy <= sw_oy + 1'b1;
                end else begin
                    sw_oy    <= {SWEEP_YW{1'b0}};
                    sw_group <= sw_group + 1'b1;
                end
            end
        end else if (sweep_begin) begin
            sw_running <= 1'b1;
        end
    end

    // ------------------------------------------------------------------
    // Read-modify-write pipelines (stages I, A, B, C, D; one per column bank)
    // and what travels with each operation: sweep or scatter, real step or
    // INIT, reinit, group, position, pixel, lane, each bank's kernel column.
    // Sweep and scatter never issue in the same cycle; a sweep operation goes
    // to one bank (sw_col).
    // ------------------------------------------------------------------
    wire [COLS-1:0]       a_valid_col, b_valid_col, c_valid_col, d_valid_col;
    wire                  a_valid = |a_valid_col;
    wire                  b_valid = |b_valid_col;
    wire                  c_valid = |c_valid_col;
    wire                  d_valid = |d_valid_col;
    reg                   a_sweep, b_sweep, c_sweep;
    reg                   a_step, b_step, c_step;
    reg                   a_reinit, b_reinit, c_reinit;
    reg  [GROUP_W-1:0]    a_group, b_group, c_group;
    reg  [SWEEP_YW-1:0]   a_oy, b_oy, c_oy;
    reg  [SWEEP_XW-1:0]   a_ox, b_ox, c_ox;
    reg  [POS_W-1:0]      a_pos, b_pos, c_pos;
    reg  [7:0]            a_pixel, b_pixel;
    reg  [LANES-1:0]      a_lane, b_lane, c_lane;
    reg  [COLS*COL_W-1:0] a_mx, b_mx, c_mx;

    always @(posedge clk) begin
        a_sweep  <= sw_issue;
        a_step   <= (state == S_FIRE);
        a_reinit <= (state == S_INIT) || step_last;
        a_group  <= sw_issue ? sw_group : it_group;
        a_oy     <= sw_oy;
        a_ox     <= sw_ox;
        a_pos    <= sw_pos;
        a_pixel  <= ev_pixel;
        a_lane   <= ev_lane;
        a_mx     <= it_col_mx;
        b_sweep  <= a_sweep;
        b_step   <= a_step;
        b_reinit <= a_reinit;
        b_group  <= a_group;
        b_oy     <= a_oy;
        b_ox     <= a_ox;
        b_pos    <= a_pos;
        b_pixel  <= a_pixel;
        b_lane   <= a_lane;
        b_mx     <= a_mx;
        c_sweep  <= b_sweep;
        c_step   <= b_step;
        c_reinit <= b_reinit;
        c_group  <= b_group;
        c_oy     <= b_oy;
        c_ox     <= b_ox;
        c_pos    <= b_pos;
        c_lane   <= b_lane;
        c_mx     <= b_mx;
    end

    // ------------------------------------------------------------------
    // Shared memories: weights, bias, threshold. Weights are read in stage I
    // and arrive in stage C (ANALOG: stage B, the product is registered into
    // C); bias and theta are read in stage A.
    // ------------------------------------------------------------------
    wire [WWORD-1:0] w_rdata;
    generate
        if (AVGPOOL != 0) begin : g_no_weights
            assign w_rdata = {WWORD{1'b0}};
            wire unused_weight_addr = &{1'b0, it_weight_addr, sc_read, 1'b0};
        end
        // separate ifs, not else-if: Yosys puts an else-if branch into an extra genblk scope, and the
        // synthesis checks find the weight ROM by its path (u_lN.g_weights.u_weights, u_lN.g_banked_weights...)
        if (AVGPOOL == 0 && WEIGHT_BANK_AW > 0) begin : g_banked_weights
            snn_rom_banked #(.WIDTH(WWORD), .DEPTH(WDEPTH), .AW(WEIGHT_AW), .BANK_AW(WEIGHT_BANK_AW),
                             .INIT_PREFIX(WEIGHT_FILE)) u_weights (
                .clk(clk), .re(sc_read), .addr(it_weight_addr), .data(w_rdata));
        end
        if (AVGPOOL == 0 && WEIGHT_BANK_AW == 0) begin : g_weights
            // WEIGHT_BLOCK = 0: a shallow, wide ROM (e.g. the KW kernel columns of a word) is cheaper in
            // logic than in block RAMs of which it would fill a few rows
            snn_rom #(.WIDTH(WWORD), .DEPTH(WDEPTH), .AW(WEIGHT_AW), .OUTREG((ANALOG != 0) ? 1 : 2),
                      .BLOCK_MIN_BITS((WEIGHT_BLOCK != 0) ? 2048 : WWORD * WDEPTH + 1),
                      .INIT_FILE(WEIGHT_FILE)) u_weights (
                .clk(clk), .re(sc_read), .addr(it_weight_addr), .data(w_rdata));
        end
    endgenerate

    // bias and theta arrive in stage B; every bank registers its own copy for stage C (below)
    wire [LANES*BIAS_BITS-1:0]  b_bias;
    snn_rom #(.WIDTH(LANES * BIAS_BITS), .DEPTH(GROUPS), .AW(GROUP_W), .OUTREG(0), .INIT_FILE(BIAS_FILE)) u_bias (
        .clk(clk), .re(a_valid), .addr(a_group), .data(b_bias));
    wire [LANES*THETA_BITS-1:0] b_theta;
    generate
        if (SPIKING != 0) begin : g_theta
            snn_rom #(.WIDTH(LANES * THETA_BITS), .DEPTH(GROUPS), .AW(GROUP_W), .OUTREG(0),
                      .INIT_FILE(THETA_FILE)) u_theta (
                .clk(clk), .re(a_valid), .addr(a_group), .data(b_theta));
        end else begin : g_no_theta
            assign b_theta = {(LANES * THETA_BITS){1'b0}};
        end
    endgenerate

    // ------------------------------------------------------------------
    // Per column bank: the pipeline, the membrane V (and input current I)
    // RAMs, the lanes (stage C) and the registered write (stage D: stage C's
    // carry chains and the routes to a memory spread over many block RAMs
    // fall into different cycles).
    // ------------------------------------------------------------------
    wire [COLS*LANES-1:0]       fire_col;
    wire [COLS*LANES*MEM_BITS-1:0] potential_col;
    wire [COLS*MEM_ADDR_W-1:0]  c_addr_col;
    genvar p, b;
    generate
        for (b = 0; b < COLS; b = b + 1) begin : g_col
            // Stage C inputs of this bank's lanes, each bank its own registers. `keep`: Yosys would merge
            // the banks' identical registers into one, whose fan-out then spans lanes placed far apart
            // (a threshold register of one bank driving another bank's fire test across the device)
            (* keep *) reg                         lane_step, lane_reinit, lane_sweep;
            (* keep *) reg [LANES*BIAS_BITS-1:0]  bias_rdata;
            (* keep *) reg [LANES*THETA_BITS-1:0] theta_rdata;
            (* keep *) always @(posedge clk) begin
                lane_step   <= b_step;
                lane_reinit <= b_reinit;
                lane_sweep  <= b_sweep;
                bias_rdata  <= b_bias;
                theta_rdata <= b_theta;
            end

            wire                  issue = (sc_issue && it_col_in[b]) || (sw_issue && sw_col == b);
            wire [MEM_ADDR_W-1:0] issue_addr = sw_issue ? sw_addr : it_col_addr[b*MEM_ADDR_W +: MEM_ADDR_W];
            wire [MEM_ADDR_W-1:0] a_addr, b_addr, c_addr, d_addr;
            wire [LANES*ACC_BITS-1:0] acc_rdata, acc_old, acc_new;
            wire                  c_acc_write = c_valid_col[b] && !lane_sweep;
            snn_rmw_pipeline #(.ADDR_W(MEM_ADDR_W), .DATA_W(LANES * ACC_BITS)) u_rmw (
                .clk(clk), .rst(rst),
                .issue_valid(issue), .issue_addr(issue_addr),
                .read_en(a_valid_col[b]), .read_addr(a_addr), .b_valid(b_valid_col[b]), .b_addr(b_addr),
                .c_valid(c_valid_col[b]), .c_addr(c_addr),
                .acc_rdata(acc_rdata), .c_acc_write(c_acc_write), .c_acc_wdata(acc_new), .c_acc_old(acc_old),
                .d_valid(d_valid_col[b]), .d_addr(d_addr));
            assign c_addr_col[b*MEM_ADDR_W +: MEM_ADDR_W] = c_addr;

            wire [LANES*MEM_BITS-1:0] v_rdata;
            reg                       v_we;
            reg  [LANES*MEM_BITS-1:0] v_wdata;
            wire [LANES*MEM_BITS-1:0] sweep_v;
            snn_ram #(.WIDTH(LANES * MEM_BITS), .DEPTH(VDEPTH), .AW(MEM_ADDR_W), .OUTREG(1), .BLOCK(MEM_BLOCK)) u_membrane (
                .clk(clk), .we(v_we), .we_all(1'b0), .waddr(d_addr), .wdata(v_wdata),
                .re(a_valid_col[b]), .raddr(a_addr), .rdata(v_rdata));

            // this bank's kernel column of the weight word (ANALOG: in stage B, else C)
            // (a COLS:1 multiplexer: an index scaled by the word width would build a shifter over the word)
            wire [COL_W-1:0] mx = (ANALOG != 0) ? b_mx[b*COL_W +: COL_W] : c_mx[b*COL_W +: COL_W];
            reg  [LANES*WEIGHT_BITS-1:0] weights;
            integer k;
            always @(*) begin
                weights = w_rdata[LANES*WEIGHT_BITS-1:0];
                for (k = 1; k < COLS; k = k + 1)
                    if (mx == k[COL_W-1:0]) weights = w_rdata[k*LANES*WEIGHT_BITS +: LANES*WEIGHT_BITS];
            end

            wire [LANES*ADD_BITS-1:0] add_word;     // what the sweep adds: bias, or ANALOG the current I
            for (p = 0; p < LANES; p = p + 1) begin : g_lane
                // channel group*LANES + p exists (the last group may be partial)
                wire lane_exists = (p < LAST_LANES) || (c_group != LAST_GROUP[GROUP_W-1:0]);
                snn_neuron_lane #(
                    .SPIKING(SPIKING), .RESET_SUB(RESET_SUB), .V_INIT_HALF(V_INIT_HALF),
                    .INCREMENT((ANALOG != 0) ? 1 : (AVGPOOL != 0) ? 2 : 0), .ACC_BITS(ACC_BITS),
                    .WEIGHT_BITS(WEIGHT_BITS), .MEM_BITS(MEM_BITS), .ADD_BITS(ADD_BITS), .THETA_BITS(THETA_BITS),
                    .CALC_BITS(CALC_BITS), .VMIN(VMIN), .VMAX(VMAX)
                ) u_lane (
                    .clk(clk),
                    .acc_old(acc_old[p*ACC_BITS +: ACC_BITS]), .weight(weights[p*WEIGHT_BITS +: WEIGHT_BITS]),
                    .pixel(b_pixel), .unit(c_lane[p]), .acc_new(acc_new[p*ACC_BITS +: ACC_BITS]),
                    .v_cur(v_rdata[p*MEM_BITS +: MEM_BITS]), .add(add_word[p*ADD_BITS +: ADD_BITS]),
                    .theta(theta_rdata[p*THETA_BITS +: THETA_BITS]), .step(lane_step), .lane_exists(lane_exists),
                    .reinit(lane_reinit), .fire(fire_col[b*LANES + p]), .v_new(sweep_v[p*MEM_BITS +: MEM_BITS]),
                    .potential(potential_col[(b*LANES + p)*MEM_BITS +: MEM_BITS]));
            end

            if (ANALOG != 0) begin : g_current
                // input current I: accumulates the image's pixels, reinitialised to the bias
                wire [LANES*CURRENT_BITS-1:0] i_rdata;
                wire [LANES*CURRENT_BITS-1:0] sweep_i;
                reg                           i_we;
                reg  [LANES*CURRENT_BITS-1:0] i_wdata;
                snn_ram #(.WIDTH(LANES * CURRENT_BITS), .DEPTH(VDEPTH), .AW(MEM_ADDR_W), .OUTREG(1),
                          .BLOCK(MEM_BLOCK)) u_current (
                    .clk(clk), .we(i_we), .we_all(1'b0), .waddr(d_addr), .wdata(i_wdata),
                    .re(a_valid_col[b]), .raddr(a_addr), .rdata(i_rdata));
                for (p = 0; p < LANES; p = p + 1) begin : g_bias_ext
                    wire [BIAS_BITS-1:0] bias = bias_rdata[p*BIAS_BITS +: BIAS_BITS];
                    if (CURRENT_BITS > BIAS_BITS) begin : g_extend
                        assign sweep_i[p*CURRENT_BITS +: CURRENT_BITS] = {{(CURRENT_BITS - BIAS_BITS){bias[BIAS_BITS-1]}}, bias};
                    end else begin : g_fit
                        assign sweep_i[p*CURRENT_BITS +: CURRENT_BITS] = bias[CURRENT_BITS-1:0];
                    end
                end
                assign acc_rdata = i_rdata;
                assign add_word  = i_rdata;
                always @(posedge clk) begin
                    if (rst) begin
                        i_we <= 1'b0;
                        v_we <= 1'b0;
                    end else begin
                        i_we <= c_valid_col[b] && (!lane_sweep || lane_reinit);
                        v_we <= c_valid_col[b] && lane_sweep;
                    end
                    i_wdata <= lane_sweep ? sweep_i : acc_new;
                    v_wdata <= sweep_v;
                end
            end else begin : g_membrane_acc
                assign acc_rdata = v_rdata;
                assign add_word  = bias_rdata;
                always @(posedge clk) begin
                    if (rst) v_we <= 1'b0;
                    else     v_we <= c_valid_col[b];
                    v_wdata <= lane_sweep ? sweep_v : acc_new;
                end
            end
            wire unused_col = &{1'b0, b_addr, d_valid_col[b], 1'b0};
        end
    endgenerate

    // the sweep's operation in stage C is in one bank: its fire mask
    reg [LANES-1:0] fire_mask;
    integer k;
    always @(*) begin
        fire_mask = {LANES{1'b0}};
        for (k = 0; k < COLS; k = k + 1)
            if (c_valid_col[k]) fire_mask = fire_mask | fire_col[k*LANES +: LANES];
    end

    // ------------------------------------------------------------------
    // Outputs: spikes and end-of-step tokens, or potentials
    // ------------------------------------------------------------------
    wire pipeline_idle = !a_valid && !b_valid && !c_valid && !d_valid;
    wire flushed;
    wire eos_done;
    generate
        if (SPIKING != 0) begin : g_spikes
            wire                emit_valid, emit_busy;
            wire [OUT_CW-1:0]   emit_channel;
            wire [SWEEP_YW-1:0] emit_oy;
            wire [SWEEP_XW-1:0] emit_ox;
            // the fire mask is registered (stage D) before the spike queue: the lanes' fire test (a carry
            // chain) and the queue's write logic fall into different cycles
            reg                 d_push;
            reg [LANES-1:0]     d_mask;
            reg [GROUP_W-1:0]   d_group;
            reg [SWEEP_YW-1:0]  d_oy;
            reg [SWEEP_XW-1:0]  d_ox;
            always @(posedge clk) begin
                if (rst) d_push <= 1'b0;
                else     d_push <= c_valid && c_sweep && (fire_mask != {LANES{1'b0}}) && !aborting;
                d_mask  <= fire_mask;
                d_group <= c_group;
                d_oy    <= c_oy;
                d_ox    <= c_ox;
            end
            // PUSH_LATENCY 4: the sweep operations in stages A, B, C and D may push after emit_room was seen
            snn_spike_emitter #(.LANES(LANES), .GROUP_W(GROUP_W), .CHANNEL_W(OUT_CW), .POSITION(OUT_3D),
                                .OY_W(SWEEP_YW), .OX_W(SWEEP_XW), .DEPTH(8), .PUSH_LATENCY(4)) u_emitter (
                .clk(clk), .rst(rst),
                .push(d_push), .push_room(emit_room),
                .push_group(d_group), .push_oy(d_oy), .push_ox(d_ox), .push_mask(d_mask),
                .spike_valid(emit_valid), .spike_ready(out_ready), .spike_channel(emit_channel),
                .spike_oy(emit_oy), .spike_ox(emit_ox), .busy(emit_busy));
            assign out_valid = emit_valid || (state == S_EOS);
            if (OUT_3D != 0) begin : g_map_token
                assign out_data = emit_valid ? {2'b00, emit_channel, emit_oy[OUT_YW-1:0], emit_ox[OUT_XW-1:0]}
                                             : {1'b1, step_last, {(OUT_TOKEN_W - 2){1'b0}}};
            end else begin : g_vector_token
                assign out_data = emit_valid ? {2'b00, emit_channel} : {1'b1, step_last, {(OUT_TOKEN_W - 2){1'b0}}};
                wire unused_emit_pos = &{1'b0, emit_oy, emit_ox, 1'b0};
            end
            assign flushed  = pipeline_idle && !emit_busy;
            assign eos_done = (state == S_EOS) && out_ready && !emit_valid;
            assign res_valid = 1'b0;
            assign res_last  = 1'b0;
            assign res_group = {GROUP_W{1'b0}};
            assign res_addr  = {MEM_ADDR_W{1'b0}};
            assign res_pos   = {POS_W{1'b0}};
            assign res_eos_valid = 1'b0;
            assign res_eos_last  = 1'b0;
            wire unused_res_ports = &{1'b0, res_eos_ready, c_pos, c_step, c_reinit, 1'b0};
        end else begin : g_potentials
            assign emit_room     = 1'b1;
            assign res_valid     = c_valid && c_sweep && c_step && !aborting;
            assign res_last      = c_reinit;
            assign res_group     = c_group;
            assign res_addr      = c_addr_col[MEM_ADDR_W-1:0];
            assign res_pos       = c_pos;
            assign res_eos_valid = (state == S_EOS);
            assign res_eos_last  = step_last;
            assign flushed  = pipeline_idle;
            assign eos_done = (state == S_EOS) && res_eos_ready;
            assign out_valid = 1'b0;
            assign out_data  = {OUT_TOKEN_W{1'b0}};
            wire unused_out_ports = &{1'b0, out_ready, fire_mask, c_oy, c_ox, 1'b0};
        end
    endgenerate
    assign res_potentials = potential_col[LANES*MEM_BITS-1:0];   // the output layer has one bank
    wire unused_engine = &{1'b0, c_addr_col, potential_col, unused_it_target, unused_it_oy, unused_it_ox, next_lane,
                           c_lane, b_pixel, 1'b0};

    // ------------------------------------------------------------------
    // Control
    // ------------------------------------------------------------------
    wire scatter_done = !it_valid && pipeline_idle;
    wire [STEP_W-1:0] step_next = step + 1'b1;
    always @(*) begin
        sweep_begin = 1'b0;
        case (state)
            S_DRAIN: sweep_begin = scatter_done && !skip_sweep;
            S_EOS:   sweep_begin = (ANALOG != 0) && eos_done && !step_last;
            default: sweep_begin = 1'b0;
        endcase
    end

    always @(posedge clk) begin
        if (rst) begin
            state     <= S_INIT;
            step_last <= 1'b0;
            step      <= {STEP_W{1'b0}};
        end else begin
            case (state)
                S_INIT: begin
                    if (!sw_running && pipeline_idle) state <= S_EVENTS;
                end
                S_EVENTS: begin
                    if (ANALOG != 0) begin
                        if (last_pixel_taken) state <= S_DRAIN;
                    end else if (eos_accept) begin
                        step_last <= eos_last;
                        state     <= S_DRAIN;
                    end
                end
                S_DRAIN: begin
                    // the last event's iterations finish, then its writes
                    if (scatter_done) begin
                        state <= skip_sweep ? S_FLUSH : S_FIRE;
                        if (ANALOG != 0) step_last <= (t_steps == {{(STEP_W - 1){1'b0}}, 1'b1});
                    end
                end
                S_FIRE: begin
                    if ((sw_issue && sw_end) || sw_cancel) state <= S_FLUSH;
                end
                S_FLUSH: begin
                    if (flushed) state <= S_EOS;
                end
                S_EOS: begin
                    if (eos_done) begin
                        if (ANALOG == 0) begin
                            step  <= step_last ? {STEP_W{1'b0}} : step_next;
                            state <= S_EVENTS;
                        end else if (step_last) begin
                            step  <= {STEP_W{1'b0}};
                            state <= S_EVENTS;
                        end else begin
                            step      <= step_next;
                            step_last <= (step_next + 1'b1 == t_steps) || exit_now || aborting;
                            state     <= S_FIRE;
                        end
                    end
                end
                default: state <= S_INIT;
            endcase
        end
    end

    // The abort flag: set while part of an image is taken, cleared when the image's last end of step
    // passes (that has priority: img_abort seen in that cycle concerns the image that is ending).
    assign img_end = eos_done && step_last;
    always @(posedge clk) begin
        if (rst || img_end)             aborting <= 1'b0;
        else if (img_abort && img_open) aborting <= 1'b1;
    end
endmodule
`default_nettype wire
