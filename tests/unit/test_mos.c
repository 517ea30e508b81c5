/* test_mos.c - mOS's monitor sockets (mtcp/monitor.c over core/monitor.c,
 * docs/mtcp.md "Monitor sockets") through the installed headers. The
 * monitor runs inline between two DPDK net_pcap ports: port 0 reads
 * crafted frames from a pcap file (a flow's handshake, data both ways,
 * close), port 1 reads an empty one; what each port sends is written to a
 * pcap file the test reads back. Checked: the callbacks each event raises
 * and their sides, mtcp_peek/mtcp_ppeek bytes, SOL_MONSOCKET options,
 * mtcp_getpeername by side, mtcp_getlastpkt fields, mtcp_setlastpkt drop
 * and overwrite in the forwarded frames, SYN and raw filters (libpcap),
 * mtcp_app_join ending on a signal, and every error of every call.
 * Compiled in the mOS dialect. */
#include <mos_api.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/monitor.h>

#include "harness.h"

TestSuite(mos, .init = t_default_timeout);
TestSuite(mos_errors, .init = t_default_timeout);

#define FAILS(call, e)                                                                                 \
    do {                                                                                               \
        errno = 0;                                                                                     \
        long r_ = (long)(call);                                                                        \
        int e_ = errno;                                                                                \
        cr_assert_eq(r_, -1L, "%s returned %ld, not -1", #call, r_);                                   \
        cr_assert_eq(e_, (e), "%s: errno %d (%s), expected %s", #call, e_, strerror(e_), #e);          \
    } while (0)

#define CLI_IP 0x0a010001u /* 10.1.0.1 */
#define SVR_IP 0x0a020001u /* 10.2.0.1 */
#define SVR_PORT 80
#define CISN 1000u
#define SISN 5000u
#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static char in_path[64], empty_path[64], out0_path[64], out1_path[64];
static pcap_dumper_t *g_dump;
static pcap_t *g_dead;

/* ---- frames ---- */

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

/* An Ethernet/IPv4/TCP frame with valid checksums into f; its length. */
static size_t frame(uint8_t *f, bool from_cli, uint16_t cport, uint32_t seq, uint32_t ack, uint8_t flags,
                    const void *data, size_t len)
{
    uint8_t *ip = f + 14, *th = ip + 20;
    uint32_t src = from_cli ? CLI_IP : SVR_IP, dst = from_cli ? SVR_IP : CLI_IP;
    uint8_t pseudo[12];

    memset(f, 0, 14 + 20 + 20);
    memcpy(f, from_cli ? "\x02\0\0\0\0\x02" : "\x02\0\0\0\0\x01", 6);
    memcpy(f + 6, from_cli ? "\x02\0\0\0\0\x01" : "\x02\0\0\0\0\x02", 6);
    put16(f + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (uint32_t)(20 + 20 + len));
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum_fold(sum16(ip, 20, 0)));
    put16(th, from_cli ? cport : SVR_PORT);
    put16(th + 2, from_cli ? SVR_PORT : cport);
    put32(th + 4, seq);
    put32(th + 8, ack);
    th[12] = 5 << 4;
    th[13] = flags;
    put16(th + 14, 65535);
    if (len > 0)
        memcpy(th + 20, data, len);
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 6;
    put16(pseudo + 10, (uint32_t)(20 + len));
    put16(th + 16, csum_fold(sum16(th, 20 + len, sum16(pseudo, 12, 0))));
    return 14 + 20 + 20 + len;
}

/* A frame (checksums zeroed) for sluice_mon_cksum; its length. */
static size_t frame_len_for_cksum(uint8_t *f)
{
    size_t n = frame(f, true, 40000, 1, 2, F_ACK, NULL, 0);
    f[14 + 10] = f[14 + 11] = 0;
    f[34 + 16] = f[34 + 17] = 0;
    return n;
}

static void emit(bool from_cli, uint16_t cport, uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t len)
{
    uint8_t f[1600];
    struct pcap_pkthdr h = { .ts = { 1, 0 } };

    h.caplen = h.len = (bpf_u_int32)frame(f, from_cli, cport, seq, ack, flags, data, len);
    pcap_dump((u_char *)g_dump, &h, f);
}

static const char REQ[] = "GET / HTTP/1.0\r\n\r\n";                  /* 18 bytes, client to server */
static const char RSP[] = "HTTP/1.0 200 OK\r\n\r\nhello, monitor"; /* 33 bytes, server to client */

/* A whole flow from client port cport: handshake, request, response, the
 * client closes first. */
static void emit_flow(uint16_t cport)
{
    uint32_t c = CISN, s = SISN;
    size_t q = strlen(REQ), r = strlen(RSP);

    emit(true, cport, c, 0, F_SYN, NULL, 0);
    emit(false, cport, s, c + 1, F_SYN | F_ACK, NULL, 0);
    emit(true, cport, c + 1, s + 1, F_ACK, NULL, 0);
    emit(true, cport, c + 1, s + 1, F_ACK | F_PSH, REQ, q);
    emit(false, cport, s + 1, c + 1 + (uint32_t)q, F_ACK | F_PSH, RSP, r);
    emit(true, cport, c + 1 + (uint32_t)q, s + 1 + (uint32_t)r, F_ACK | F_FIN, NULL, 0);
    emit(false, cport, s + 1 + (uint32_t)r, c + 2 + (uint32_t)q, F_ACK | F_FIN, NULL, 0);
    emit(true, cport, c + 2 + (uint32_t)q, s + 2 + (uint32_t)r, F_ACK, NULL, 0);
}

#define FRAMES_PER_FLOW 8

static void open_input(void)
{
    pid_t pid = getpid();

    snprintf(in_path, sizeof(in_path), "/tmp/sluice-mos-%d-in.pcap", (int)pid);
    snprintf(empty_path, sizeof(empty_path), "/tmp/sluice-mos-%d-empty.pcap", (int)pid);
    snprintf(out0_path, sizeof(out0_path), "/tmp/sluice-mos-%d-out0.pcap", (int)pid);
    snprintf(out1_path, sizeof(out1_path), "/tmp/sluice-mos-%d-out1.pcap", (int)pid);
    g_dead = pcap_open_dead(DLT_EN10MB, 65535);
    cr_assert_not_null(g_dead);
    pcap_dumper_t *e = pcap_dump_open(g_dead, empty_path);
    cr_assert_not_null(e);
    pcap_dump_close(e);
    g_dump = pcap_dump_open(g_dead, in_path);
    cr_assert_not_null(g_dump);
}

/* Closes the input and points the monitor's config at the files. */
static void inline_config(void)
{
    char a[256], b[256];

    pcap_dump_close(g_dump);
    pcap_close(g_dead);
    snprintf(a, sizeof(a), "net_pcap0,rx_pcap=%s,tx_pcap=%s", in_path, out0_path);
    snprintf(b, sizeof(b), "net_pcap1,rx_pcap=%s,tx_pcap=%s", empty_path, out1_path);
    setenv("SLUICE_MON_MODE", "inline", 1);
    setenv("SLUICE_MON_PORT0", a, 1);
    setenv("SLUICE_MON_PORT1", b, 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
}

static void cleanup_files(void)
{
    unlink(in_path);
    unlink(empty_path);
    unlink(out0_path);
    unlink(out1_path);
}

/* Frames in a pcap file; the payload's last byte of the frame with data
 * (if any) into *last. */
static int count_frames(const char *path, int *with_data, uint8_t *last)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;

    cr_assert_not_null(p, "%s: %s", path, err);
    *with_data = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        if (h->caplen > 54) {
            (*with_data)++;
            *last = d[h->caplen - 1];
        }
    }
    pcap_close(p);
    return n;
}

/* ---- the program under test ---- */

struct seen {
    int sock;                  /* the flow's socket */
    int n_start, n_end, n_data[2], n_state[2][2], n_pkt[2][2];
    char got[2][128];
    size_t got_len[2];
    int last_state[2];
    struct sockaddr_in peers[2];
    struct pkt_info last_data_pkt;
    uint32_t last_offset;
    int raw_pkts, raw_orphans;
    int drop_server_data, rewrite_request;
};

static struct seen g;
static mctx_t g_m;
static volatile int g_sig;

static void on_sig(int s)
{
    (void)s;
    g_sig++;
}

