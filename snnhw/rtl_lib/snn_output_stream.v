// ============================================================================
// snn_output_stream -- class and potential stream of the output layer
// (snnhw RTL library, Verilog-2005)
//
// Turns the output layer's per-step results into an AXI4-Stream (master) of
// CLASSES = CHANNELS * POSITIONS outputs (C-H-W order: output c * POSITIONS + s
// is channel c at position s). Framing, per image of T steps that exits after
// step E (0-based, E <= T - 1, early exit below; E = T - 1 without it):
//   E + 1 beats    m_user = 0: the class (the argmax of the output potentials,
//                  ties to the lowest index) after step 0, 1, ..., E,
//                  zero-extended to DATA_WIDTH;
//   CLASSES beats  m_user = 1: the potentials V[0 .. CLASSES-1] after step E
//                  (C-H-W order), sign-extended from POTENTIAL_BITS to
//                  DATA_WIDTH; m_last on the last of them, sent once the
//                  image's last step (res_eos_last) has ended.
//
// Early exit (margin rule, snnhw/reference/early_exit.py): the image's rule
// is cfg_margin (unsigned, MARGIN_BITS = POTENTIAL_BITS + 1 bits; 0: no early
// exit) and cfg_min_steps (0 counts as 1), the head of the image descriptor
// queue (snn_exit_queue), popped by cfg_pop when the image's potential beats
// are sent. The image exits after the first step t with t + 1 >= min_steps at
// which the largest potential minus the second largest (minus 0 for
// CLASSES = 1) is >= margin. From then on exit_req is high (until the image
// ends) and the results of its later steps are taken and dropped: no class
// beats, the potentials kept are those of step E. Exiting early is the output
// layer's producers' business (exit_req goes back to layer 0, which ends the
// image early); this module only needs res_eos_last on some step >= E.
//
// Result interface (from the output layer): one result word per (channel
// group g, position s) and step, in any order: LANES potentials of the
// channels g * LANES + p (lane p at res_potentials[p * POTENTIAL_BITS +:
// POTENTIAL_BITS], two's complement); lanes of channels >= CHANNELS (in the
// last group) are ignored. res_addr = g * POSITIONS + s addresses the word's
// place in the potential memory; res_last marks the words of the image's last
// step, which are stored for the potential beats. res_valid has no ready: a
// word is taken in every cycle where res_valid is high. After the step's last
// word the layer raises res_eos_valid (res_eos_last on the image's last step)
// and holds it until res_eos_ready, a one-cycle pulse once the step's beats
// are sent; res_eos_valid is only seen while res_valid is low.
//
// Argmax: the result word is registered (stage r), reduced lane by lane in a
// registered binary tree of TREE_LEVELS = ceil(log2(LANES)) levels (within a
// word lower lanes win ties: they have the lower index; every node also keeps
// the second largest value of its lanes), its index computed (stage x), then
// merged into the running (value, index, second value) best: independent of
// the word order, ties to the lowest index. A word carried by res_valid in
// cycle t is in the running best from cycle t + TREE_LEVELS + 3 on; the class
// beat is sent once res_eos_valid is high, res_valid low and stages r .. x
// are empty.
//
// The potential beats read a memory of WORDS words written with every step's
// result words (at res_addr) until the image exits, so it holds step E's.
//
// Parameters
//   LANES           potentials per result word (>= 1)
//   CHANNELS        output channels (>= 1)
//   POSITIONS       output positions per channel, height * width (>= 1;
//                   1 for a dense layer)
//   POTENTIAL_BITS  bits of a potential (>= 1)
//   DATA_WIDTH      bits of m_data (>= POTENTIAL_BITS and >= INDEX_BITS)
//   STEP_W          bits of cfg_min_steps and of the step counter (>= 1; holds the
//                   largest number of steps of an image)
// Derived (localparams; a field for n values is max(1, ceil(log2(n))) bits):
//   CHANNEL_GROUPS = ceil(CHANNELS / LANES), CLASSES = CHANNELS * POSITIONS,
//   WORDS = CHANNEL_GROUPS * POSITIONS (result words per step),
//   GROUP_BITS (CHANNEL_GROUPS), ADDR_BITS (WORDS), POS_BITS (POSITIONS),
//   LANE_BITS (LANES), INDEX_BITS (CLASSES), MARGIN_BITS = POTENTIAL_BITS + 1.
//   The ports are declared after
//   these localparams (a Verilog-2005 non-ANSI port list).
//
// Latency: m_valid of a step's class beat rises TREE_LEVELS + 4 cycles after
// the cycle of the step's last res_valid if res_eos_valid is high by cycle
// TREE_LEVELS + 3; res_eos_ready pulses in the cycle after the step's last
// beat is taken (a dropped step after an exit: two cycles after its end of
// step is seen). exit_req rises in the cycle after the exit step's class beat
// is taken. Beats follow the AXI4-Stream rule: once m_valid is high,
// m_data, m_user and m_last hold until m_ready.
//
// Interfaces
//   clock and reset : clk, rst (synchronous, active high)
//   results         : res_valid, res_last, res_group[GROUP_BITS], res_addr[ADDR_BITS],
//                     res_pos[POS_BITS], res_potentials[LANES * POTENTIAL_BITS]
//   end of step     : res_eos_valid, res_eos_last, res_eos_ready
//   output stream   : m_valid, m_ready, m_data[DATA_WIDTH], m_user, m_last
//   early exit      : cfg_margin[MARGIN_BITS], cfg_min_steps[STEP_W], cfg_pop, exit_req
// ============================================================================
`default_nettype none
module snn_output_stream #(
    parameter integer LANES          = 1,
    parameter integer CHANNELS       = 10,
    parameter integer POSITIONS      = 1,
    parameter integer POTENTIAL_BITS = 16,
    parameter integer DATA_WIDTH     = 16,
    parameter integer STEP_W         = 4
) (
    clk, rst,
    res_valid, res_last, res_group, res_addr, res_pos, res_potentials,
    res_eos_valid, res_eos_last, res_eos_ready,
    m_valid, m_ready, m_data, m_user, m_last,
    cfg_margin, cfg_min_steps, cfg_pop, exit_req
);
    // LANES and POTENTIAL_BITS as used below; a refused value (< 1, see the checks) becomes 1 so
    // that the module still elaborates and the check can report it
    localparam integer P              = (LANES >= 1) ? LANES : 1;
    localparam integer MB             = (POTENTIAL_BITS >= 1) ? POTENTIAL_BITS : 1;
    localparam integer CHANNEL_GROUPS = (CHANNELS + P - 1) / P;
    localparam integer CLASSES        = CHANNELS * POSITIONS;
    localparam integer WORDS          = CHANNEL_GROUPS * POSITIONS;
    localparam integer LAST_LANES     = CHANNELS - (CHANNEL_GROUPS - 1) * P;   // lanes of the last group
    localparam integer GROUP_BITS     = (CHANNEL_GROUPS > 1) ? $clog2(CHANNEL_GROUPS) : 1;
    localparam integer ADDR_BITS      = (WORDS > 1) ? $clog2(WORDS) : 1;
    localparam integer POS_BITS       = (POSITIONS > 1) ? $clog2(POSITIONS) : 1;
    localparam integer LANE_BITS      = (P > 1) ? $clog2(P) : 1;
    localparam integer INDEX_BITS     = (CLASSES > 1) ? $clog2(CLASSES) : 1;
    localparam integer CHAN_BITS      = GROUP_BITS + LANE_BITS + 1;   // g * LANES + p without overflow
    localparam integer TREE_LEVELS    = (P > 1) ? $clog2(P) : 0;
    localparam integer MARGIN_BITS    = MB + 1;
    localparam integer SW             = (STEP_W >= 1) ? STEP_W : 1;
    // the last group, lane and position, and channel, as integers and as sized constants
    localparam integer GROUP_LAST_I   = CHANNEL_GROUPS - 1;
    localparam integer LANE_MAX_I     = P - 1;
    localparam integer POS_MAX_I      = POSITIONS - 1;
    localparam integer CHAN_MAX_I     = CHANNELS - 1;

    // clock and reset
    input  wire                        clk;
    input  wire                        rst;
    // results: one word of LANES potentials per (channel group, position) and step
    input  wire                        res_valid;
    input  wire                        res_last;
    input  wire [GROUP_BITS-1:0]       res_group;
    input  wire [ADDR_BITS-1:0]        res_addr;
    input  wire [POS_BITS-1:0]         res_pos;
    input  wire [P*MB-1:0]             res_potentials;
    // end of step
    input  wire                        res_eos_valid;
    input  wire                        res_eos_last;
    output wire                        res_eos_ready;
    // output stream (AXI4-Stream master): classes, then potentials
    output wire                        m_valid;
    input  wire                        m_ready;
    output wire [DATA_WIDTH-1:0]       m_data;
    output wire                        m_user;
    output wire                        m_last;
    // early exit: the current image's rule (head of the descriptor queue), and the exit
    input  wire [MARGIN_BITS-1:0]      cfg_margin;
    input  wire [SW-1:0]               cfg_min_steps;
    output wire                        cfg_pop;
    output wire                        exit_req;

`ifndef SYNTHESIS
    initial begin
        if (LANES < 1) begin
            $error("snn_output_stream: LANES (%0d) must be >= 1", LANES);
            $fatal(1, "snn_output_stream: bad parameters");
        end
        if (CHANNELS < 1) begin
            $error("snn_output_stream: CHANNELS (%0d) must be >= 1", CHANNELS);
            $fatal(1, "snn_output_stream: bad parameters");
        end
        if (POSITIONS < 1) begin
            $error("snn_output_stream: POSITIONS (%0d) must be >= 1", POSITIONS);
            $fatal(1, "snn_output_stream: bad parameters");
        end
        if (POTENTIAL_BITS < 1) begin
            $error("snn_output_stream: POTENTIAL_BITS (%0d) must be >= 1", POTENTIAL_BITS);
            $fatal(1, "snn_output_stream: bad parameters");
        end
        if (DATA_WIDTH < POTENTIAL_BITS) begin
            $error("snn_output_stream: DATA_WIDTH (%0d) must be >= POTENTIAL_BITS (%0d)", DATA_WIDTH, POTENTIAL_BITS);
            $fatal(1, "snn_output_stream: bad parameters");
        end
        if (DATA_WIDTH < INDEX_BITS) begin
            $error("snn_output_stream: DATA_WIDTH (%0d) must be >= INDEX_BITS (%0d) for %0d classes",
                   DATA_WIDTH, INDEX_BITS, CLASSES);
            $fatal(1, "snn_output_stream: bad parameters");
        end
        if (STEP_W < 1) begin
            $error("snn_output_stream: STEP_W (%0d) must be >= 1", STEP_W);
            $fatal(1, "snn_output_stream: bad parameters");
        end
    end
