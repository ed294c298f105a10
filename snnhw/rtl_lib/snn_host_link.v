// ============================================================================
// snn_host_link -- the board's host protocol engine (snnhw RTL library, Verilog-2005)
//
// The hardware side of the framed protocol of snnhw/board/protocol.py (version
// 2): it sits between a UART (bytes in, bytes out) and the accelerator snn_top
// (pixel stream in, result stream out). Every frame, both directions:
//   SYNC 0xA5 | TYPE | LENGTH (u16 LE) | PAYLOAD | CRC-8/SMBUS over TYPE..PAYLOAD
//
// Receiving. In HUNT every byte but SYNC is ignored. After SYNC: TYPE (INFO
// 0x01, CONFIG 0x02 and IMAGE 0x03 are known, anything else is refused at
// once), LENGTH (checked against the type when its second byte arrives: INFO
// 0, CONFIG 8, IMAGE PIXELS), the payload (IMAGE: straight into the image
// buffer; CONFIG: into a holding register), then the CRC. Nothing of a frame
// takes effect before its CRC is found good: the pixels of a rejected IMAGE
// stay in the buffer and are never sent.
//
// Executing a good frame:
//   INFO    reply INFO_REPLY: version 2, beat_bytes, PIXELS, CLASSES, T_MAX,
//           the current timesteps, DESIGN_ID, CLOCK_HZ, the current exit
//           margin and exit min steps (24 bytes).
//   CONFIG  payload timesteps u16, exit_margin u32, exit_min_steps u16.
//           timesteps := 0 -> 1, above T_MAX -> T_MAX; exit margin := above
//           2**EXIT_W - 1 -> 2**EXIT_W - 1 (a margin the accelerator never
//           meets, as any above its potentials' range); exit min steps := 0 ->
//           1, above 2**STEP_W - 1 -> 2**STEP_W - 1. Reply CONFIG_REPLY with
//           the three values now in force. cfg_timesteps, cfg_exit_margin and
//           cfg_exit_min_steps always carry them (they change only here, never
//           during an image).
//   IMAGE   the buffered pixels go to m_axis at one per cycle while
//           m_axis_tready is high (tlast on the last); every beat of the
//           result stream is stored in the result buffer (s_axis_tready is
//           always high: the accelerator is never stalled), the tuser = 0
//           beats are counted as `steps`, and `cycles` counts the clock cycles
//           from the one in which the first pixel is accepted to the one in
//           which the result's tlast beat is accepted, both included (a pixel
//           and the last beat taken in consecutive cycles count 2). Once every
//           pixel is accepted and the tlast beat is in, reply RESULT: steps
//           u16, cycles u32 (saturating), every stored beat as beat_bytes
//           bytes little-endian. At most T_MAX + CLASSES beats are stored (a
//           correct accelerator sends timesteps + CLASSES); later beats before
//           tlast are taken and dropped, and `steps` counts stored beats only,
//           so RESULT always describes what it carries.
//
// Errors (ERROR {code, type}; type is the frame's TYPE byte, 0 if none was
// read): unknown TYPE (ERR_TYPE 2), LENGTH not that of the TYPE (ERR_LENGTH
// 3), bad CRC (ERR_CRC 1), and a frame whose next byte does not come within
// IDLE_CYCLES idle cycles (ERR_TIMEOUT 4). The frame is dropped, then every
// received byte is discarded until the line has been idle (rx_active low, no
// rx_valid) for IDLE_CYCLES consecutive cycles -- the rest of a bad frame may
// hold SYNC bytes that must not start a frame -- then ERROR is sent and the
// link hunts again. A timeout has already waited that long: its ERROR follows
// at once. frame_error is high from the error's detection until the next good
// frame (the cycle after its CRC byte).
//
// Bytes that arrive while an IMAGE executes or a reply is sent (busy high) are
// discarded; the link hunts for SYNC again after the reply's last byte.
//
// Buffers: the image buffer (PIXELS x 8 bits) and the result buffer (T_MAX +
// CLASSES x BEAT_BITS) are snn_ram instances with BLOCK = 1 (one block RAM
// each on ECP5 for the MNIST shape); both are read with one cycle of latency.
// The pixel stream is the image buffer's read register itself (snn_ram holds
// it while re is low), so a stalled pixel stays put without a skid register.
//
// Parameters
//   PIXELS             pixels per image, the IMAGE payload length (1..65535)
//   PIXEL_AW           image buffer address bits (1..16, 2**PIXEL_AW >= PIXELS)
//   BEAT_BITS          width of the accelerator's result beats (8, 16, 24 or 32;
//                      beat_bytes = BEAT_BITS / 8)
//   CLASSES            potential beats per image (>= 1)
//   T_MAX              the accelerator's maximum time steps (>= 1, < 2**STEP_W)
//   STEP_W             width of cfg_timesteps (1..16: timesteps travel as u16)
//   RESULT_AW          result buffer address bits (1..16,
//                      2**RESULT_AW >= T_MAX + CLASSES)
//   IDLE_CYCLES        idle timeout in clock cycles (>= 16; longer than the
//                      host's gaps between the characters of a frame)
//   DEFAULT_TIMESTEPS  timesteps after reset (1..T_MAX)
//   EXIT_W             width of cfg_exit_margin (1..32)
//   DEFAULT_EXIT_MARGIN     exit margin after reset (0 = no early exit;
//                           < 2**EXIT_W)
//   DEFAULT_EXIT_MIN_STEPS  exit min steps after reset (1..2**STEP_W - 1)
//   DESIGN_ID          reported by INFO_REPLY
//   CLOCK_HZ           reported by INFO_REPLY
// The RESULT payload for T_MAX steps, 6 + (T_MAX + CLASSES) * beat_bytes
// bytes, must fit LENGTH (<= 65535). The address widths max(1, ceil(log2(n)))
// are lint-clean; wider ones work, but Verilator flags snn_ram's unused bits.
//
// Latency: a good frame executes in the cycle after its CRC byte's rx_valid;
// the first pixel is offered two cycles later; a reply's first byte is offered
// three cycles after the event that starts it (good CRC, result tlast, line
// idle), and each further byte three cycles after the previous one is taken
// (the UART needs ~10 bit times per byte, so the gap costs nothing).
//
// Interfaces
//   clock and reset  : clk, rst (synchronous, active high; back to HUNT,
//                      timesteps and the exit rule := their defaults)
//   UART receiver    : rx_valid (one-cycle pulse per byte, no back-pressure),
//                      rx_data, rx_active (high while a character is on the line)
//   UART transmitter : tx_valid, tx_data, tx_ready (a byte is taken when
//                      tx_valid and tx_ready; tx_data holds while tx_valid)
//   pixels out       : m_axis_tdata, m_axis_tvalid, m_axis_tready, m_axis_tlast
//                      (AXI4-Stream master to snn_top's s_axis), cfg_timesteps,
//                      cfg_exit_margin, cfg_exit_min_steps
//   results in       : s_axis_tdata, s_axis_tvalid, s_axis_tready, s_axis_tlast,
//                      s_axis_tuser (AXI4-Stream slave from snn_top's m_axis)
//   status           : busy (executing an IMAGE or sending a reply),
//                      frame_error, last_class (low byte of the latest class beat)
// ============================================================================
`default_nettype none
module snn_host_link #(
    parameter integer PIXELS            = 784,
    parameter integer PIXEL_AW          = 10,
    parameter integer BEAT_BITS         = 16,
    parameter integer CLASSES           = 10,
    parameter integer T_MAX             = 300,
    parameter integer STEP_W            = 9,
    parameter integer RESULT_AW         = 9,
    parameter integer IDLE_CYCLES       = 1000,
    parameter integer DEFAULT_TIMESTEPS = 16,
    parameter integer EXIT_W            = 17,
    parameter integer DEFAULT_EXIT_MARGIN    = 0,
    parameter integer DEFAULT_EXIT_MIN_STEPS = 1,
    parameter [31:0]  DESIGN_ID         = 32'h0,
    parameter [31:0]  CLOCK_HZ          = 32'd0
) (
    // clock and reset
    input  wire                 clk,
    input  wire                 rst,
    // UART receiver: bytes from the host
    input  wire                 rx_valid,
    input  wire [7:0]           rx_data,
    input  wire                 rx_active,
    // UART transmitter: bytes to the host
    output wire                 tx_valid,
    output wire [7:0]           tx_data,
    input  wire                 tx_ready,
    // pixels to the accelerator (snn_top s_axis)
    output wire [7:0]           m_axis_tdata,
    output wire                 m_axis_tvalid,
    input  wire                 m_axis_tready,
    output wire                 m_axis_tlast,
    output wire [STEP_W-1:0]    cfg_timesteps,
    output wire [EXIT_W-1:0]    cfg_exit_margin,
    output wire [STEP_W-1:0]    cfg_exit_min_steps,
    // results from the accelerator (snn_top m_axis)
    input  wire [BEAT_BITS-1:0] s_axis_tdata,
    input  wire                 s_axis_tvalid,
    output wire                 s_axis_tready,
    input  wire                 s_axis_tlast,
    input  wire                 s_axis_tuser,
    // status (LEDs)
    output wire                 busy,
    output wire                 frame_error,
    output wire [7:0]           last_class
);
    localparam integer BEAT_BYTES = BEAT_BITS / 8;
    localparam integer RES_WORDS  = T_MAX + CLASSES;                      // beats the result buffer holds
    localparam integer RESULT_MAX = 6 + RES_WORDS * BEAT_BYTES;           // longest RESULT payload
    localparam integer IDLE_W     = $clog2(IDLE_CYCLES + 1);
    // buffer depths as given to snn_ram; a refused geometry becomes 1 word so that the module still
    // elaborates and its own check (below) reports it rather than snn_ram's
    localparam integer IMG_DEPTH  = (PIXELS >= 1 && PIXEL_AW >= 1 && PIXEL_AW <= 16 && PIXELS <= (1 << PIXEL_AW))
                                    ? PIXELS : 1;
    localparam integer RES_DEPTH  = (RES_WORDS >= 1 && RESULT_AW >= 1 && RESULT_AW <= 16 &&
                                     RES_WORDS <= (1 << RESULT_AW)) ? RES_WORDS : 1;

    // protocol constants (protocol.py)
    localparam [7:0]  SYNC         = 8'hA5;
    localparam [7:0]  VERSION      = 8'd2;
    localparam [7:0]  T_INFO       = 8'h01;
    localparam [7:0]  T_CONFIG     = 8'h02;
    localparam [7:0]  T_IMAGE      = 8'h03;
    localparam [7:0]  T_INFO_REPLY = 8'h81;
    localparam [7:0]  T_CONFIG_REP = 8'h82;
    localparam [7:0]  T_RESULT     = 8'h83;
    localparam [7:0]  T_ERROR      = 8'hEE;
    localparam [7:0]  ERR_CRC      = 8'd1;
    localparam [7:0]  ERR_TYPE     = 8'd2;
    localparam [7:0]  ERR_LENGTH   = 8'd3;
    localparam [7:0]  ERR_TIMEOUT  = 8'd4;
    localparam [15:0] LEN_INFO     = 16'd0;
    localparam [15:0] LEN_CONFIG   = 16'd8;
    localparam [15:0] LEN_IMAGE    = PIXELS[15:0];
    localparam [15:0] LEN_INFO_REP = 16'd24;
    localparam [15:0] LEN_CFG_REP  = 16'd8;
    localparam [15:0] LEN_ERROR    = 16'd2;
    localparam [15:0] LEN_RES_HEAD = 16'd6;                                // steps u16, cycles u32
    localparam [15:0] BEAT_BYTES16 = BEAT_BYTES[15:0];
    localparam integer SMALL_BYTES = 24;                                   // longest register-built payload
    // sized forms of the geometry
    localparam [15:0]         PIXELS16   = PIXELS[15:0];
    localparam [15:0]         CLASSES16  = CLASSES[15:0];
    localparam [15:0]         T_MAX16    = T_MAX[15:0];
    localparam [7:0]          BEATB8     = BEAT_BYTES[7:0];
    localparam integer        PIX_LAST_I = PIXELS - 1;
    localparam integer        LANE_LAST_I = BEAT_BYTES - 1;
    localparam [PIXEL_AW-1:0] PIX_LAST   = PIX_LAST_I[PIXEL_AW-1:0];
    localparam [RESULT_AW:0]  RES_FULL   = RES_WORDS[RESULT_AW:0];
    localparam [IDLE_W-1:0]   IDLE_FULL  = IDLE_CYCLES[IDLE_W-1:0];
    localparam [STEP_W-1:0]   TS_DEFAULT = DEFAULT_TIMESTEPS[STEP_W-1:0];
    localparam [STEP_W-1:0]   TS_ONE     = 1;
    localparam [STEP_W-1:0]   TS_MAX     = T_MAX[STEP_W-1:0];
    // the exit rule: defaults and the largest values the ports carry (EW: EXIT_W, or 1 when refused, so
    // that the module still elaborates and its own check reports it)
    localparam integer        EW         = (EXIT_W >= 1 && EXIT_W <= 32) ? EXIT_W : 1;
    localparam [32:0]         EXIT_MAX33 = (33'd1 << EW) - 33'd1;
    localparam [16:0]         MINS_MAX17 = (17'd1 << STEP_W) - 17'd1;
    localparam [EW-1:0]       EX_DEFAULT = DEFAULT_EXIT_MARGIN[EW-1:0];
    localparam [STEP_W-1:0]   MS_DEFAULT = DEFAULT_EXIT_MIN_STEPS[STEP_W-1:0];
    localparam [1:0]          LANE_LAST  = LANE_LAST_I[1:0];

`ifndef SYNTHESIS
    initial begin
        if (PIXELS < 1 || PIXELS > 65535) begin
            $error("snn_host_link: PIXELS (%0d) must be between 1 and 65535 (the IMAGE LENGTH is a u16)", PIXELS);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (PIXEL_AW < 1 || PIXEL_AW > 16 || PIXELS > (1 << PIXEL_AW)) begin
            $error("snn_host_link: PIXEL_AW (%0d) must be between 1 and 16 with 2**PIXEL_AW >= PIXELS (%0d)",
                   PIXEL_AW, PIXELS);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (BEAT_BITS < 8 || BEAT_BITS > 32 || BEAT_BITS % 8 != 0) begin
            $error("snn_host_link: BEAT_BITS (%0d) must be 8, 16, 24 or 32", BEAT_BITS);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (CLASSES < 1) begin
            $error("snn_host_link: CLASSES (%0d) must be >= 1", CLASSES);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (STEP_W < 1 || STEP_W > 16 || T_MAX < 1 || T_MAX >= (1 << STEP_W)) begin
            $error("snn_host_link: T_MAX (%0d) must be >= 1 and below 2**STEP_W, STEP_W (%0d) between 1 and 16",
                   T_MAX, STEP_W);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (RESULT_AW < 1 || RESULT_AW > 16 || RES_WORDS > (1 << RESULT_AW)) begin
            $error("snn_host_link: RESULT_AW (%0d) must be between 1 and 16 with 2**RESULT_AW >= T_MAX + CLASSES (%0d)",
                   RESULT_AW, RES_WORDS);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (RESULT_MAX > 65535) begin
            $error("snn_host_link: the RESULT payload for T_MAX, 6 + (T_MAX + CLASSES) * beat_bytes = %0d bytes, exceeds 65535",
                   RESULT_MAX);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (IDLE_CYCLES < 16) begin
            $error("snn_host_link: IDLE_CYCLES (%0d) must be >= 16", IDLE_CYCLES);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (DEFAULT_TIMESTEPS < 1 || DEFAULT_TIMESTEPS > T_MAX) begin
            $error("snn_host_link: DEFAULT_TIMESTEPS (%0d) must be between 1 and T_MAX (%0d)", DEFAULT_TIMESTEPS, T_MAX);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (EXIT_W < 1 || EXIT_W > 32) begin
            $error("snn_host_link: EXIT_W (%0d) must be between 1 and 32", EXIT_W);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (DEFAULT_EXIT_MARGIN < 0 || (EXIT_W < 32 && DEFAULT_EXIT_MARGIN >= (1 << EXIT_W))) begin
            $error("snn_host_link: DEFAULT_EXIT_MARGIN (%0d) must be between 0 and 2**EXIT_W - 1 (EXIT_W %0d)",
                   DEFAULT_EXIT_MARGIN, EXIT_W);
            $fatal(1, "snn_host_link: bad parameters");
        end
        if (DEFAULT_EXIT_MIN_STEPS < 1 || DEFAULT_EXIT_MIN_STEPS >= (1 << STEP_W)) begin
            $error("snn_host_link: DEFAULT_EXIT_MIN_STEPS (%0d) must be between 1 and 2**STEP_W - 1 (STEP_W %0d)",
                   DEFAULT_EXIT_MIN_STEPS, STEP_W);
            $fatal(1, "snn_host_link: bad parameters");
        end
    end