static void cb_start(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    socklen_t len = sizeof(g.peers);

    (void)arg;
    cr_assert_eq(ev, MOS_ON_CONN_START);
    cr_assert_eq(side, MOS_SIDE_CLI, "HK_SND: the SYN's sender");
    g.n_start++;
    g.sock = sock;
    cr_assert_eq(mtcp_getpeername(m, sock, (struct sockaddr *)g.peers, &len, MOS_SIDE_BOTH), 0);
    cr_assert_eq(len, sizeof(g.peers));
    mtcp_set_uctx(m, sock, &g);
}

static void cb_data(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    char buf[128];
    ssize_t n;

    (void)arg;
    cr_assert_eq(ev, MOS_ON_CONN_NEW_DATA);
    cr_assert_eq(mtcp_get_uctx(m, sock), &g);
    g.n_data[side]++;
    n = mtcp_peek(m, sock, side, buf, sizeof(buf));
    cr_assert_gt(n, 0, "peek: %zd %s", n, strerror(errno));
    memcpy(g.got[side] + g.got_len[side], buf, (size_t)n);
    g.got_len[side] += (size_t)n;
    cr_assert_eq(mtcp_getlastpkt(m, sock, side, &g.last_data_pkt), 0);
    g.last_offset = (uint32_t)g.last_data_pkt.offset;
    if (g.drop_server_data && side == MOS_SIDE_CLI) /* the response, on its way to the client */
        cr_assert_eq(mtcp_setlastpkt(m, sock, side, 0, NULL, 0, MOS_DROP), 0);
    if (g.rewrite_request && side == MOS_SIDE_SVR) {
        byte x = 'X';
        cr_assert_eq(mtcp_setlastpkt(m, sock, side, (off_t)(strlen(REQ) - 1), &x, 1,
                                     MOS_OVERWRITE | MOS_TCP_PAYLOAD | MOS_UPDATE_TCP_CHKSUM), 0);
    }
}

static void cb_state(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    int st = -1;
    socklen_t len = sizeof(st);

    (void)arg;
    cr_assert_eq(ev, MOS_ON_TCP_STATE_CHANGE);
    cr_assert_eq(mtcp_getsockopt(m, sock, SOL_MONSOCKET, side == MOS_SIDE_CLI ? MOS_TCP_STATE_CLI : MOS_TCP_STATE_SVR,
                                 &st, &len), 0);
    g.last_state[side] = st;
}

static void cb_state_snd(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    g.n_state[0][side]++;
    cb_state(m, sock, side, ev, arg);
}

static void cb_state_rcv(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    g.n_state[1][side]++;
    cb_state(m, sock, side, ev, arg);
}

static void cb_pkt_snd(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)ev, (void)arg;
    g.n_pkt[0][side]++;
}

static void cb_pkt_rcv(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)ev, (void)arg;
    g.n_pkt[1][side]++;
}

static void cb_end(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct tcp_buf_info bi;
    socklen_t len = sizeof(bi);

    (void)side, (void)arg, (void)ev;
    g.n_end++;
    cr_assert_eq(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_INFO_SVRBUF, &bi, &len), 0);
    cr_assert_eq(bi.tcpbi_init_seq, CISN + 1);
    cr_assert_eq(bi.tcpbi_next_byte_expected, CISN + 1 + strlen(REQ), "one past the last data byte (a FIN is no byte)");
    if (g.n_end == 1)
        raise(SIGUSR1); /* mtcp_app_join returns */
}

static void cb_raw(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)arg;
    cr_assert_eq(side, MOS_NULL);
    g.raw_pkts += (ev == MOS_ON_PKT_IN);
    g.raw_orphans += (ev == MOS_ON_ORPHAN);
}

/* mtcp_init, a context, a stream monitor with every callback. */
static int monitor_up(const char *syn_filter)
{
    union monitor_filter ft = { 0 };
    int s;

    inline_config();
    cr_assert_eq(mtcp_init(NULL), 0);
    g_m = mtcp_create_context(0);
    cr_assert_not_null(g_m);
    mtcp_register_signal(SIGUSR1, on_sig);
    s = mtcp_socket(g_m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0);
    cr_assert_geq(s, 0, "mtcp_socket: %s", strerror(errno));
    ft.stream_syn_filter = (char *)syn_filter;
    cr_assert_eq(mtcp_bind_monitor_filter(g_m, s, &ft), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_CONN_START, MOS_HK_SND, cb_start), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_CONN_NEW_DATA, MOS_HK_RCV, cb_data), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_TCP_STATE_CHANGE, MOS_HK_SND, cb_state_snd), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_TCP_STATE_CHANGE, MOS_HK_RCV, cb_state_rcv), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_PKT_IN, MOS_HK_SND, cb_pkt_snd), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_PKT_IN, MOS_HK_RCV, cb_pkt_rcv), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_CONN_END, MOS_HK_SND, cb_end), 0);
    return s;
}

/* The monitor inline between the pcap ports (inline_config), a context
 * in g_m, SIGUSR1 ending mtcp_app_join: a new monitor stream socket. */
static int inline_monitor(void)
{
    inline_config();
    cr_assert_eq(mtcp_init(NULL), 0);
    g_m = mtcp_create_context(0);
    mtcp_register_signal(SIGUSR1, on_sig);
    int mon = mtcp_socket(g_m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0);
    cr_assert_geq(mon, 0);
    return mon;
}

/* Runs the monitor until the first CONN_END's signal, then stops it (the
 * output files are complete once the ports close). */
static void run_and_stop(void)
{
    cr_assert_eq(mtcp_app_join(g_m), 0);
    cr_assert_eq(g_sig, 1);
    cr_assert_eq(mtcp_destroy(), 0);
}

Test(mos, a_flow_raises_its_events_with_sides_bytes_and_states, .timeout = 30)
{
    open_input();
    emit_flow(40000);
    monitor_up(NULL);
    run_and_stop();

    cr_assert_eq(g.n_start, 1);
    cr_assert_eq(g.n_end, 1);
    cr_assert_eq(g.got_len[MOS_SIDE_SVR], strlen(REQ), "the server's stream: the request");
    cr_assert_arr_eq(g.got[MOS_SIDE_SVR], REQ, strlen(REQ));
    cr_assert_eq(g.got_len[MOS_SIDE_CLI], strlen(RSP));
    cr_assert_arr_eq(g.got[MOS_SIDE_CLI], RSP, strlen(RSP));
    cr_assert_eq(g.n_data[MOS_SIDE_CLI], 1);
    cr_assert_eq(g.n_data[MOS_SIDE_SVR], 1);
    /* the last data frame is the response: 33 bytes at offset 0 */
    cr_assert_eq(g.last_data_pkt.payloadlen, strlen(RSP));
    cr_assert_eq(g.last_data_pkt.seq, SISN + 1);
    cr_assert_eq(g.last_data_pkt.ack_seq, CISN + 1 + strlen(REQ));
    cr_assert_eq(g.last_offset, 0);
    cr_assert_eq(g.last_data_pkt.ip_len, 20 + 20 + strlen(RSP));
    /* each frame: once at HK_SND (side = sender), once at HK_RCV (receiver) */
    cr_assert_eq(g.n_pkt[0][MOS_SIDE_CLI] + g.n_pkt[0][MOS_SIDE_SVR], FRAMES_PER_FLOW);
    cr_assert_eq(g.n_pkt[0][MOS_SIDE_CLI], 5, "the client sent 5 frames");
    cr_assert_eq(g.n_pkt[1][MOS_SIDE_SVR], 5, "... which the server received");
    /* states: both end closed or in TIME_WAIT */
    cr_assert_eq(g.last_state[MOS_SIDE_CLI], TCP_TIME_WAIT);
    cr_assert_eq(g.last_state[MOS_SIDE_SVR], TCP_CLOSED);
    cr_assert_gt(g.n_state[0][MOS_SIDE_CLI], 0);
    cr_assert_gt(g.n_state[1][MOS_SIDE_SVR], 0);
    /* addresses by side */
    cr_assert_eq(ntohl(g.peers[MOS_SIDE_CLI].sin_addr.s_addr), CLI_IP);
    cr_assert_eq(ntohs(g.peers[MOS_SIDE_CLI].sin_port), 40000);
    cr_assert_eq(ntohl(g.peers[MOS_SIDE_SVR].sin_addr.s_addr), SVR_IP);
    cr_assert_eq(ntohs(g.peers[MOS_SIDE_SVR].sin_port), SVR_PORT);
    /* inline: every frame went out of the other port */
    int data;
    uint8_t last;
    cr_assert_eq(count_frames(out1_path, &data, &last), FRAMES_PER_FLOW);
    cr_assert_eq(data, 2);
    cleanup_files();
}