`endif

    // nodes of tree level `level` (level 0: the LANES lanes) and the first node of
    // that level in the node vectors (levels are stored one after the other)
    function integer level_nodes(input integer lanes, input integer level);
        level_nodes = (lanes + (1 << level) - 1) >> level;
    endfunction
    function integer level_first(input integer lanes, input integer level);
        integer i;
        begin
            level_first = 0;
            for (i = 0; i < level; i = i + 1)
                level_first = level_first + ((lanes + (1 << i) - 1) >> i);
        end
    endfunction
    localparam integer NODES = level_first(P, TREE_LEVELS + 1);   // the root is node NODES - 1

    localparam [GROUP_BITS-1:0] GROUP_LAST = GROUP_LAST_I[GROUP_BITS-1:0];
    // "no second value": the most negative potential (every real one is >= it)
    localparam [MB-1:0] POT_NONE = {MB{1'b1}} << (MB - 1);

    // ------------------------------------------------------------------
    // stage r: the result word, registered
    // ------------------------------------------------------------------
    reg                  r_valid, r_last;
    reg [GROUP_BITS-1:0] r_group;
    reg [ADDR_BITS-1:0]  r_addr;
    reg [POS_BITS-1:0]   r_pos;
    reg [P*MB-1:0]       r_pot;
    always @(posedge clk) begin
        if (rst) r_valid <= 1'b0;
        else     r_valid <= res_valid;
        r_last  <= res_last;
        r_group <= res_group;
        r_addr  <= res_addr;
        r_pos   <= res_pos;
        r_pot   <= res_potentials;
    end

    // index of the word's lane 0: r_group * LANES * POSITIONS + r_pos (modulo 2**INDEX_BITS)
    wire [INDEX_BITS-1:0] r_group_index, r_pos_index, r_base;
    snn_const_mul #(.IN_WIDTH(GROUP_BITS), .OUT_WIDTH(INDEX_BITS), .K(P * POSITIONS)) u_group_index (
        .x(r_group), .y(r_group_index));
    snn_const_mul #(.IN_WIDTH(POS_BITS), .OUT_WIDTH(INDEX_BITS), .K(1)) u_pos_index (
        .x(r_pos), .y(r_pos_index));
    assign r_base = r_group_index + r_pos_index;

    // ------------------------------------------------------------------
    // argmax tree: node_* hold every node of every level; level 0 = the lanes
    // (node_have: the node's lane is a channel < CHANNELS; node_pot: its
    // potential; node_lane: its lane; node_pot2: the second largest potential
    // of its lanes, POT_NONE for one lane). Level l is registered from level l-1.
    // ------------------------------------------------------------------
    wire [NODES-1:0]                      node_have;
    wire [NODES*MB-1:0]                   node_pot;
    wire [NODES*MB-1:0]                   node_pot2;
    wire [NODES*LANE_BITS-1:0]            node_lane;
    wire [TREE_LEVELS:0]                  level_valid;   // a word is in this level
    wire [(TREE_LEVELS+1)*INDEX_BITS-1:0] level_base;    // its lane 0 index

    assign level_valid[0]              = r_valid;
    assign level_base[0 +: INDEX_BITS] = r_base;
    genvar lane, level, node;
    generate
        for (lane = 0; lane < P; lane = lane + 1) begin : g_leaf
            localparam [LANE_BITS-1:0]  LANE_ID    = lane;
            assign node_have[lane] = (lane < LAST_LANES) || (r_group != GROUP_LAST);
            assign node_pot[lane*MB +: MB] = r_pot[lane*MB +: MB];
            assign node_pot2[lane*MB +: MB] = POT_NONE;
            assign node_lane[lane*LANE_BITS +: LANE_BITS] = LANE_ID;
        end
        for (level = 1; level <= TREE_LEVELS; level = level + 1) begin : g_level
            localparam integer IN_NODES  = level_nodes(P, level - 1);
            localparam integer IN_FIRST  = level_first(P, level - 1);
            localparam integer OUT_NODES = level_nodes(P, level);
            localparam integer OUT_FIRST = level_first(P, level);
            reg                  valid_q;
            reg [INDEX_BITS-1:0] base_q;
            always @(posedge clk) begin
                if (rst) valid_q <= 1'b0;
                else     valid_q <= level_valid[level-1];
                base_q <= level_base[(level-1)*INDEX_BITS +: INDEX_BITS];
            end
            assign level_valid[level]                       = valid_q;
            assign level_base[level*INDEX_BITS +: INDEX_BITS] = base_q;
            for (node = 0; node < OUT_NODES; node = node + 1) begin : g_node
                localparam integer A = IN_FIRST + 2 * node;   // left child (lower lanes)
                localparam integer B = A + 1;                  // right child, if any
                localparam integer O = OUT_FIRST + node;
                reg                 have_q;
                reg [MB-1:0]        pot_q, pot2_q;
                reg [LANE_BITS-1:0] lane_q;
                if (2 * node + 1 < IN_NODES) begin : g_pair
                    // the right child wins only if it is strictly greater (ties: lower lane)
                    wire take_right = node_have[B] &&
                                      (!node_have[A] || $signed(node_pot[B*MB +: MB]) > $signed(node_pot[A*MB +: MB]));
                    // second value: the loser, or the winner's own second if larger (both side by side
                    // with take_right, then one multiplexer)
                    wire signed [MB-1:0] a_pot  = node_pot[A*MB +: MB];
                    wire signed [MB-1:0] b_pot  = node_pot[B*MB +: MB];
                    wire signed [MB-1:0] a_pot2 = node_pot2[A*MB +: MB];
                    wire signed [MB-1:0] b_pot2 = node_pot2[B*MB +: MB];
                    wire [MB-1:0] right_second = (b_pot2 > a_pot) ? b_pot2 : a_pot;   // B wins
                    wire [MB-1:0] left_second  = (a_pot2 > b_pot) ? a_pot2 : b_pot;   // A wins
                    wire both = node_have[A] && node_have[B];
                    always @(posedge clk) begin
                        have_q <= node_have[A] || node_have[B];
                        pot_q  <= take_right ? node_pot[B*MB +: MB] : node_pot[A*MB +: MB];
                        pot2_q <= !both ? (take_right ? b_pot2 : a_pot2) : (take_right ? right_second : left_second);
                        lane_q <= take_right ? node_lane[B*LANE_BITS +: LANE_BITS] : node_lane[A*LANE_BITS +: LANE_BITS];
                    end
                end else begin : g_single
                    always @(posedge clk) begin
                        have_q <= node_have[A];
                        pot_q  <= node_pot[A*MB +: MB];
                        pot2_q <= node_pot2[A*MB +: MB];
                        lane_q <= node_lane[A*LANE_BITS +: LANE_BITS];
                    end
                end
                assign node_have[O]                         = have_q;
                assign node_pot[O*MB +: MB]                 = pot_q;
                assign node_pot2[O*MB +: MB]                = pot2_q;
                assign node_lane[O*LANE_BITS +: LANE_BITS] = lane_q;
            end
        end
    endgenerate

    // ------------------------------------------------------------------
    // stage x: the word's best lane with its index
    // ------------------------------------------------------------------
    wire [INDEX_BITS-1:0] root_lane_offset;   // root lane * POSITIONS
    wire [INDEX_BITS-1:0] root_index;
    snn_const_mul #(.IN_WIDTH(LANE_BITS), .OUT_WIDTH(INDEX_BITS), .K(POSITIONS)) u_lane_offset (
        .x(node_lane[(NODES-1)*LANE_BITS +: LANE_BITS]), .y(root_lane_offset));
    assign root_index = level_base[TREE_LEVELS*INDEX_BITS +: INDEX_BITS] + root_lane_offset;

    reg                  x_valid, x_have;
    reg signed [MB-1:0]  x_val, x_val2;
    reg [INDEX_BITS-1:0] x_idx;
    always @(posedge clk) begin
        if (rst) x_valid <= 1'b0;
        else     x_valid <= level_valid[TREE_LEVELS];
        x_have <= node_have[NODES-1];
        x_val  <= node_pot[(NODES-1)*MB +: MB];
        x_val2 <= node_pot2[(NODES-1)*MB +: MB];
        x_idx  <= root_index;
    end
    wire pipe_busy = (|level_valid) || x_valid;   // a word still in stages r .. x

    reg                  best_have;
    reg signed [MB-1:0]  best_val, best_val2;   // the largest potential and the second largest
    reg [INDEX_BITS-1:0] best_idx;
    wire                 x_take = x_valid && x_have &&
                                  (!best_have || x_val > best_val || (x_val == best_val && x_idx < best_idx));
    // the second largest after merging the word: as in the tree, both candidates side by side
    wire signed [MB-1:0] take_second = (x_val2 > best_val) ? x_val2 : best_val;   // the word wins
    wire signed [MB-1:0] keep_second = (x_val > best_val2) ? x_val : best_val2;   // the best stays

    // ------------------------------------------------------------------
    // early exit: the margin of the step (registered when the step ends), the rule
    // ------------------------------------------------------------------
    reg                         exited;      // the image has exited: its later steps are dropped
    reg [SW-1:0]                img_step;    // 0-based step of the image at the output
    reg signed [MARGIN_BITS-1:0] diff_q;     // largest minus second largest (minus 0 for one class)
    reg [MARGIN_BITS-1:0]       margin_q;
    reg                         min_ok_q;    // img_step + 1 >= cfg_min_steps
    wire signed [MARGIN_BITS-1:0] best_ext  = {best_val[MB-1], best_val};
    wire signed [MARGIN_BITS-1:0] best2_ext = (CLASSES == 1) ? {MARGIN_BITS{1'b0}} : {best_val2[MB-1], best_val2};
    wire [SW:0]                 steps_done = {1'b0, img_step} + {{SW{1'b0}}, 1'b1};
    wire                        exit_hit = (margin_q != {MARGIN_BITS{1'b0}}) && min_ok_q && !diff_q[MARGIN_BITS-1] &&
                                           ({1'b0, diff_q[MARGIN_BITS-2:0]} >= margin_q);

    // ------------------------------------------------------------------
    // final potentials of the image (written during the last step's sweep)
    // ------------------------------------------------------------------
    reg [P*MB-1:0] pot_mem [0:WORDS-1];
    always @(posedge clk) begin
        if (r_valid && !exited) pot_mem[r_addr] <= r_pot;
    end
    wire unused_r_last = &{1'b0, r_last, 1'b0};

    localparam [1:0] O_COLLECT = 2'd0, O_CLASS = 2'd1, O_POT = 2'd2, O_DONE = 2'd3;
    reg [1:0]            ostate;
    reg                  img_last;
    // streaming order: channel c = group * LANES + lane (outer), position (inner)
    reg [GROUP_BITS-1:0] snd_og;
    reg [LANE_BITS-1:0]  snd_lane;
    reg [POS_BITS-1:0]   snd_pos;
    localparam [GROUP_BITS-1:0] GROUP_ZERO = 0, GROUP_ONE = 1;
    localparam [LANE_BITS-1:0]  LANE_ZERO  = 0, LANE_ONE  = 1, LANE_MAX = LANE_MAX_I[LANE_BITS-1:0];
    localparam [POS_BITS-1:0]   POS_ZERO   = 0, POS_ONE   = 1, POS_MAX  = POS_MAX_I[POS_BITS-1:0];
    localparam [CHAN_BITS-1:0]  CHAN_MAX   = CHAN_MAX_I[CHAN_BITS-1:0];

    wire [ADDR_BITS-1:0] snd_group_addr, snd_pos_addr, snd_addr;   // snd_og * POSITIONS + snd_pos
    wire [CHAN_BITS-1:0] snd_group_chan, snd_lane_chan, snd_chan;  // snd_og * LANES + snd_lane
    snn_const_mul #(.IN_WIDTH(GROUP_BITS), .OUT_WIDTH(ADDR_BITS), .K(POSITIONS)) u_snd_group_addr (
        .x(snd_og), .y(snd_group_addr));
    snn_const_mul #(.IN_WIDTH(POS_BITS), .OUT_WIDTH(ADDR_BITS), .K(1)) u_snd_pos_addr (
        .x(snd_pos), .y(snd_pos_addr));
    snn_const_mul #(.IN_WIDTH(GROUP_BITS), .OUT_WIDTH(CHAN_BITS), .K(P)) u_snd_group_chan (
        .x(snd_og), .y(snd_group_chan));
    snn_const_mul #(.IN_WIDTH(LANE_BITS), .OUT_WIDTH(CHAN_BITS), .K(1)) u_snd_lane_chan (
        .x(snd_lane), .y(snd_lane_chan));
    assign snd_addr = snd_group_addr + snd_pos_addr;
    assign snd_chan = snd_group_chan + snd_lane_chan;
    wire               snd_end  = (snd_chan == CHAN_MAX) && (snd_pos == POS_MAX);
    wire [P*MB-1:0] snd_word = pot_mem[snd_addr];
    wire [MB-1:0]       snd_val  = snd_word[snd_lane * MB +: MB];

    // beat data: the potential sign-extended, the class zero-extended
    wire [DATA_WIDTH-1:0] pot_data, class_data;
    generate
        if (DATA_WIDTH > MB) begin : g_pot_extend
            assign pot_data = {{(DATA_WIDTH - MB){snd_val[MB-1]}}, snd_val};
        end else begin : g_pot_same
            assign pot_data = snd_val;
        end
        if (DATA_WIDTH > INDEX_BITS) begin : g_class_extend
            assign class_data = {{(DATA_WIDTH - INDEX_BITS){1'b0}}, best_idx};
        end else begin : g_class_same
            assign class_data = best_idx;
        end
    endgenerate

    assign res_eos_ready = (ostate == O_DONE);
    assign cfg_pop       = (ostate == O_DONE) && img_last;
    assign exit_req      = exited;
    assign m_valid = (ostate == O_CLASS) || (ostate == O_POT);
    assign m_user  = (ostate == O_POT);
    assign m_last  = (ostate == O_POT) && snd_end;
    assign m_data  = (ostate == O_POT) ? pot_data : class_data;

    always @(posedge clk) begin
        if (rst) begin
            ostate    <= O_COLLECT;
            best_have <= 1'b0;
            img_last  <= 1'b0;
            exited    <= 1'b0;
            img_step  <= {SW{1'b0}};
            snd_og    <= GROUP_ZERO;
            snd_lane  <= LANE_ZERO;
            snd_pos   <= POS_ZERO;
        end else begin
            case (ostate)
                O_COLLECT: begin
                    if (x_valid && x_have) best_have <= 1'b1;
                    if (x_take) begin
                        best_val <= x_val;
                        best_idx <= x_idx;
                    end
                    if (x_valid && x_have)
                        best_val2 <= !best_have ? x_val2 : x_take ? take_second : keep_second;
                    if (res_eos_valid && !res_valid && !pipe_busy) begin
                        img_last <= res_eos_last;
                        diff_q   <= best_ext - best2_ext;
                        margin_q <= cfg_margin;
                        min_ok_q <= steps_done >= {1'b0, cfg_min_steps};
                        // after the exit no class beat: the last step sends the kept potentials
                        ostate   <= !exited ? O_CLASS : res_eos_last ? O_POT : O_DONE;
                    end
                end
                O_CLASS: begin
                    if (m_ready) begin
                        if (exit_hit) exited <= 1'b1;
                        ostate <= img_last ? O_POT : O_DONE;
                    end
                end
                O_POT: begin
                    if (m_ready) begin
                        if (snd_end) begin
                            snd_og   <= GROUP_ZERO;
                            snd_lane <= LANE_ZERO;
                            snd_pos  <= POS_ZERO;
                            ostate   <= O_DONE;
                        end else if (snd_pos != POS_MAX) begin
                            snd_pos <= snd_pos + POS_ONE;
                        end else begin
                            snd_pos <= POS_ZERO;
                            if (snd_lane != LANE_MAX) begin
                                snd_lane <= snd_lane + LANE_ONE;
                            end else begin
                                snd_lane <= LANE_ZERO;
                                snd_og   <= snd_og + GROUP_ONE;
                            end
                        end
                    end
                end
                default: begin   // O_DONE: the output layer sees res_eos_ready this cycle
                    best_have <= 1'b0;
                    ostate    <= O_COLLECT;
                    if (img_last) begin   // the image ends (cfg_pop): the next starts at step 0
                        exited   <= 1'b0;
                        img_step <= {SW{1'b0}};
                    end else begin
                        img_step <= img_step + 1'b1;
                    end
                end
            endcase
        end
    end
endmodule
`default_nettype wire
