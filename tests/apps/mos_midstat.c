/*
 * mos_midstat.c - a flow monitor written to mOS's API, like mOS's midstat
 * sample: one line per TCP flow when it ends (or times out, or is still
 * open at exit) with both endpoints, each side's emulated TCP state and
 * the bytes each way. Driven by tests/integration/mos.sh; the monitor's
 * mode and ports are Sluice's mon.* settings (SLUICE_MON_MODE, ...).
 *
 *   mos_midstat [-f mtcp.conf] [-F 'tcpdump expression']
 *
 * Prints "midstat: monitoring" once the ports are open, then per flow
 *   flow CLI_IP:PORT SVR_IP:PORT c2s BYTES s2c BYTES cli STATE svr STATE end|timeout|open
 * and, on SIGTERM or SIGINT, the open flows and "midstat: N flows".
 * Bytes each way are the stream lengths the monitor tracked (the
 * receiver's in-order edge: MOS_INFO_SVRBUF for client to server).
 */
#include <mos_api.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPEN 65536

static const char *const state_names[] = {
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

struct flow {
    struct sockaddr_in addr[2]; /* by side */
    int sock;
};

static struct flow *g_open[MAX_OPEN]; /* flows not yet reported, by socket id */
static unsigned long g_flows;

static const char *state_name(int st)
{
    return st >= 0 && st <= TCP_TIME_WAIT ? state_names[st] : "?";
}

/* Bytes in side's stream: its in-order edge from the sender's ISN + 1. */
static unsigned long stream_bytes(mctx_t m, int sock, int side)
{
    struct tcp_buf_info bi;
    socklen_t len = sizeof(bi);

    if (mtcp_getsockopt(m, sock, SOL_MONSOCKET, side == MOS_SIDE_CLI ? MOS_INFO_CLIBUF : MOS_INFO_SVRBUF, &bi,
                        &len) != 0)
        return 0;
    return (unsigned long)(uint32_t)(bi.tcpbi_next_byte_expected - bi.tcpbi_init_seq);
}

static int side_state(mctx_t m, int sock, int side)
{
    int st = -1;
    socklen_t len = sizeof(st);

    mtcp_getsockopt(m, sock, SOL_MONSOCKET, side == MOS_SIDE_CLI ? MOS_TCP_STATE_CLI : MOS_TCP_STATE_SVR, &st, &len);
    return st;
}

static void report(mctx_t m, struct flow *f, const char *how)
{
    char cli[INET_ADDRSTRLEN], svr[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &f->addr[MOS_SIDE_CLI].sin_addr, cli, sizeof(cli));
    inet_ntop(AF_INET, &f->addr[MOS_SIDE_SVR].sin_addr, svr, sizeof(svr));
    /* the client's bytes are what the server receives, and back */
    printf("flow %s:%u %s:%u c2s %lu s2c %lu cli %s svr %s %s\n", cli, ntohs(f->addr[MOS_SIDE_CLI].sin_port), svr,
           ntohs(f->addr[MOS_SIDE_SVR].sin_port), stream_bytes(m, f->sock, MOS_SIDE_SVR),
           stream_bytes(m, f->sock, MOS_SIDE_CLI), state_name(side_state(m, f->sock, MOS_SIDE_CLI)),
           state_name(side_state(m, f->sock, MOS_SIDE_SVR)), how);
    fflush(stdout);
    g_flows++;
}

static void on_start(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct flow *f = calloc(1, sizeof(*f));
    socklen_t len = sizeof(f->addr);

    (void)side, (void)ev, (void)arg;
    if (f == NULL || sock < 0 || sock >= MAX_OPEN) {
        free(f);
        return;
    }
    f->sock = sock;
    if (mtcp_getpeername(m, sock, (struct sockaddr *)f->addr, &len, MOS_SIDE_BOTH) != 0)
        perror("mtcp_getpeername");
    mtcp_set_uctx(m, sock, f);
    g_open[sock] = f;
}

static void finish(mctx_t m, int sock, const char *how)
{
    struct flow *f = mtcp_get_uctx(m, sock);

    if (f == NULL)
        return;
    report(m, f, how);
    mtcp_set_uctx(m, sock, NULL);
    g_open[sock] = NULL;
    free(f);
}

static void on_end(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)side, (void)arg;
    finish(m, sock, ev == MOS_ON_TIMEOUT ? "timeout" : "end");
}

static void on_signal(int sig)
{
    (void)sig; /* mtcp_app_join returns once the handler ran */
}

static int setup(mctx_t m, const char *filter)
{
    union monitor_filter ft = { .stream_syn_filter = (char *)filter };
    int zero = 0;
    int s = mtcp_socket(m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0);

    if (s < 0) {
        perror("mtcp_socket(MOS_SOCK_MONITOR_STREAM)");
        return -1;
    }
    /* counting only: no stream buffers (as mOS's midstat) */
    if (mtcp_setsockopt(m, s, SOL_MONSOCKET, MOS_CLIBUF, &zero, sizeof(zero)) != 0 ||
        mtcp_setsockopt(m, s, SOL_MONSOCKET, MOS_SVRBUF, &zero, sizeof(zero)) != 0 ||
        (filter != NULL && mtcp_bind_monitor_filter(m, s, &ft) != 0) ||
        mtcp_register_callback(m, s, MOS_ON_CONN_START, MOS_HK_SND, on_start) != 0 ||
        mtcp_register_callback(m, s, MOS_ON_CONN_END | MOS_ON_TIMEOUT, MOS_HK_SND, on_end) != 0) {
        perror("midstat setup");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = NULL, *filter = NULL;
    mctx_t m;
    int opt;

    while ((opt = getopt(argc, argv, "f:F:")) != -1) {
        if (opt == 'f')
            conf = optarg;
        else if (opt == 'F')
            filter = optarg;
        else {
            fprintf(stderr, "usage: %s [-f mtcp.conf] [-F 'tcpdump expression']\n", argv[0]);
            return 2;
        }
    }
    if (mtcp_init(conf) != 0) {
        perror("mtcp_init");
        return 1;
    }
    mtcp_register_signal(SIGTERM, on_signal);
    mtcp_register_signal(SIGINT, on_signal);
    if ((m = mtcp_create_context(0)) == NULL || setup(m, filter) != 0)
        return 1;
    printf("midstat: monitoring\n");
    fflush(stdout);
    mtcp_app_join(m);
    for (int i = 0; i < MAX_OPEN; i++)
        if (g_open[i] != NULL)
            finish(m, i, "open");
    printf("midstat: %lu flows\n", g_flows);
    fflush(stdout);
    mtcp_destroy();
    return 0;
}