Test(mos, setlastpkt_drops_and_rewrites_forwarded_frames, .timeout = 30)
{
    open_input();
    emit_flow(40000);
    g.drop_server_data = 1;
    g.rewrite_request = 1;
    monitor_up(NULL);
    run_and_stop();

    int data;
    uint8_t last = 0;
    cr_assert_eq(count_frames(out1_path, &data, &last), FRAMES_PER_FLOW - 1, "the response was dropped");
    cr_assert_eq(data, 1);
    cr_assert_eq(last, 'X', "the request's last byte was rewritten");
    /* the tracker took the bytes as they came */
    cr_assert_arr_eq(g.got[MOS_SIDE_SVR], REQ, strlen(REQ));
    cleanup_files();
}

Test(mos, a_syn_filter_picks_the_flows_a_monitor_sees, .timeout = 30)
{
    open_input();
    emit_flow(40000);
    emit_flow(40001);
    monitor_up("tcp port 40001");
    run_and_stop();

    cr_assert_eq(g.n_start, 1, "only the second flow");
    cr_assert_eq(ntohs(g.peers[MOS_SIDE_CLI].sin_port), 40001);
    int data;
    uint8_t last;
    cr_assert_eq(count_frames(out1_path, &data, &last), 2 * FRAMES_PER_FLOW, "a filter does not drop");
    cleanup_files();
}

Test(mos, a_raw_monitor_sees_every_frame_its_filter_matches, .timeout = 30)
{
    union monitor_filter ft = { .raw_pkt_filter = "tcp[tcpflags] & tcp-syn != 0" };

    open_input();
    emit_flow(40000);
    emit(true, 40002, 77, 88, F_ACK, "o", 1); /* an orphan */
    int s = monitor_up(NULL);
    int r = mtcp_socket(g_m, AF_INET, MOS_SOCK_MONITOR_RAW, 0);
    cr_assert_geq(r, 0);
    cr_assert_eq(mtcp_bind_monitor_filter(g_m, r, &ft), 0);
    cr_assert_eq(mtcp_register_callback(g_m, r, MOS_ON_PKT_IN | MOS_ON_ORPHAN, MOS_NULL, cb_raw), 0);
    run_and_stop();
    cr_assert_eq(g.raw_pkts, 2, "the SYN and the SYN/ACK");
    cr_assert_eq(g.raw_orphans, 0);
    (void)s;
    cleanup_files();
}

Test(mos, buffers_set_on_the_monitor_apply_to_new_flows, .timeout = 30)
{
    int zero = 0, got = 0;
    socklen_t len = sizeof(got);

    open_input();
    emit_flow(40000);
    int s = monitor_up(NULL);
    cr_assert_eq(mtcp_setsockopt(g_m, s, SOL_MONSOCKET, MOS_CLIBUF, &zero, sizeof(zero)), 0);
    cr_assert_eq(mtcp_getsockopt(g_m, s, SOL_MONSOCKET, MOS_CLIBUF, &got, &len), 0);
    cr_assert_eq(got, 0);
    /* with no client buffer, the response cannot be peeked: cb_data's
     * assertion would fail, so take that callback off */
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_CONN_NEW_DATA, MOS_HK_RCV, NULL), 0);
    run_and_stop();
    cr_assert_eq(g.n_data[0] + g.n_data[1], 0);
    cleanup_files();
}

/* ---- errors, one by one ---- */

static void errors_up(int *mon, int *raw)
{
    open_input();
    inline_config();
    cr_assert_eq(mtcp_init(NULL), 0);
    g_m = mtcp_create_context(0);
    *mon = mtcp_socket(g_m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0);
    cr_assert_geq(*mon, 0);
    *raw = mtcp_socket(g_m, AF_INET, MOS_SOCK_MONITOR_RAW, 0);
    cr_assert_geq(*raw, 0);
}

static struct mtcp_context bad_ctx = { .cpu = 63 };

Test(mos_errors, mtcp_socket_without_monitor_mode_is_einval)
{
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
    cr_assert_eq(mtcp_init(NULL), 0);
    mctx_t m = mtcp_create_context(0);
    FAILS(mtcp_socket(m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0), EINVAL);
    FAILS(mtcp_socket(m, AF_INET, MOS_SOCK_MONITOR_RAW, 0), EINVAL);
    setenv("SLUICE_MON_MODE", "passive", 1); /* env is read at mtcp_init: no change now */
    FAILS(mtcp_socket(m, AF_INET, MOS_SOCK_MONITOR_RAW, 0), EINVAL);
}