`endif

    // CRC-8/SMBUS of one more byte: polynomial 0x07, MSB first. Eight shift steps of combinational logic,
    // at most one byte per cycle (UART bytes come tens of cycles apart).
    function [7:0] crc8_byte(input [7:0] crc, input [7:0] data);
        integer i;
        reg [7:0] c;
        begin
            c = crc ^ data;
            for (i = 0; i < 8; i = i + 1)
                c = c[7] ? ({c[6:0], 1'b0} ^ 8'h07) : {c[6:0], 1'b0};
            crc8_byte = c;
        end
    endfunction

    // ------------------------------------------------------------------
    // line idle counter: consecutive cycles without a character on the line
    // ------------------------------------------------------------------
    reg  [IDLE_W-1:0] idle_cnt;
    wire              line_idle = (idle_cnt == IDLE_FULL);
    always @(posedge clk) begin
        if (rst || rx_valid || rx_active) idle_cnt <= {IDLE_W{1'b0}};
        else if (!line_idle)              idle_cnt <= idle_cnt + 1'b1;
    end

    // ------------------------------------------------------------------
    // control state machine
    // ------------------------------------------------------------------
    localparam [3:0] ST_HUNT    = 4'd0,   // waiting for SYNC
                     ST_TYPE    = 4'd1,
                     ST_LEN0    = 4'd2,
                     ST_LEN1    = 4'd3,
                     ST_PAYLOAD = 4'd4,
                     ST_CRC     = 4'd5,
                     ST_DRAIN   = 4'd6,   // a frame was refused: wait for an idle line, then ERROR
                     ST_EXEC    = 4'd7,   // an IMAGE in the accelerator
                     ST_REPLY   = 4'd8;   // sending a reply frame
    reg [3:0]        state;

    reg [7:0]        rx_type;     // TYPE of the frame being received (0 before it arrives)
    reg [7:0]        len_lo;
    reg [15:0]       rx_idx;      // payload byte index
    reg [7:0]        rx_crc;      // CRC of TYPE .. the bytes so far
    reg [63:0]       cfg_val;     // a CONFIG payload (byte 0 lowest), in force only once its CRC is good
    reg [7:0]        err_code, err_type;
    reg              frame_err;
    reg [STEP_W-1:0] timesteps;
    reg [EW-1:0]     exit_margin;
    reg [STEP_W-1:0] exit_min_steps;

    wire in_frame = (state == ST_TYPE) || (state == ST_LEN0) || (state == ST_LEN1) ||
                    (state == ST_PAYLOAD) || (state == ST_CRC);
    wire [7:0]  crc_next   = crc8_byte(rx_crc, rx_data);
    wire        type_known = (rx_data == T_INFO) || (rx_data == T_CONFIG) || (rx_data == T_IMAGE);
    wire [15:0] rx_len     = {rx_data, len_lo};
    reg  [15:0] exp_len;      // the LENGTH rx_type must have
    always @(*) begin
        case (rx_type)
            T_INFO:   exp_len = LEN_INFO;
            T_CONFIG: exp_len = LEN_CONFIG;
            default:  exp_len = LEN_IMAGE;
        endcase
    end

    // events of the cycle
    wire type_bad  = (state == ST_TYPE) && rx_valid && !type_known;
    wire len_bad   = (state == ST_LEN1) && rx_valid && (rx_len != exp_len);
    wire crc_good  = (state == ST_CRC) && rx_valid && (rx_data == rx_crc);
    wire crc_bad   = (state == ST_CRC) && rx_valid && (rx_data != rx_crc);
    wire timed_out = in_frame && !rx_valid && line_idle;
    wire exec_go   = crc_good && (rx_type == T_IMAGE);
    wire info_go   = crc_good && (rx_type == T_INFO);
    wire config_go = crc_good && (rx_type == T_CONFIG);
    wire exec_done;           // the image's pixels all accepted and the result's tlast beat in
    wire error_go  = (state == ST_DRAIN) && line_idle;
    wire reply_done;          // the reply's CRC byte is taken

    // CONFIG: timesteps 0 counts as 1, above T_MAX clamped; the exit margin and min steps saturate at what
    // the ports carry (min steps 0 counts as 1)
    wire [15:0]       cfg_ts      = cfg_val[15:0];
    wire [31:0]       cfg_margin  = cfg_val[47:16];
    wire [15:0]       cfg_mins    = cfg_val[63:48];
    wire [STEP_W-1:0] cfg_clamped = (cfg_ts == 16'd0) ? TS_ONE : (cfg_ts > T_MAX16) ? TS_MAX : cfg_ts[STEP_W-1:0];
    wire [EW-1:0]     cfg_margin_sat = ({1'b0, cfg_margin} > EXIT_MAX33) ? EXIT_MAX33[EW-1:0] : cfg_margin[EW-1:0];
    wire [STEP_W-1:0] cfg_mins_sat = (cfg_mins == 16'd0) ? TS_ONE
                                   : ({1'b0, cfg_mins} > MINS_MAX17) ? MINS_MAX17[STEP_W-1:0] : cfg_mins[STEP_W-1:0];

    always @(posedge clk) begin
        if (rst) begin
            state     <= ST_HUNT;
            rx_type   <= 8'd0;
            rx_crc    <= 8'd0;
            err_code  <= 8'd0;
            err_type  <= 8'd0;
            frame_err <= 1'b0;
            timesteps <= TS_DEFAULT;
            exit_margin    <= EX_DEFAULT;
            exit_min_steps <= MS_DEFAULT;
        end else begin
            case (state)
                ST_HUNT: begin
                    if (rx_valid && rx_data == SYNC) begin
                        state   <= ST_TYPE;
                        rx_type <= 8'd0;
                        rx_crc  <= 8'd0;
                    end
                end
                ST_TYPE: begin
                    if (rx_valid) begin
                        rx_type <= rx_data;
                        rx_crc  <= crc_next;
                        state   <= ST_LEN0;
                    end
                end
                ST_LEN0: begin
                    if (rx_valid) begin
                        len_lo <= rx_data;
                        rx_crc <= crc_next;
                        state  <= ST_LEN1;
                    end
                end
                ST_LEN1: begin
                    if (rx_valid) begin
                        rx_crc <= crc_next;
                        rx_idx <= 16'd0;
                        state  <= (rx_len == 16'd0) ? ST_CRC : ST_PAYLOAD;
                    end
                end
                ST_PAYLOAD: begin
                    if (rx_valid) begin
                        rx_crc <= crc_next;
                        rx_idx <= rx_idx + 1'b1;
                        if (rx_type == T_CONFIG) cfg_val <= {rx_data, cfg_val[63:8]};   // 8 bytes: byte 0 ends lowest
                        if (rx_idx == exp_len - 1'b1) state <= ST_CRC;
                    end
                end
                ST_CRC: begin
                    if (crc_good) begin
                        frame_err <= 1'b0;
                        state     <= (rx_type == T_IMAGE) ? ST_EXEC : ST_REPLY;
                        if (rx_type == T_CONFIG) begin
                            timesteps      <= cfg_clamped;
                            exit_margin    <= cfg_margin_sat;
                            exit_min_steps <= cfg_mins_sat;
                        end
                    end
                end
                ST_DRAIN: begin
                    if (error_go) state <= ST_REPLY;
                end
                ST_EXEC: begin
                    if (exec_done) state <= ST_REPLY;
                end
                ST_REPLY: begin
                    if (reply_done) state <= ST_HUNT;
                end
                default: state <= ST_HUNT;
            endcase
            // a refused frame (overrides the transitions above): drain the line, then ERROR
            if (type_bad || len_bad || crc_bad || timed_out) begin
                state     <= ST_DRAIN;
                frame_err <= 1'b1;
                err_type  <= type_bad ? rx_data : rx_type;
                err_code  <= type_bad ? ERR_TYPE : len_bad ? ERR_LENGTH : crc_bad ? ERR_CRC : ERR_TIMEOUT;
            end
        end
    end

    // ------------------------------------------------------------------
    // image buffer: written by the IMAGE payload, read out to m_axis
    // ------------------------------------------------------------------
    wire                img_we = (state == ST_PAYLOAD) && rx_valid && (rx_type == T_IMAGE);
    reg  [PIXEL_AW-1:0] feed_addr;    // next pixel to read
    reg                 feed_more;    // pixels left to read
    reg                 feed_valid;   // the read register holds a pixel not yet accepted
    reg                 feed_last;
    wire                feed_re = (state == ST_EXEC) && feed_more && (!feed_valid || m_axis_tready);
    wire [7:0]          img_rdata;

    snn_ram #(.WIDTH(8), .DEPTH(IMG_DEPTH), .AW(PIXEL_AW), .OUTREG(0), .BLOCK(1)) u_image (
        .clk(clk),
        .we(img_we), .we_all(1'b0), .waddr(rx_idx[PIXEL_AW-1:0]), .wdata(rx_data),
        .re(feed_re), .raddr(feed_addr), .rdata(img_rdata));

    assign m_axis_tdata  = img_rdata;
    assign m_axis_tvalid = feed_valid;
    assign m_axis_tlast  = feed_last;
    assign cfg_timesteps = timesteps;
    assign cfg_exit_margin    = exit_margin;
    assign cfg_exit_min_steps = exit_min_steps;

    wire pix_take = feed_valid && m_axis_tready;
    reg  pix_first;   // the next pixel accepted is the image's first
    reg  pix_done;    // the last pixel was accepted
    always @(posedge clk) begin
        if (rst) begin
            feed_more  <= 1'b0;
            feed_valid <= 1'b0;
            feed_last  <= 1'b0;
            pix_first  <= 1'b0;
            pix_done   <= 1'b0;
        end else if (exec_go) begin
            feed_addr  <= {PIXEL_AW{1'b0}};
            feed_more  <= 1'b1;
            feed_valid <= 1'b0;
            feed_last  <= 1'b0;
            pix_first  <= 1'b1;
            pix_done   <= 1'b0;
        end else begin
            if (feed_re) begin
                feed_addr  <= feed_addr + 1'b1;
                feed_valid <= 1'b1;
                feed_last  <= (feed_addr == PIX_LAST);
                if (feed_addr == PIX_LAST) feed_more <= 1'b0;
            end else if (m_axis_tready) begin
                feed_valid <= 1'b0;
            end
            if (pix_take) pix_first <= 1'b0;
            if (pix_take && feed_last) pix_done <= 1'b1;
        end
    end

    // ------------------------------------------------------------------
    // result capture: every beat while the image executes, never stalled
    // ------------------------------------------------------------------
    reg                  res_done;    // the tlast beat is in
    reg  [RESULT_AW:0]   res_cnt;     // beats stored
    reg  [15:0]          res_len;     // RESULT payload length: 6 + res_cnt * beat_bytes
    reg  [15:0]          steps;       // class beats (tuser = 0) stored
    reg  [31:0]          cycles;
    reg                  cyc_run;     // counting: the first pixel is in, the tlast beat not yet
    reg  [7:0]           class_r;
    wire                 res_take  = (state == ST_EXEC) && !res_done && s_axis_tvalid;
    wire                 res_store = res_take && (res_cnt != RES_FULL);
    wire                 res_end   = res_take && s_axis_tlast;
    wire [31:0]          cycles_inc = cycles + {31'd0, ~&cycles};   // saturating
    wire [BEAT_BITS-1:0] res_rdata;
    reg  [RESULT_AW-1:0] tx_beat;     // result beat being sent

    assign s_axis_tready = 1'b1;
    assign exec_done     = (state == ST_EXEC) && pix_done && res_done;

    snn_ram #(.WIDTH(BEAT_BITS), .DEPTH(RES_DEPTH), .AW(RESULT_AW), .OUTREG(0), .BLOCK(1)) u_result (
        .clk(clk),
        .we(res_store), .we_all(1'b0), .waddr(res_cnt[RESULT_AW-1:0]), .wdata(s_axis_tdata),
        .re(state == ST_REPLY), .raddr(tx_beat), .rdata(res_rdata));

    always @(posedge clk) begin
        if (rst) begin
            res_done <= 1'b0;
            cyc_run  <= 1'b0;
            class_r  <= 8'd0;
        end else if (exec_go) begin
            res_done <= 1'b0;
            res_cnt  <= {(RESULT_AW + 1){1'b0}};
            res_len  <= LEN_RES_HEAD;
            steps    <= 16'd0;
            cycles   <= 32'd0;
            cyc_run  <= 1'b0;
        end else begin
            if (res_store) begin
                res_cnt <= res_cnt + 1'b1;
                res_len <= res_len + BEAT_BYTES16;
                if (!s_axis_tuser) begin
                    steps   <= steps + 1'b1;
                    class_r <= s_axis_tdata[7:0];
                end
            end
            if (res_end) res_done <= 1'b1;
            // cycles: 1 in the first pixel's cycle, + 1 in every later cycle up to the tlast beat's
            if (pix_take && pix_first) begin
                cycles  <= 32'd1;
                cyc_run <= !res_end;
            end else if (cyc_run) begin
                cycles  <= cycles_inc;
                if (res_end) cyc_run <= 1'b0;
            end
        end
    end

    // ------------------------------------------------------------------
    // reply sender: SYNC, TYPE, LENGTH, payload, CRC, one byte at a time
    // (FETCH: the result buffer reads tx_beat; LOAD: the byte is built and
    // registered; SEND: tx_valid until tx_ready)
    // ------------------------------------------------------------------
    localparam [1:0] K_INFO = 2'd0, K_CONFIG = 2'd1, K_RESULT = 2'd2, K_ERROR = 2'd3;   // reply kinds
    localparam [1:0] TX_FETCH = 2'd0, TX_LOAD = 2'd1, TX_SEND = 2'd2;
    localparam [2:0] F_SYNC = 3'd0, F_TYPE = 3'd1, F_LEN0 = 3'd2, F_LEN1 = 3'd3, F_PAY = 3'd4, F_CRC = 3'd5;
    reg  [1:0]  rep_kind;
    reg  [15:0] rep_len;
    reg  [1:0]  tx_phase;
    reg  [2:0]  tx_field;
    reg  [15:0] tx_left;     // payload bytes still to send
    reg  [4:0]  tx_pidx;     // payload byte index, saturating at 31 (only < 24 addresses the reg_payload payloads)
    reg  [1:0]  tx_lane;     // byte of the result beat
    reg  [7:0]  tx_crc;
    reg         tx_valid_r;
    reg  [7:0]  tx_data_r;
    wire        tx_take  = tx_valid_r && tx_ready;
    wire        rep_go   = info_go || config_go || exec_done || error_go;
    wire        from_ram = (rep_kind == K_RESULT) && (tx_pidx >= 5'd6);   // result beats after steps, cycles

    assign reply_done = (state == ST_REPLY) && tx_take && (tx_field == F_CRC);
    assign tx_valid   = tx_valid_r;
    assign tx_data    = tx_data_r;

    reg [15:0] ts16, ms16;
    reg [31:0] em32;
    always @(*) begin
        ts16 = 16'd0;
        ts16[STEP_W-1:0] = timesteps;
        ms16 = 16'd0;
        ms16[STEP_W-1:0] = exit_min_steps;
        em32 = 32'd0;
        em32[EW-1:0] = exit_margin;
    end

    // the payloads built from registers, byte 0 lowest
    reg [8*SMALL_BYTES-1:0] reg_payload;
    reg [7:0]               rep_type;
    always @(*) begin
        case (rep_kind)
            K_INFO: begin
                rep_type = T_INFO_REPLY;
                reg_payload    = {ms16, em32, CLOCK_HZ, DESIGN_ID, ts16, T_MAX16, CLASSES16, PIXELS16, BEATB8, VERSION};
            end
            K_CONFIG: begin
                rep_type = T_CONFIG_REP;
                reg_payload    = {128'd0, ms16, em32, ts16};
            end
            K_RESULT: begin
                rep_type = T_RESULT;
                reg_payload    = {144'd0, cycles, steps};
            end
            default: begin
                rep_type = T_ERROR;
                reg_payload    = {176'd0, err_type, err_code};
            end
        endcase
    end

    reg [7:0] reg_byte, ram_byte, next_byte;
    integer k;
    always @(*) begin
        reg_byte = 8'd0;
        for (k = 0; k < SMALL_BYTES; k = k + 1)
            if (tx_pidx == k[4:0]) reg_byte = reg_payload[k*8 +: 8];
        ram_byte = 8'd0;
        for (k = 0; k < BEAT_BYTES; k = k + 1)
            if (tx_lane == k[1:0]) ram_byte = res_rdata[k*8 +: 8];
        case (tx_field)
            F_SYNC:  next_byte = SYNC;
            F_TYPE:  next_byte = rep_type;
            F_LEN0:  next_byte = rep_len[7:0];
            F_LEN1:  next_byte = rep_len[15:8];
            F_PAY:   next_byte = from_ram ? ram_byte : reg_byte;
            default: next_byte = tx_crc;
        endcase
    end

    always @(posedge clk) begin
        if (rst) begin
            tx_valid_r <= 1'b0;
            tx_phase   <= TX_FETCH;
        end else if (rep_go) begin
            rep_kind <= info_go ? K_INFO : config_go ? K_CONFIG : exec_done ? K_RESULT : K_ERROR;
            rep_len  <= info_go ? LEN_INFO_REP : config_go ? LEN_CFG_REP : exec_done ? res_len : LEN_ERROR;
            tx_phase <= TX_FETCH;
            tx_field <= F_SYNC;
            tx_pidx  <= 5'd0;
            tx_lane  <= 2'd0;
            tx_beat  <= {RESULT_AW{1'b0}};
            tx_crc   <= 8'd0;
        end else if (state == ST_REPLY) begin
            case (tx_phase)
                TX_FETCH: tx_phase <= TX_LOAD;
                TX_LOAD: begin
                    tx_data_r  <= next_byte;
                    tx_valid_r <= 1'b1;
                    tx_phase   <= TX_SEND;
                end
                default: begin
                    if (tx_take) begin
                        tx_valid_r <= 1'b0;
                        tx_phase   <= TX_FETCH;
                        if (tx_field != F_SYNC && tx_field != F_CRC) tx_crc <= crc8_byte(tx_crc, tx_data_r);
                        case (tx_field)
                            F_SYNC: tx_field <= F_TYPE;
                            F_TYPE: tx_field <= F_LEN0;
                            F_LEN0: tx_field <= F_LEN1;
                            F_LEN1: begin
                                tx_left  <= rep_len;
                                tx_field <= (rep_len == 16'd0) ? F_CRC : F_PAY;
                            end
                            F_PAY: begin
                                tx_left <= tx_left - 1'b1;
                                if (tx_pidx != 5'd31) tx_pidx <= tx_pidx + 1'b1;
                                if (from_ram) begin
                                    tx_lane <= (tx_lane == LANE_LAST) ? 2'd0 : tx_lane + 1'b1;
                                    if (tx_lane == LANE_LAST) tx_beat <= tx_beat + 1'b1;
                                end
                                if (tx_left == 16'd1) tx_field <= F_CRC;
                            end
                            default: tx_field <= F_SYNC;   // F_CRC: the frame is out (reply_done)
                        endcase
                    end
                end
            endcase
        end
    end

    assign busy        = (state == ST_EXEC) || (state == ST_REPLY);
    assign frame_error = frame_err;
    assign last_class  = class_r;
endmodule
`default_nettype wire
