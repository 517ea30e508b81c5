/*
 * mos_firewall.c - an inline firewall written to mOS's API: flows whose
 * first SYN matches a tcpdump expression are blocked (every frame of the
 * flow is dropped with mtcp_setlastpkt(MOS_DROP), so the client's
 * connection attempt fails), every other flow passes untouched. Driven by
 * tests/integration/mos.sh; needs SLUICE_MON_MODE=inline.
 *
 *   mos_firewall [-f mtcp.conf] 'tcpdump expression'
 *
 * Prints "firewall: blocking 'EXPR'" once the ports are open, one line
 * "blocked CLI_IP:PORT SVR_IP:PORT" per flow it blocks, and on SIGTERM or
 * SIGINT "firewall: N flows blocked, M frames dropped".
 */
#include <mos_api.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned long g_flows, g_frames;

static void drop(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    (void)ev, (void)arg;
    if (mtcp_setlastpkt(m, sock, side, 0, NULL, 0, MOS_DROP) == 0)
        g_frames++;
    else
        perror("mtcp_setlastpkt(MOS_DROP)");
}

static void on_start(mctx_t m, int sock, int side, event_t ev, filter_arg_t *arg)
{
    struct sockaddr_in a[2];
    socklen_t len = sizeof(a);
    char cli[INET_ADDRSTRLEN] = "?", svr[INET_ADDRSTRLEN] = "?";

    (void)ev, (void)arg, (void)side;
    if (mtcp_getpeername(m, sock, (struct sockaddr *)a, &len, MOS_SIDE_BOTH) == 0) {
        inet_ntop(AF_INET, &a[MOS_SIDE_CLI].sin_addr, cli, sizeof(cli));
        inet_ntop(AF_INET, &a[MOS_SIDE_SVR].sin_addr, svr, sizeof(svr));
    }
    printf("blocked %s:%u %s:%u\n", cli, ntohs(a[MOS_SIDE_CLI].sin_port), svr, ntohs(a[MOS_SIDE_SVR].sin_port));
    fflush(stdout);
    g_flows++;
}

static void on_signal(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    union monitor_filter ft = { 0 };
    mctx_t m;
    int opt, s, zero = 0;

    while ((opt = getopt(argc, argv, "f:")) != -1) {
        if (opt != 'f') {
            fprintf(stderr, "usage: %s [-f mtcp.conf] 'tcpdump expression'\n", argv[0]);
            return 2;
        }
        conf = optarg;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: %s [-f mtcp.conf] 'tcpdump expression'\n", argv[0]);
        return 2;
    }
    ft.stream_syn_filter = argv[optind];
    if (mtcp_init(conf) != 0 || (m = mtcp_create_context(0)) == NULL) {
        perror("mtcp_init");
        return 1;
    }
    mtcp_register_signal(SIGTERM, on_signal);
    mtcp_register_signal(SIGINT, on_signal);
    s = mtcp_socket(m, AF_INET, MOS_SOCK_MONITOR_STREAM, 0);
    /* the flows the filter names: every frame, either way, is dropped (the
     * SYN at its sender's hook, everything after at both) */
    if (s < 0 || mtcp_setsockopt(m, s, SOL_MONSOCKET, MOS_CLIBUF, &zero, sizeof(zero)) != 0 ||
        mtcp_setsockopt(m, s, SOL_MONSOCKET, MOS_SVRBUF, &zero, sizeof(zero)) != 0 ||
        mtcp_bind_monitor_filter(m, s, &ft) != 0 ||
        mtcp_register_callback(m, s, MOS_ON_CONN_START, MOS_HK_SND, on_start) != 0 ||
        mtcp_register_callback(m, s, MOS_ON_PKT_IN, MOS_HK_SND, drop) != 0) {
        perror("firewall setup");
        return 1;
    }
    printf("firewall: blocking '%s'\n", argv[optind]);
    fflush(stdout);
    mtcp_app_join(m);
    printf("firewall: %lu flows blocked, %lu frames dropped\n", g_flows, g_frames);
    fflush(stdout);
    mtcp_destroy();
    return 0;
}