Test(mos_errors, mtcp_socket_with_a_missing_port_is_enetdown)
{
    setenv("SLUICE_MON_MODE", "passive", 1);
    setenv("SLUICE_MON_PORT0", "net_af_packet9,iface=sluice-no-such-if", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
    cr_assert_eq(mtcp_init(NULL), 0);
    mctx_t m = mtcp_create_context(0);
    FAILS(mtcp_socket(m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0), ENETDOWN);
}

Test(mos_errors, mtcp_bind_monitor_filter)
{
    int mon, raw;
    union monitor_filter ft = { .stream_syn_filter = "tcp port 80" }, bad = { .stream_syn_filter = "tcp portt 80" };

    errors_up(&mon, &raw);
    FAILS(mtcp_bind_monitor_filter(&bad_ctx, mon, &ft), EACCES);
    FAILS(mtcp_bind_monitor_filter(g_m, 999999, &ft), EBADF);
    FAILS(mtcp_bind_monitor_filter(g_m, 77, &ft), EBADF);
    int p[2];
    cr_assert_eq(mtcp_pipe(g_m, p), 0);
    FAILS(mtcp_bind_monitor_filter(g_m, p[0], &ft), ENOPROTOOPT);
    FAILS(mtcp_bind_monitor_filter(g_m, mon, &bad), EINVAL);
    cr_assert_eq(mtcp_bind_monitor_filter(g_m, mon, NULL), 0, "NULL: everything");
    cr_assert_eq(mtcp_bind_monitor_filter(g_m, mon, &ft), 0);
    mtcp_destroy();
    cleanup_files();
}

Test(mos_errors, mtcp_register_callback)
{
    int mon, raw, p[2];

    errors_up(&mon, &raw);
    cr_assert_eq(mtcp_pipe(g_m, p), 0);
    FAILS(mtcp_register_callback(&bad_ctx, mon, MOS_ON_PKT_IN, MOS_HK_SND, cb_pkt_snd), EACCES);
    FAILS(mtcp_register_callback(g_m, 77, MOS_ON_PKT_IN, MOS_HK_SND, cb_pkt_snd), EINVAL);
    FAILS(mtcp_register_callback(g_m, p[0], MOS_ON_PKT_IN, MOS_HK_SND, cb_pkt_snd), EINVAL);
    FAILS(mtcp_register_callback(g_m, mon, 0, MOS_HK_SND, cb_pkt_snd), EINVAL);
    FAILS(mtcp_register_callback(g_m, mon, (event_t)1 << 40, MOS_HK_SND, cb_pkt_snd), EINVAL);
    FAILS(mtcp_register_callback(g_m, mon, MOS_ON_PKT_IN, 12345, cb_pkt_snd), EINVAL);
    cr_assert_eq(mtcp_register_callback(g_m, mon, MOS_ON_PKT_IN | MOS_ON_REXMIT, MOS_HK_RCV, cb_pkt_rcv), 0);
    cr_assert_eq(mtcp_register_callback(g_m, mon, MOS_ON_PKT_IN, MOS_HK_RCV, NULL), 0);
    mtcp_destroy();
    cleanup_files();
}

Test(mos_errors, peeks_lastpkt_and_uctx_outside_a_flow)
{
    int mon, raw, p[2];
    char buf[8];
    struct pkt_info pi;
    byte b = 0;

    errors_up(&mon, &raw);
    cr_assert_eq(mtcp_pipe(g_m, p), 0);
    FAILS(mtcp_peek(&bad_ctx, mon, MOS_SIDE_CLI, buf, sizeof(buf)), EACCES);
    FAILS(mtcp_peek(g_m, 77, MOS_SIDE_CLI, buf, sizeof(buf)), EBADF);
    FAILS(mtcp_peek(g_m, mon, MOS_SIDE_CLI, buf, sizeof(buf)), ENOTSOCK);
    FAILS(mtcp_peek(g_m, p[0], MOS_SIDE_CLI, buf, sizeof(buf)), ENOTSOCK);
    FAILS(mtcp_ppeek(&bad_ctx, mon, MOS_SIDE_CLI, buf, sizeof(buf), 0), EACCES);
    FAILS(mtcp_ppeek(g_m, 77, MOS_SIDE_CLI, buf, sizeof(buf), 0), EBADF);
    FAILS(mtcp_ppeek(g_m, raw, MOS_SIDE_CLI, buf, sizeof(buf), 0), ENOTSOCK);
    FAILS(mtcp_getlastpkt(&bad_ctx, mon, MOS_SIDE_CLI, &pi), EACCES);
    FAILS(mtcp_getlastpkt(g_m, 77, MOS_SIDE_CLI, &pi), EBADF);
    FAILS(mtcp_getlastpkt(g_m, mon, MOS_SIDE_CLI, &pi), EBADF);
    FAILS(mtcp_setlastpkt(&bad_ctx, mon, MOS_SIDE_CLI, 0, &b, 1, MOS_DROP), EACCES);
    FAILS(mtcp_setlastpkt(g_m, 77, MOS_SIDE_CLI, 0, &b, 1, MOS_DROP), EBADF);
    FAILS(mtcp_setlastpkt(g_m, mon, MOS_SIDE_CLI, 0, &b, 1, MOS_DROP), EBADF);
    cr_assert_null(mtcp_get_uctx(g_m, mon));
    mtcp_set_uctx(g_m, 77, &b); /* ignored */
    FAILS(mtcp_app_join(&bad_ctx), EINVAL);
    int one = 1;
    socklen_t len = sizeof(one);
    FAILS(mtcp_getsockopt(g_m, mon, SOL_MONSOCKET, MOS_TCP_STATE_CLI, &one, &len), ENOPROTOOPT);
    FAILS(mtcp_getsockopt(g_m, mon, SOL_SOCKET, SO_ERROR, &one, &len), ENOPROTOOPT);
    FAILS(mtcp_setsockopt(g_m, mon, SOL_MONSOCKET, MOS_STOP_MON, &one, sizeof(one)), ENOPROTOOPT);
    FAILS(mtcp_setsockopt(g_m, raw, SOL_MONSOCKET, MOS_CLIBUF, &one, sizeof(one)), ENOPROTOOPT);
    FAILS(mtcp_setsockopt(g_m, mon, SOL_MONSOCKET, MOS_CLIBUF, &one, 1), EINVAL);
    int neg = -1;
    FAILS(mtcp_setsockopt(g_m, mon, SOL_MONSOCKET, MOS_CLIBUF, &neg, sizeof(neg)), EINVAL);
    FAILS(mtcp_setsockopt(g_m, mon, SOL_MONSOCKET, MOS_FRAGINFO_CLIBUF, &one, sizeof(one)), ENOPROTOOPT);
    FAILS(mtcp_setsockopt(g_m, mon, SOL_MONSOCKET, MOS_CLIOVERLAP, &(int){ 0 }, sizeof(int)), ENOPROTOOPT);
    len = sizeof(one);
    FAILS(mtcp_getsockopt(g_m, mon, SOL_MONSOCKET, MOS_FRAGINFO_CLIBUF, &one, &len), ENOPROTOOPT);
    struct sockaddr_in sa[2];
    len = sizeof(sa);
    FAILS(mtcp_getpeername(g_m, mon, (struct sockaddr *)sa, &len, MOS_SIDE_BOTH), ENOTCONN);
    struct mtcp_epoll_event ev = { .events = MTCP_EPOLLIN };
    int ep = mtcp_epoll_create(g_m, 8);
    FAILS(mtcp_epoll_ctl(g_m, ep, MTCP_EPOLL_CTL_ADD, mon, &ev), EPERM);
    cr_assert_eq(mtcp_close(g_m, mon), 0);
    cr_assert_eq(mtcp_close(g_m, raw), 0);
    mtcp_destroy();
    cleanup_files();
}

/* Errors that need a live flow: inside its callbacks. */
static void cb_errors(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    char buf[8];
    struct pkt_info pi;
    byte b = 0;
    int v = 0;
    socklen_t len = sizeof(v);
    struct sockaddr_in sa[2];
    socklen_t alen = sizeof(sa[0]);

    (void)ev, (void)arg, (void)side;
    FAILS(mtcp_peek(m, sock, 2, buf, sizeof(buf)), EINVAL);
    FAILS(mtcp_peek(m, sock, MOS_SIDE_CLI, NULL, sizeof(buf)), EINVAL);
    FAILS(mtcp_peek(m, sock, MOS_SIDE_CLI, buf, sizeof(buf)), ENODATA); /* nothing yet: the SYN */
    FAILS(mtcp_ppeek(m, sock, MOS_SIDE_CLI, buf, sizeof(buf), 0), ENODATA);
    FAILS(mtcp_ppeek(m, sock, 5, buf, sizeof(buf), 0), EINVAL);
    FAILS(mtcp_getlastpkt(m, sock, 2, &pi), EINVAL);
    FAILS(mtcp_getlastpkt(m, sock, MOS_SIDE_CLI, NULL), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, 2, 0, &b, 1, MOS_DROP), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, 0, &b, 1, MOS_TCP_HDR), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, 0, &b, 1, MOS_OVERWRITE), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, 0, &b, 1, MOS_OVERWRITE | MOS_TCP_HDR | MOS_IP_HDR), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, 0, &b, 1, MOS_OVERWRITE | MOS_INSERT | MOS_TCP_HDR), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, 20, &b, 1, MOS_OVERWRITE | MOS_TCP_HDR), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, -1, &b, 1, MOS_OVERWRITE | MOS_TCP_HDR), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, 0, NULL, 1, MOS_OVERWRITE | MOS_TCP_HDR), EINVAL);
    FAILS(mtcp_setlastpkt(m, sock, MOS_SIDE_CLI, 0, &b, 1, MOS_OVERWRITE | MOS_TCP_PAYLOAD), EINVAL);
    struct tcp_ring_fragment fr[2] = { { 7, 7 }, { 7, 7 } };
    socklen_t nfr = 0;
    FAILS(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_FRAGINFO_CLIBUF, fr, &nfr), EINVAL);
    nfr = 2;
    cr_assert_eq(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_FRAGINFO_SVRBUF, fr, &nfr), 0);
    cr_assert_eq(nfr, 0, "the SYN: nothing held");
    cr_assert_eq(fr[0].offset, 0, "a zeroed element ends the array");
    cr_assert_eq(fr[0].len, 0);
    FAILS(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_SEQ_REMAP, &v, &len), ENOPROTOOPT);
    FAILS(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_FRAG_CLIBUF, &v, &len), ENOPROTOOPT);
    FAILS(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_SEQ_REMAP, &v, sizeof(v)), ENOPROTOOPT);
    FAILS(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_FRAG_SVRBUF, &v, sizeof(v)), ENOPROTOOPT);
    FAILS(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_FRAGINFO_CLIBUF, &v, sizeof(v)), ENOPROTOOPT);
    cr_assert_eq(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_CLIOVERLAP, &(int){ MOS_OVERLAP_POLICY_FIRST },
                                 sizeof(int)), 0);
    FAILS(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_SVROVERLAP, &(int){ MOS_OVERLAP_POLICY_LAST }, sizeof(int)),
          EOPNOTSUPP);
    FAILS(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_SVROVERLAP, &(int){ 7 }, sizeof(int)), EINVAL);
    FAILS(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_CLIOVERLAP, &(int){ 0 }, 1), EINVAL);
    FAILS(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_TCP_STATE_CLI, &v, &(socklen_t){ 1 }), EINVAL);
    FAILS(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_STOP_MON, &(int){ 7 }, sizeof(int)), EINVAL);
    FAILS(mtcp_getpeername(m, sock, (struct sockaddr *)sa, &alen, MOS_SIDE_BOTH), EINVAL);
    FAILS(mtcp_getpeername(m, sock, (struct sockaddr *)sa, &alen, 3), EINVAL);
    uint32_t ts = 0;
    len = sizeof(ts);
    cr_assert_eq(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_TIMESTAMP, &ts, &len), 0);
    /* stop watching: no more callbacks for this flow */
    cr_assert_eq(mtcp_setsockopt(m, sock, SOL_MONSOCKET, MOS_STOP_MON, &(int){ MOS_SIDE_BOTH }, sizeof(int)), 0);
    g.n_start++;
    raise(SIGUSR1);
}

static void cb_count(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)side, (void)ev, (void)arg;
    g.n_pkt[0][0]++;
}

Test(mos_errors, calls_on_a_flow_socket, .timeout = 30)
{
    open_input();
    emit_flow(40000);
    int s = inline_monitor();
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_CONN_START, MOS_HK_SND, cb_errors), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_PKT_IN, MOS_HK_RCV, cb_count), 0);
    cr_assert_eq(mtcp_app_join(g_m), 0);
    cr_assert_eq(g.n_start, 1);
    int before = g.n_pkt[0][0];
    struct sluice_mon_stats st;
    for (int i = 0; i < 100; i++)
        sluice_mon_poll(NULL);
    cr_assert_eq(sluice_mon_stats(&st), 0);
    cr_assert_eq(st.rx[0], FRAMES_PER_FLOW);
    cr_assert_eq(g.n_pkt[0][0], before, "MOS_STOP_MON: no callback after");
    mtcp_destroy();
    cleanup_files();
}

/* The native layer under the monitor sockets (<sluice/monitor.h>). */
Test(mos_errors, sluice_mon_calls)
{
    struct sluice_mon_side si;
    struct sluice_mon_stats st;
    uint64_t gap;
    size_t n;
    uint32_t a;
    uint16_t p;
    void *u;
    char buf[4];
    uint8_t frame[64] = { 0 };

    t_init();
    cr_assert_eq(sluice_mon_start(NULL, NULL), EINVAL);
    cr_assert_eq(sluice_mon_stop(), ENOTCONN);
    cr_assert_eq(sluice_mon_poll(NULL), ENOTCONN);
    cr_assert_eq(sluice_mon_stats(&st), ENOTCONN);
    cr_assert_eq(sluice_mon_stats(NULL), EINVAL);
    cr_assert_eq(sluice_mon_side_info(NULL, 0, &si), EINVAL);
    cr_assert_eq(sluice_mon_peek(NULL, 0, buf, sizeof(buf), &n, &gap), EINVAL);
    cr_assert_eq(sluice_mon_ppeek(NULL, 0, buf, sizeof(buf), 0, &n), EINVAL);
    cr_assert_eq(sluice_mon_set_buf(NULL, 0, 1), EINVAL);
    cr_assert_eq(sluice_mon_flow_addr(NULL, 0, &a, &p), EINVAL);
    cr_assert_eq(sluice_mon_flow_set_user(NULL, NULL), EINVAL);
    cr_assert_eq(sluice_mon_flow_user(NULL, &u), EINVAL);
    uint8_t own[6], to[6];
    cr_assert_eq(sluice_mon_flow_macs(NULL, 0, own, to), EINVAL);
    unsigned nf;
    cr_assert_eq(sluice_mon_frags(NULL, 0, NULL, 0, &nf), EINVAL);
    cr_assert_eq(sluice_mon_cksum(NULL, 64, 1, 1), EINVAL);
    cr_assert_eq(sluice_mon_cksum(frame, sizeof(frame), 1, 1), EINVAL, "not IPv4");
    cr_assert_eq(sluice_mon_cksum(frame, 20, 1, 1), EINVAL, "short");
    /* a valid frame gets checksums the kernel's way: summing to zero */
    size_t len = frame_len_for_cksum(frame);
    cr_assert_eq(sluice_mon_cksum(frame, (uint32_t)len, 1, 1), 0);
    cr_assert_eq(csum_fold(sum16(frame + 14, 20, 0)), 0, "IP header checksum");
}

static int pass_all(void *arg, struct sluice_mon_frame *fr)
{
    (void)arg, (void)fr;
    return SLUICE_MON_PASS;
}

/* One engine serves an end point or a monitor: each refuses the other. */
Test(mos_errors, a_monitor_and_the_stack_exclude_each_other)
{
    int qd;

    setenv("SLUICE_MON_MODE", "passive", 1);
    setenv("SLUICE_MON_PORT0", "net_null1,no-rx=1", 1);
    setenv("SLUICE_NET_DEVARGS", "net_null0,no-rx=1", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
    t_init();
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_STREAM, 0), 0, "the stack starts");
    cr_assert_eq(sluice_mon_start(pass_all, NULL), EBUSY);
}

Test(mos_errors, the_stack_does_not_start_under_a_monitor)
{
    int qd, work = -1;
    struct sluice_mon_stats st;

    setenv("SLUICE_MON_MODE", "passive", 1);
    setenv("SLUICE_MON_PORT0", "net_null1,no-rx=1", 1);
    setenv("SLUICE_NET_DEVARGS", "net_null0,no-rx=1", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
    t_init();
    cr_assert_eq(sluice_mon_start(pass_all, NULL), 0);
    cr_assert_eq(sluice_mon_start(pass_all, NULL), EBUSY, "one monitor");
    cr_assert_eq(sluice_mon_poll(&work), 0);
    cr_assert_eq(work, 0);
    cr_assert_eq(sluice_mon_stats(&st), 0);
    cr_assert_eq(st.flows, 0);
    cr_assert_eq(demi_socket(&qd, AF_INET, SOCK_STREAM, 0), ENETDOWN);
    cr_assert_eq(sluice_mon_stop(), 0);
    cr_assert_eq(sluice_mon_stop(), ENOTCONN);
}

static int g_fired;
static uint32_t g_fired_ts;

static void on_timer(mctx_t m, int id, int side, event_t ev, filter_arg_t *arg)
{
    (void)side, (void)ev, (void)arg;
    cr_assert_eq(id, 42);
    g_fired_ts = mtcp_cb_get_ts(m);
    if (++g_fired == 2)
        raise(SIGUSR1);
    else
        cr_assert_eq(mtcp_settimer(m, 42, &(struct timeval){ 0, 20000 }, on_timer), 0, "re-armed from its callback");
}

Test(mos, timers_fire_once_each_inside_app_join, .timeout = 30)
{
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
    cr_assert_eq(mtcp_init(NULL), 0);
    mctx_t m = mtcp_create_context(0);
    mtcp_register_signal(SIGUSR1, on_sig);
    uint32_t t0 = mtcp_cb_get_ts(m);
    cr_assert_eq(mtcp_settimer(m, 42, &(struct timeval){ 0, 30000 }, on_timer), 0);
    cr_assert_eq(mtcp_app_join(m), 0);
    cr_assert_eq(g_fired, 2);
    cr_assert_geq(g_fired_ts - t0, 50000u, "30 ms, then 20 ms: %u us", g_fired_ts - t0);
    mtcp_destroy();
}

Test(mos_errors, mtcp_settimer_and_cb_get_ts)
{
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
    cr_assert_eq(mtcp_init(NULL), 0);
    mctx_t m = mtcp_create_context(0);
    struct timeval tv = { 1, 0 };
    FAILS(mtcp_settimer(&bad_ctx, 1, &tv, on_timer), EACCES);
    FAILS(mtcp_settimer(m, 1, NULL, on_timer), EINVAL);
    FAILS(mtcp_settimer(m, 1, &tv, NULL), EINVAL);
    FAILS(mtcp_settimer(m, 1, &(struct timeval){ 0, 1000000 }, on_timer), EINVAL);
    FAILS(mtcp_settimer(m, 1, &(struct timeval){ -1, 0 }, on_timer), EINVAL);
    for (int i = 0; i < 256; i++)
        cr_assert_eq(mtcp_settimer(m, i, &tv, on_timer), 0);
    FAILS(mtcp_settimer(m, 1, &tv, on_timer), ENOMEM);
    cr_assert_eq(mtcp_cb_get_ts(&bad_ctx), 0);
    cr_assert_neq(mtcp_cb_get_ts(m), 0);
    mtcp_destroy();
}

/* ---- user-defined events ---- */

static struct {
    event_t get, http, hello, under_get_true, under_get_false, unused, spare[40];
    char order[32];
    int n_false, n_unused, get_side, raised_twice, raise_full;
    char get_arg[8];
} u;

static void note(char c)
{
    size_t n = strlen(u.order);
    if (n + 1 < sizeof(u.order))
        u.order[n] = c;
}

/* The current frame's payload starts with arg's bytes. */
static bool ft_prefix(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct pkt_info pi;

    (void)ev;
    cr_assert_not_null(arg);
    if (mtcp_getlastpkt(m, sock, side, &pi) != 0 || pi.payloadlen < arg->len)
        return false;
    return memcmp(pi.payload, arg->arg, arg->len) == 0;
}

/* ft_prefix, and raises u.hello when the payload has "hello". */
static bool ft_http(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct pkt_info pi;

    cr_assert_eq(ev, u.http);
    if (!ft_prefix(m, sock, side, ev, arg))
        return false;
    cr_assert_eq(mtcp_getlastpkt(m, sock, side, &pi), 0);
    if (memmem(pi.payload, pi.payloadlen, "hello", 5) != NULL) {
        cr_assert_eq(mtcp_raise_event(m, u.hello), 0);
        cr_assert_eq(mtcp_raise_event(m, u.hello), 0, "twice: once");
        /* 32 different events at most per filter call */
        for (int i = 0; i < 31; i++)
            cr_assert_eq(mtcp_raise_event(m, u.spare[i]), 0);
        FAILS(mtcp_raise_event(m, u.spare[31]), ENOBUFS);
        u.raise_full = 1;
    }
    return true;
}

static bool ft_true(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)side, (void)arg;
    cr_assert_eq(ev, u.under_get_true);
    return true;
}

static bool ft_false(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)side, (void)ev, (void)arg;
    u.n_false++;
    return false;
}

static bool ft_unused(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)side, (void)ev, (void)arg;
    u.n_unused++;
    return true;
}

static void cb_ude(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock;
    if (ev == u.get) {
        note('G');
        u.get_side = side;
        cr_assert_eq(arg->len, 3);
        memcpy(u.get_arg, arg->arg, 3);
    } else if (ev == u.under_get_true) {
        note('T');
    } else if (ev == u.http) {
        note('H');
    } else if (ev == u.hello) {
        note('h');
        cr_assert_not_null(arg);
        cr_assert_null(arg->arg);
    } else {
        cr_assert_fail("callback of event %llu", (unsigned long long)ev);
    }
}

static void cb_ude_end(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)side, (void)ev, (void)arg;
    raise(SIGUSR1);
}

Test(mos, user_defined_events_run_their_filters_callbacks_and_raised_children, .timeout = 30)
{
    char get[] = "GET", http[] = "HTTP";
    filter_arg_t a_get = { get, 3 }, a_http = { http, 4 };

    /* events need no context: defined before mtcp_init, as mOS's samples may */
    u.get = mtcp_define_event(MOS_ON_CONN_NEW_DATA, ft_prefix, &a_get);
    cr_assert_eq(u.get, (event_t)1 << 12, "the first id after mOS's 12 built-in bits");
    get[0] = 'X'; /* copied */
    u.http = mtcp_define_event(MOS_ON_CONN_NEW_DATA, ft_http, &a_http);
    u.hello = mtcp_alloc_event(MOS_ON_CONN_NEW_DATA);
    for (int i = 0; i < 32; i++)
        u.spare[i] = mtcp_alloc_event(MOS_ON_CONN_NEW_DATA);
    u.under_get_true = mtcp_define_event(u.get, ft_true, NULL);
    u.under_get_false = mtcp_define_event(u.get, ft_false, NULL);
    u.unused = mtcp_define_event(MOS_ON_PKT_IN, ft_unused, NULL);
    cr_assert_neq(u.hello, MOS_NULL_EVENT);
    cr_assert_neq(u.under_get_false, MOS_NULL_EVENT);
    get[0] = 'G';
    cr_assert_eq(mtcp_define_event(MOS_ON_CONN_NEW_DATA, ft_prefix, &a_get), u.get, "the same definition");

    open_input();
    emit_flow(40000);
    int s = inline_monitor();
    cr_assert_geq(s, 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, u.get, MOS_HK_RCV, cb_ude), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, u.under_get_true, MOS_HK_RCV, cb_ude), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, u.under_get_false, MOS_HK_RCV, cb_ude), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, u.http, MOS_HK_RCV, cb_ude), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, u.hello, MOS_HK_RCV, cb_ude), 0);
    /* a callback set and taken off again: its filter never runs */
    cr_assert_eq(mtcp_register_callback(g_m, s, u.unused, MOS_HK_SND, cb_ude), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, u.unused, MOS_HK_SND, NULL), 0);
    cr_assert_eq(mtcp_register_callback(g_m, s, MOS_ON_CONN_END, MOS_HK_SND, cb_ude_end), 0);
    cr_assert_eq(mtcp_app_join(g_m), 0);
    cr_assert_eq(mtcp_destroy(), 0);

    /* the request: GET, then the event defined under it whose filter
     * passes (the one whose filter fails was asked once); the response:
     * HTTP, then the child its filter raised (twice: once) */
    cr_assert_str_eq(u.order, "GTHh");
    cr_assert_eq(u.get_side, MOS_SIDE_SVR, "HK_RCV: the request's receiver");
    cr_assert_arr_eq(u.get_arg, "GET", 3);
    cr_assert_eq(u.n_false, 1);
    cr_assert_eq(u.n_unused, 0, "no callback on it: its filter is not run");
    cr_assert_eq(u.raise_full, 1);
    cleanup_files();
}

static bool ft_any(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)side, (void)ev, (void)arg;
    return true;
}

Test(mos_errors, mtcp_define_event)
{
    filter_arg_t null_arg = { NULL, 5 };
    event_t child = mtcp_alloc_event(MOS_ON_PKT_IN);

    cr_assert_neq(child, MOS_NULL_EVENT);
    FAILS(mtcp_define_event(MOS_ON_PKT_IN, NULL, NULL) ? 0 : -1, EINVAL);
    FAILS(mtcp_define_event(MOS_NULL_EVENT, ft_any, NULL) ? 0 : -1, EINVAL);
    FAILS(mtcp_define_event(MOS_ON_PKT_IN | MOS_ON_REXMIT, ft_any, NULL) ? 0 : -1, EINVAL);
    FAILS(mtcp_define_event(MOS_ON_DEBUG_MESSAGE, ft_any, NULL) ? 0 : -1, EINVAL);
    FAILS(mtcp_define_event(((event_t)1 << 12) + 500, ft_any, NULL) ? 0 : -1, EINVAL);
    FAILS(mtcp_define_event(child, ft_any, NULL) ? 0 : -1, EINVAL);
    FAILS(mtcp_define_event(MOS_ON_PKT_IN, ft_any, &null_arg) ? 0 : -1, EINVAL);
    event_t e = mtcp_define_event(MOS_ON_PKT_IN, ft_any, NULL);
    cr_assert_eq(e, ((event_t)1 << 12) + 1);
    cr_assert_eq(mtcp_define_event(e, ft_any, NULL), e + 1, "under a defined event");
    /* 1024 events at most */
    for (int i = 3; i < 1024; i++) {
        filter_arg_t a = { &i, sizeof(i) };
        cr_assert_neq(mtcp_define_event(MOS_ON_PKT_IN, ft_any, &a), MOS_NULL_EVENT, "event %d", i);
    }
    FAILS(mtcp_define_event(MOS_ON_REXMIT, ft_any, NULL) ? 0 : -1, ENOMEM);
    FAILS(mtcp_alloc_event(MOS_ON_REXMIT) ? 0 : -1, ENOMEM);
    cr_assert_eq(mtcp_define_event(e, ft_any, NULL), e + 1, "an existing definition still answers");
}

Test(mos_errors, mtcp_alloc_event)
{
    event_t d = mtcp_define_event(MOS_ON_CONN_NEW_DATA, ft_any, NULL);
    event_t c = mtcp_alloc_event(d);

    cr_assert_neq(c, MOS_NULL_EVENT, "under a defined event");
    cr_assert_neq(mtcp_alloc_event(MOS_ON_CONN_END), MOS_NULL_EVENT);
    FAILS(mtcp_alloc_event(MOS_NULL_EVENT) ? 0 : -1, EINVAL);
    FAILS(mtcp_alloc_event(MOS_ON_PKT_IN | MOS_ON_CONN_END) ? 0 : -1, EINVAL);
    FAILS(mtcp_alloc_event(c) ? 0 : -1, EINVAL);
    FAILS(mtcp_alloc_event(c + 100) ? 0 : -1, EINVAL);
}

Test(mos_errors, mtcp_raise_event_and_user_events_in_register_callback)
{
    int mon, raw;
    event_t d = mtcp_define_event(MOS_ON_CONN_NEW_DATA, ft_any, NULL);
    event_t c = mtcp_alloc_event(MOS_ON_CONN_NEW_DATA);

    errors_up(&mon, &raw);
    FAILS(mtcp_raise_event(&bad_ctx, c), EACCES);
    FAILS(mtcp_raise_event(g_m, MOS_ON_CONN_NEW_DATA), EINVAL);
    FAILS(mtcp_raise_event(g_m, d), EINVAL);
    FAILS(mtcp_raise_event(g_m, c + 1), EINVAL);
    FAILS(mtcp_raise_event(g_m, c), EPERM);
    FAILS(mtcp_register_callback(g_m, mon, c + 1, MOS_HK_RCV, cb_pkt_rcv), EINVAL);
    FAILS(mtcp_register_callback(g_m, mon, d, 12345, cb_pkt_rcv), EINVAL);
    cr_assert_eq(mtcp_register_callback(g_m, mon, d, MOS_HK_RCV, cb_pkt_rcv), 0);
    cr_assert_eq(mtcp_register_callback(g_m, mon, c, MOS_HK_RCV, cb_pkt_rcv), 0);
    cr_assert_eq(mtcp_register_callback(g_m, raw, d, MOS_NULL, cb_pkt_rcv), 0);
    cr_assert_eq(mtcp_register_callback(g_m, mon, d, MOS_HK_RCV, NULL), 0);
    /* mtcp_destroy forgets the events */
    mtcp_destroy();
    FAILS(mtcp_alloc_event(d) ? 0 : -1, EINVAL);
    cr_assert_eq(mtcp_define_event(MOS_ON_PKT_IN, ft_any, NULL), (event_t)1 << 12);
    cleanup_files();
}

/* ---- mtcp_sendpkt ---- */

static int g_mon_sock;
static int g_sent;

static void cb_send(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct pkt_info pi, bad;
    struct ethhdr eth;
    struct iphdr iph;
    struct tcphdr tcph;
    char inj[] = "INJECT";

    (void)ev, (void)arg;
    if (side != MOS_SIDE_SVR || g_sent)
        return; /* the request, once */
    cr_assert_eq(mtcp_getlastpkt(m, sock, side, &pi), 0);
    /* a copy with other bytes, on to the server */
    pi.payload = (uint8_t *)inj;
    pi.payloadlen = 6;
    cr_assert_eq(mtcp_sendpkt(m, sock, &pi), 0, "%s", strerror(errno));
    /* the other way: to the client */
    memcpy(&eth, pi.ethh, sizeof(eth));
    memcpy(&iph, pi.iph, sizeof(iph));
    memcpy(&tcph, pi.tcph, sizeof(tcph));
    memcpy(eth.h_dest, pi.ethh->h_source, 6);
    memcpy(eth.h_source, pi.ethh->h_dest, 6);
    iph.saddr = pi.iph->daddr;
    iph.daddr = pi.iph->saddr;
    tcph.source = pi.tcph->dest;
    tcph.dest = pi.tcph->source;
    struct pkt_info back = pi;
    back.ethh = &eth;
    back.iph = &iph;
    back.tcph = &tcph;
    cr_assert_eq(mtcp_sendpkt(m, sock, &back), 0);
    /* errors, one by one */
    FAILS(mtcp_sendpkt(&bad_ctx, sock, &pi), EACCES);
    FAILS(mtcp_sendpkt(m, sock, NULL), EACCES);
    FAILS(mtcp_sendpkt(m, 77, &pi), EBADF);
    FAILS(mtcp_sendpkt(m, g_mon_sock, &pi), ENOTSOCK);
    bad = pi, bad.iph = NULL;
    FAILS(mtcp_sendpkt(m, sock, &bad), ENODATA);
    bad = pi, bad.tcph = NULL;
    FAILS(mtcp_sendpkt(m, sock, &bad), ENODATA);
    bad = pi, bad.ethh = NULL;
    FAILS(mtcp_sendpkt(m, sock, &bad), ENODATA);
    bad = pi, bad.payload = NULL;
    FAILS(mtcp_sendpkt(m, sock, &bad), EINVAL);
    bad = pi, bad.payloadlen = 1461;
    FAILS(mtcp_sendpkt(m, sock, &bad), EINVAL);
    iph.saddr = iph.daddr; /* from the client to the client: not the flow */
    FAILS(mtcp_sendpkt(m, sock, &back), EINVAL);
    g_sent = 1;
}

/* The frame of path whose payload is "INJECT": its TCP flags and whether
 * both checksums verify; -1 when there is none. */
static int injected(const char *path, int *n_frames, bool *cksum_ok)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    int flags = -1;

    cr_assert_not_null(p, "%s: %s", path, err);
    *n_frames = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        (*n_frames)++;
        if (h->caplen != 14 + 40 + 6 || memcmp(d + 54, "INJECT", 6) != 0)
            continue;
        uint8_t pseudo[12];
        memcpy(pseudo, d + 14 + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = 6;
        put16(pseudo + 10, 26);
        *cksum_ok = csum_fold(sum16(d + 14, 20, 0)) == 0 && csum_fold(sum16(d + 34, 26, sum16(pseudo, 12, 0))) == 0;
        flags = d[34 + 13];
    }
    pcap_close(p);
    return flags;
}

Test(mos, sendpkt_sends_a_crafted_segment_toward_either_side, .timeout = 30)
{
    int n;
    bool ok = false;

    open_input();
    emit_flow(40000);
    g_mon_sock = inline_monitor();
    cr_assert_eq(mtcp_register_callback(g_m, g_mon_sock, MOS_ON_CONN_NEW_DATA, MOS_HK_RCV, cb_send), 0);
    cr_assert_eq(mtcp_register_callback(g_m, g_mon_sock, MOS_ON_CONN_END, MOS_HK_SND, cb_ude_end), 0);
    cr_assert_eq(mtcp_app_join(g_m), 0);
    cr_assert_eq(mtcp_destroy(), 0);
    cr_assert_eq(g_sent, 1);
    cr_assert_eq(injected(out1_path, &n, &ok), 0x10, "to the server, out of port 1: ACK only");
    cr_assert(ok, "checksums");
    cr_assert_eq(n, FRAMES_PER_FLOW + 1, "the flow's frames and the crafted one");
    ok = false;
    cr_assert_eq(injected(out0_path, &n, &ok), 0x10, "to the client, out of port 0");
    cr_assert(ok);
    cr_assert_eq(n, 1, "port 0 sent only it: every frame of the file came in on port 0");
    cleanup_files();
}

Test(mos_errors, sluice_mon_send)
{
    uint8_t f[1600] = { 0 };
    struct sluice_mon_stats st;

    setenv("SLUICE_MON_MODE", "passive", 1);
    setenv("SLUICE_MON_PORT0", "net_null1,no-rx=1", 1);
    setenv("SLUICE_NET_LINK_TIMEOUT_MS", "0", 1);
    t_init();
    cr_assert_eq(sluice_mon_send(0, f, 64), ENOTCONN);
    cr_assert_eq(sluice_mon_start(pass_all, NULL), 0);
    cr_assert_eq(sluice_mon_stats(&st), 0);
    cr_assert_eq(st.ports, 1, "passive");
    cr_assert_eq(sluice_mon_send(0, NULL, 64), EINVAL);
    cr_assert_eq(sluice_mon_send(1, f, 64), EINVAL, "passive: no port 1");
    cr_assert_eq(sluice_mon_send(2, f, 64), EINVAL);
    cr_assert_eq(sluice_mon_send(0, f, 13), EINVAL, "shorter than an Ethernet header");
    cr_assert_eq(sluice_mon_send(0, f, 14 + 1501), EINVAL, "longer than net.mtu allows");
    cr_assert_eq(sluice_mon_send(0, f, 14 + 1500), 0);
    cr_assert_eq(sluice_mon_stop(), 0);
    cr_assert_eq(sluice_mon_send(0, f, 64), ENOTCONN);
}

/* ---- MOS_FRAGINFO on a reordered request ---- */

static struct tcp_ring_fragment g_fr[2][3];
static socklen_t g_nfr[2];
static int g_cli_frames;

static void cb_frags(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)ev, (void)arg;
    if (side != MOS_SIDE_SVR || ++g_cli_frames < 3 || g_cli_frames > 4)
        return; /* the two halves of the request, as the server receives them */
    int k = g_cli_frames - 3;
    g_nfr[k] = 3;
    cr_assert_eq(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_FRAGINFO_SVRBUF, g_fr[k], &g_nfr[k]), 0);
}

Test(mos, fraginfo_gives_the_held_ranges_of_a_reordered_stream, .timeout = 30)
{
    uint32_t c = CISN, s = SISN, q = (uint32_t)strlen(REQ);

    open_input();
    emit(true, 40000, c, 0, F_SYN, NULL, 0);
    emit(false, 40000, s, c + 1, F_SYN | F_ACK, NULL, 0);
    emit(true, 40000, c + 1, s + 1, F_ACK, NULL, 0);
    emit(true, 40000, c + 1 + 9, s + 1, F_ACK, REQ + 9, q - 9); /* the second half first */
    emit(true, 40000, c + 1, s + 1, F_ACK, REQ, 9);
    emit(true, 40000, c + 1 + q, s + 1, F_ACK | F_FIN, NULL, 0);
    emit(false, 40000, s + 1, c + 2 + q, F_ACK | F_FIN, NULL, 0);
    emit(true, 40000, c + 2 + q, s + 2, F_ACK, NULL, 0);
    int mon = inline_monitor();
    cr_assert_eq(mtcp_register_callback(g_m, mon, MOS_ON_PKT_IN, MOS_HK_RCV, cb_frags), 0);
    cr_assert_eq(mtcp_register_callback(g_m, mon, MOS_ON_CONN_END, MOS_HK_SND, cb_ude_end), 0);
    cr_assert_eq(mtcp_app_join(g_m), 0);
    cr_assert_eq(mtcp_destroy(), 0);
    /* the second half alone: held out of order at offset 9 */
    cr_assert_eq(g_nfr[0], 1);
    cr_assert_eq(g_fr[0][0].offset, 9);
    cr_assert_eq(g_fr[0][0].len, q - 9);
    cr_assert_eq(g_fr[0][1].len, 0, "the zeroed element");
    /* then the first: the whole request, in order, unread */
    cr_assert_eq(g_nfr[1], 1);
    cr_assert_eq(g_fr[1][0].offset, 0);
    cr_assert_eq(g_fr[1][0].len, q);
    cleanup_files();
}

/* ---- mtcp_reset_conn ---- */

static int g_reset;

static void cb_reset_start(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)side, (void)ev, (void)arg;
    FAILS(mtcp_reset_conn(m, sock), ENOTCONN); /* the SYN only: no server ISN yet */
}

static void cb_reset(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)ev, (void)arg;
    if (side != MOS_SIDE_SVR || g_reset)
        return; /* once, at the request */
    FAILS(mtcp_reset_conn(&bad_ctx, sock), EACCES);
    FAILS(mtcp_reset_conn(m, 77), EBADF);
    FAILS(mtcp_reset_conn(m, g_mon_sock), EINVAL);
    cr_assert_eq(mtcp_reset_conn(m, sock), 0, "%s", strerror(errno));
    g_reset = 1;
}

/* The RST of path (the only frame with RST set): its fields. */
static bool rst_in(const char *path, uint32_t *src, uint32_t *seq, uint32_t *ack, uint8_t *flags, uint8_t *dmac)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    bool found = false;

    cr_assert_not_null(p, "%s: %s", path, err);
    while (pcap_next_ex(p, &h, &d) == 1) {
        if (h->caplen < 54 || !(d[47] & F_RST))
            continue;
        uint8_t pseudo[12];
        memcpy(pseudo, d + 26, 8);
        pseudo[8] = 0;
        pseudo[9] = 6;
        put16(pseudo + 10, 20);
        cr_assert_eq(csum_fold(sum16(d + 14, 20, 0)), 0, "IP checksum");
        cr_assert_eq(csum_fold(sum16(d + 34, 20, sum16(pseudo, 12, 0))), 0, "TCP checksum");
        *src = (uint32_t)d[26] << 24 | (uint32_t)d[27] << 16 | (uint32_t)d[28] << 8 | d[29];
        *seq = (uint32_t)d[38] << 24 | (uint32_t)d[39] << 16 | (uint32_t)d[40] << 8 | d[41];
        *ack = (uint32_t)d[42] << 24 | (uint32_t)d[43] << 16 | (uint32_t)d[44] << 8 | d[45];
        *flags = d[47];
        memcpy(dmac, d, 6);
        found = true;
    }
    pcap_close(p);
    return found;
}

Test(mos, reset_conn_sends_each_side_an_acceptable_rst, .timeout = 30)
{
    uint32_t src, seq, ack;
    uint8_t flags, dmac[6];

    open_input();
    emit_flow(40000);
    g_mon_sock = inline_monitor();
    int raw = mtcp_socket(g_m, AF_INET, MOS_SOCK_MONITOR_RAW, 0);
    FAILS(mtcp_reset_conn(g_m, raw), EINVAL);
    cr_assert_eq(mtcp_register_callback(g_m, g_mon_sock, MOS_ON_CONN_START, MOS_HK_SND, cb_reset_start), 0);
    cr_assert_eq(mtcp_register_callback(g_m, g_mon_sock, MOS_ON_CONN_NEW_DATA, MOS_HK_RCV, cb_reset), 0);
    cr_assert_eq(mtcp_register_callback(g_m, g_mon_sock, MOS_ON_CONN_END, MOS_HK_SND, cb_ude_end), 0);
    cr_assert_eq(mtcp_app_join(g_m), 0);
    cr_assert_eq(mtcp_destroy(), 0);
    cr_assert_eq(g_reset, 1);
    /* to the server (out of port 1): from the client, at the byte after the request */
    cr_assert(rst_in(out1_path, &src, &seq, &ack, &flags, dmac));
    cr_assert_eq(src, CLI_IP);
    cr_assert_eq(seq, CISN + 1 + strlen(REQ));
    cr_assert_eq(ack, SISN + 1);
    cr_assert_eq(flags, F_RST | F_ACK);
    cr_assert_arr_eq(dmac, "\x02\0\0\0\0\x02", 6, "the address the client's frames go to");
    /* to the client (out of port 0): from the server */
    cr_assert(rst_in(out0_path, &src, &seq, &ack, &flags, dmac));
    cr_assert_eq(src, SVR_IP);
    cr_assert_eq(seq, SISN + 1);
    cr_assert_eq(ack, CISN + 1 + strlen(REQ));
    cr_assert_arr_eq(dmac, "\x02\0\0\0\0\x01", 6, "the client's own address");
    cleanup_files();
}

/* ---- a client reusing its port: the old flow ends, a new one starts ---- */

static int g_starts, g_ends, g_end_lastpkt_errno;

static void cb_reuse_start(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)m, (void)sock, (void)side, (void)ev, (void)arg;
    g_starts++;
}

static void cb_reuse_end(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct pkt_info pi;
    struct tcp_buf_info bi;
    socklen_t len = sizeof(bi);

    (void)ev, (void)arg;
    g_ends++;
    if (g_ends == 1) {
        /* the old flow, ended by the new SYN: no frame of its own */
        errno = 0;
        cr_assert_eq(mtcp_getlastpkt(m, sock, side, &pi), -1);
        g_end_lastpkt_errno = errno;
        cr_assert_eq(mtcp_getsockopt(m, sock, SOL_MONSOCKET, MOS_INFO_SVRBUF, &bi, &len), 0);
        cr_assert_eq(bi.tcpbi_next_byte_expected - bi.tcpbi_init_seq, strlen(REQ), "its request counted");
        cr_assert_eq(bi.tcpbi_init_seq, CISN + 77777 + 1, "the old flow's");
    }
    if (g_ends == 2)
        raise(SIGUSR1);
}

Test(mos, a_new_syn_on_a_port_ends_the_old_flow_and_starts_another, .timeout = 30)
{
    uint32_t c = CISN + 77777, s = SISN + 77777, q = (uint32_t)strlen(REQ);

    open_input();
    /* a flow whose end the monitor never sees, then the port again with
     * another ISN (emit_flow's) */
    emit(true, 40000, c, 0, F_SYN, NULL, 0);
    emit(false, 40000, s, c + 1, F_SYN | F_ACK, NULL, 0);
    emit(true, 40000, c + 1, s + 1, F_ACK | F_PSH, REQ, q);
    emit_flow(40000);
    int mon = inline_monitor();
    cr_assert_eq(mtcp_register_callback(g_m, mon, MOS_ON_CONN_START, MOS_HK_SND, cb_reuse_start), 0);
    cr_assert_eq(mtcp_register_callback(g_m, mon, MOS_ON_CONN_END, MOS_HK_SND, cb_reuse_end), 0);
    cr_assert_eq(mtcp_app_join(g_m), 0);
    cr_assert_eq(mtcp_destroy(), 0);
    cr_assert_eq(g_starts, 2);
    cr_assert_eq(g_ends, 2);
    cr_assert_eq(g_end_lastpkt_errno, ENODATA);
    cleanup_files();
}
