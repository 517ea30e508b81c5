/*
 * observe.c - a running Sluice process seen from outside (see observe.h):
 * DPDK telemetry commands that tools/sluice-stat (or any telemetry client)
 * sends, and packet capture to a pcapng file.
 *
 * Threads: DPDK's telemetry thread runs the command callbacks; the stack
 * belongs to whichever thread drives the engine. Counters are read as they
 * are (aligned 64-bit words: each value is whole, the set is not one
 * instant). Everything else - the connection, UDP and ARP tables, starting
 * and stopping a capture - is a request the callback leaves here and the
 * engine answers between two passes (observe_poll, from engine_poll_once),
 * so the stack is never touched by two threads. A process that does not
 * drive its engine for OBSERVE_WAIT_NS (busy elsewhere, stopped) gets the
 * answer "busy". Nothing here runs on the data path but one load of an
 * atomic per engine pass.
 *
 * Command replies are JSON built with rte_tel_data; a table is paged
 * (PAGE_ROWS rows of u64 per reply: DPDK caps a reply at 16 KiB, and its
 * containers nest one level), each page {"total", "start", "count",
 * "fields": [...], "r0": [...], "r1": [...], ...}.
 */
#define ALLOW_EXPERIMENTAL_API
#include "observe.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include <sluice/stats.h>

#include "engine.h"
#include "log.h"
#include "net.h"
#include "netdev.h"
#include "runtime.h"
#include "stack.h"
#include "tcp.h"

#define OBSERVE_WAIT_NS 1000000000ull
#define PAGE_ROWS 48
#define SNAPLEN 65535u

enum req_kind { REQ_NONE, REQ_TCP, REQ_UDP, REQ_ARP, REQ_CAPTURE_START, REQ_CAPTURE_STOP };

/* One table page as the engine fills it. */
#define ROW_FIELDS_MAX 20
struct page {
    unsigned total, nrows, nfields;
    const char *const *fields;
    uint64_t rows[PAGE_ROWS][ROW_FIELDS_MAX];
};

/* One request at a time, from asking to reading the answer: req_mu alone
 * is released while the asker waits, and a second client's request would
 * overwrite the page before the first one read it (telemetry serves each
 * client in a thread of its own). */
static pthread_mutex_t ask_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t req_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cv;
static int req_pending;          /* atomic: the engine has something to answer */
static enum req_kind req_kind;
static unsigned req_start;       /* first row wanted */
static bool req_done;
static int req_err;              /* 0 or an errno, for the callback */
static struct page req_page;
/* capture start parameters, from the callback to the engine */
static int cap_fd = -1;
static uint64_t cap_until_ns;
static struct bpf_program cap_prog;
static bool cap_has_filter;

static char prog_name[64];
static char cap_file[256];
static bool started;

/* ---- the engine's side ---- */

struct fill {
    struct page *p;
    unsigned index, start;
};

static bool page_full(struct fill *f)
{
    return f->p->nrows == PAGE_ROWS;
}

/* Counts row index; true when it belongs on the page (its slot is *row). */
static bool page_take(struct fill *f, uint64_t **row)
{
    unsigned i = f->index++;

    f->p->total++;
    if (i < f->start || page_full(f))
        return false;
    *row = f->p->rows[f->p->nrows++];
    return true;
}

static const char *const tcp_fields[] = {"state", "laddr", "lport", "raddr", "rport", "rcv_queue", "snd_queue",
                                         "accept_queue", "backlog", "cwnd", "ssthresh", "srtt_us", "rttvar_us",
                                         "rto_ms", "retrans", "bytes_sent", "bytes_acked", "bytes_received",
                                         "segs_in", "segs_out"};

static void tcp_row(const struct tcp_conn *c, void *ctx)
{
    struct fill *f = ctx;
    struct tcp_conn_stats st;
    rte_be32_t la, ra = 0;
    rte_be16_t lp, rp = 0;
    unsigned backlog = 0, queued;
    uint64_t *r;

    if (!page_take(f, &r))
        return;
    tcp_conn_stats(c, &st);
    tcp_local(c, &la, &lp);
    tcp_peer(c, &ra, &rp);
    queued = tcp_listen_queue(c, &backlog);
    uint64_t v[] = {(uint64_t)st.state, la, rte_be_to_cpu_16(lp), ra, rte_be_to_cpu_16(rp), tcp_recv_avail(c),
                    tcp_send_buffered(c), queued, backlog, st.cwnd, st.ssthresh, st.srtt_ns / 1000,
                    st.rttvar_ns / 1000, st.rto_ns / 1000000, st.retransmits, st.bytes_sent, st.bytes_acked,
                    st.bytes_received, st.segs_in, st.segs_out};
    memcpy(r, v, sizeof(v));
}

static const char *const udp_fields[] = {"laddr", "lport", "raddr", "rport", "rcv_queue", "drops"};

static void udp_row(const struct udp_sock *u, void *ctx)
{
    struct fill *f = ctx;
    rte_be32_t la, ra = 0;
    rte_be16_t lp, rp = 0;
    uint64_t *r;

    if (!page_take(f, &r))
        return;
    udp_local(u, &la, &lp);
    udp_peer(u, &ra, &rp);
    uint64_t v[] = {la, rte_be_to_cpu_16(lp), ra, rte_be_to_cpu_16(rp), udp_recv_queued(u), udp_drops(u)};
    memcpy(r, v, sizeof(v));
}

static const char *const arp_fields[] = {"addr", "mac", "state"};

static void arp_row(rte_be32_t addr, const struct rte_ether_addr *mac, int state, void *ctx)
{
    struct fill *f = ctx;
    uint64_t *r, m = 0;

    if (!page_take(f, &r))
        return;
    for (int i = 0; i < 6; i++)
        m |= (uint64_t)mac->addr_bytes[i] << (8 * i);
    r[0] = addr;
    r[1] = m;
    r[2] = (uint64_t)state;
}

/* Starts or stops the capture as asked (engine thread). */
static int capture_apply(enum req_kind k)
{
    struct netdev_capture *cap = net_capture();

    if (cap == NULL)
        return ENODEV;
    if (k == REQ_CAPTURE_STOP) {
        netdev_capture_stop(cap);
        return 0;
    }
    int rc = -netdev_capture_start(cap, cap_fd, cap_has_filter ? observe_filter_match : NULL,
                                   cap_has_filter ? &cap_prog : NULL, cap_until_ns, prog_name);
    cap_fd = -1; /* the capture owns it now, or closed it */
    return rc;
}

static void answer(struct stack *s)
{
    struct fill f = {.p = &req_page, .start = req_start};

    memset(&req_page, 0, offsetof(struct page, rows));
    req_err = 0;
    switch (req_kind) {
    case REQ_TCP:
        req_page.fields = tcp_fields;
        req_page.nfields = RTE_DIM(tcp_fields);
        stack_tcp_foreach(s, tcp_row, &f);
        break;
    case REQ_UDP:
        req_page.fields = udp_fields;
        req_page.nfields = RTE_DIM(udp_fields);
        stack_udp_foreach(s, udp_row, &f);
        break;
    case REQ_ARP:
        req_page.fields = arp_fields;
        req_page.nfields = RTE_DIM(arp_fields);
        stack_arp_foreach(s, arp_row, &f);
        break;
    case REQ_CAPTURE_START:
    case REQ_CAPTURE_STOP:
        req_err = capture_apply(req_kind);
        break;
    case REQ_NONE:
        break;
    }
}

void observe_poll(struct stack *s)
{
    if (!__atomic_load_n(&req_pending, __ATOMIC_ACQUIRE))
        return;
    pthread_mutex_lock(&req_mu);
    if (req_pending && !req_done) {
        answer(s);
        req_done = true;
        __atomic_store_n(&req_pending, 0, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&req_cv);
    }
    pthread_mutex_unlock(&req_mu);
}

/* ---- the telemetry thread's side ---- */

/* Leaves a request for the engine and waits for its answer (req_mu held).
 * 0, or ETIMEDOUT when the engine did not run meanwhile. */
static int ask_engine(enum req_kind k, unsigned start)
{
    struct timespec until;

    req_kind = k;
    req_start = start;
    req_done = false;
    __atomic_store_n(&req_pending, 1, __ATOMIC_RELEASE);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(OBSERVE_WAIT_NS / 1000000000ull);
    while (!req_done)
        if (pthread_cond_timedwait(&req_cv, &req_mu, &until) == ETIMEDOUT)
            break;
    if (!req_done) {
        __atomic_store_n(&req_pending, 0, __ATOMIC_RELEASE);
        return ETIMEDOUT;
    }
    return 0;
}

static int reply_error(struct rte_tel_data *d, const char *msg)
{
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "error", msg);
    return 0;
}

static int cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
    char addr[32];
    rte_be32_t a = net_addr();

    (void)cmd;
    (void)params;
    snprintf(addr, sizeof(addr), "%u.%u.%u.%u", a & 0xff, (a >> 8) & 0xff, (a >> 16) & 0xff, a >> 24);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_int(d, "pid", (int)getpid());
    rte_tel_data_add_dict_string(d, "program", prog_name);
    rte_tel_data_add_dict_string(d, "device", g_rt.cfg.net_devargs);
    rte_tel_data_add_dict_string(d, "address", addr);
    rte_tel_data_add_dict_int(d, "engines", 1);
    rte_tel_data_add_dict_string(d, "capture", cap_file[0] != '\0' ? cap_file : "off");
    return 0;
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
    const char *names[RTE_TEL_MAX_DICT_ENTRIES];
    uint64_t values[RTE_TEL_MAX_DICT_ENTRIES];
    int n = 0;

    (void)cmd;
    (void)params;
    if (sluice_stats(names, values, RTE_TEL_MAX_DICT_ENTRIES, &n) != 0)
        return reply_error(d, "the network is not up yet (it starts at the first socket)");
    rte_tel_data_start_dict(d);
    for (int i = 0; i < n && i < RTE_TEL_MAX_DICT_ENTRIES; i++)
        rte_tel_data_add_dict_u64(d, names[i], values[i]);
    return 0;
}

/* A page of table k from row params (a decimal number, default 0);
 * ask_mu held. */
static int table_page(enum req_kind k, const char *params, struct rte_tel_data *d)
{
    unsigned long start = params != NULL && *params != '\0' ? strtoul(params, NULL, 10) : 0;
    struct rte_tel_data *fields;
    int rc;

    pthread_mutex_lock(&req_mu);
    rc = ask_engine(k, (unsigned)start);
    if (rc != 0) {
        pthread_mutex_unlock(&req_mu);
        return reply_error(d, "busy: the process did not run its network engine for a second");
    }
    fields = rte_tel_data_alloc();
    if (fields == NULL) {
        pthread_mutex_unlock(&req_mu);
        return reply_error(d, "out of memory");
    }
    rte_tel_data_start_array(fields, RTE_TEL_STRING_VAL);
    for (unsigned i = 0; i < req_page.nfields; i++)
        rte_tel_data_add_array_string(fields, req_page.fields[i]);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "total", req_page.total);
    rte_tel_data_add_dict_u64(d, "start", start);
    rte_tel_data_add_dict_u64(d, "count", req_page.nrows);
    rte_tel_data_add_dict_container(d, "fields", fields, 0);
    /* telemetry nests one level only: each row is a key of its own */
    for (unsigned r = 0; r < req_page.nrows; r++) {
        struct rte_tel_data *row = rte_tel_data_alloc();
        char key[16];
        if (row == NULL)
            break;
        rte_tel_data_start_array(row, RTE_TEL_U64_VAL);
        for (unsigned i = 0; i < req_page.nfields; i++)
            rte_tel_data_add_array_u64(row, req_page.rows[r][i]);
        snprintf(key, sizeof(key), "r%u", r);
        rte_tel_data_add_dict_container(d, key, row, 0);
    }
    pthread_mutex_unlock(&req_mu);
    return 0;
}

static int cmd_table(enum req_kind k, const char *params, struct rte_tel_data *d)
{
    pthread_mutex_lock(&ask_mu);
    int rc = table_page(k, params, d);
    pthread_mutex_unlock(&ask_mu);
    return rc;
}

static int cmd_tcp(const char *cmd, const char *params, struct rte_tel_data *d)
{
    (void)cmd;
    return cmd_table(REQ_TCP, params, d);
}

static int cmd_udp(const char *cmd, const char *params, struct rte_tel_data *d)
{
    (void)cmd;
    return cmd_table(REQ_UDP, params, d);
}

static int cmd_arp(const char *cmd, const char *params, struct rte_tel_data *d)
{
    (void)cmd;
    return cmd_table(REQ_ARP, params, d);
}

bool observe_filter_match(const void *frame, uint32_t len, const void *filter)
{
    struct pcap_pkthdr h = {.caplen = len, .len = len};

    return pcap_offline_filter(filter, &h, frame) != 0;
}

/* Compiles a tcpdump expression into cap_prog (libpcap). 0 or a message. */
static const char *compile_filter(const char *expr)
{
    static char err[PCAP_ERRBUF_SIZE + 64];
    pcap_t *p;

    if (cap_has_filter) {
        pcap_freecode(&cap_prog);
        cap_has_filter = false;
    }
    while (*expr == ' ')
        expr++;
    if (*expr == '\0')
        return NULL;
    p = pcap_open_dead(DLT_EN10MB, (int)SNAPLEN);
    if (p == NULL)
        return "libpcap: pcap_open_dead failed";
    if (pcap_compile(p, &cap_prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, sizeof(err), "bad filter: %s", pcap_geterr(p));
        pcap_close(p);
        return err;
    }
    pcap_close(p);
    cap_has_filter = true;
    return NULL;
}

static void capture_status(struct rte_tel_data *d, const char *error)
{
    struct netdev_capture_stats st = {0};
    struct netdev_capture *cap = net_capture();

    if (cap != NULL)
        netdev_capture_stats(cap, &st);
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_string(d, "state", st.on ? "on" : cap_file[0] != '\0' ? "done" : "off");
    rte_tel_data_add_dict_string(d, "file", cap_file);
    rte_tel_data_add_dict_u64(d, "written", st.written_in + st.written_out);
    rte_tel_data_add_dict_u64(d, "written_in", st.written_in);
    rte_tel_data_add_dict_u64(d, "written_out", st.written_out);
    rte_tel_data_add_dict_u64(d, "dev_frames", st.dev_in + st.dev_out);
    rte_tel_data_add_dict_u64(d, "dev_in", st.dev_in);
    rte_tel_data_add_dict_u64(d, "dev_out", st.dev_out);
    rte_tel_data_add_dict_u64(d, "dropped", st.dropped);
    rte_tel_data_add_dict_string(d, "last_error", error != NULL ? error : st.error);
}

/* "start SECONDS FILE [FILTER...]": opens FILE and hands it to the engine. */
static const char *capture_start(const char *params)
{
    static char err[320];
    char file[sizeof(cap_file)];
    unsigned long secs;
    int n = 0, fd;

    struct netdev_capture_stats st = {0};
    if (net_capture() != NULL)
        netdev_capture_stats(net_capture(), &st);
    if (st.on) /* its filter is in use by the engine: never recompiled under it */
        return "a capture is running already: stop it first";
    if (sscanf(params, "start %lu %255s %n", &secs, file, &n) < 2 || secs == 0)
        return "usage: start SECONDS FILE [FILTER]";
    const char *why = compile_filter(params + n);
    if (why != NULL)
        return why;
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, sizeof(err), "%s: %s", file, strerror(errno));
        return err;
    }
    cap_fd = fd;
    cap_until_ns = engine_now_ns() + (uint64_t)secs * 1000000000ull;
    if (ask_engine(REQ_CAPTURE_START, 0) != 0 || req_err != 0) {
        if (cap_fd >= 0)
            close(cap_fd);
        cap_fd = -1;
        snprintf(err, sizeof(err), "not started: %s",
                 req_err != 0 ? strerror(req_err) : "the process did not run its network engine for a second");
        return err;
    }
    snprintf(cap_file, sizeof(cap_file), "%s", file);
    return NULL;
}

static int capture_cmd(const char *params, struct rte_tel_data *d);

static int cmd_capture(const char *cmd, const char *params, struct rte_tel_data *d)
{
    (void)cmd;
    pthread_mutex_lock(&ask_mu);
    int rc = capture_cmd(params, d);
    pthread_mutex_unlock(&ask_mu);
    return rc;
}

/* /sluice/capture's work (ask_mu held). */
static int capture_cmd(const char *params, struct rte_tel_data *d)
{
    const char *why = NULL;

    if (params == NULL)
        params = "status";
    pthread_mutex_lock(&req_mu);
    if (strncmp(params, "start", 5) == 0)
        why = capture_start(params);
    else if (strcmp(params, "stop") == 0 && ask_engine(REQ_CAPTURE_STOP, 0) != 0)
        why = "busy: the process did not run its network engine for a second";
    else if (strcmp(params, "stop") != 0 && strcmp(params, "status") != 0)
        why = "expected start SECONDS FILE [FILTER], stop or status";
    if (why != NULL && strncmp(params, "start", 5) == 0) {
        pthread_mutex_unlock(&req_mu);
        return reply_error(d, why);
    }
    capture_status(d, why);
    pthread_mutex_unlock(&req_mu);
    return 0;
}

static void read_prog_name(void)
{
    FILE *f = fopen("/proc/self/comm", "r");

    if (f == NULL || fgets(prog_name, sizeof(prog_name), f) == NULL)
        snprintf(prog_name, sizeof(prog_name), "?");
    if (f != NULL)
        fclose(f);
    prog_name[strcspn(prog_name, "\n")] = '\0';
}

int observe_start(void)
{
    pthread_condattr_t ca;

    if (started)
        return 0;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&req_cv, &ca);
    pthread_condattr_destroy(&ca);
    read_prog_name();
    if (rte_telemetry_register_cmd("/sluice/info", cmd_info, "Process, device, address, engines, capture") ||
        rte_telemetry_register_cmd("/sluice/stats", cmd_stats, "Counters of the stack") ||
        rte_telemetry_register_cmd("/sluice/tcp", cmd_tcp, "TCP connections and listeners; param: first row") ||
        rte_telemetry_register_cmd("/sluice/udp", cmd_udp, "UDP sockets; param: first row") ||
        rte_telemetry_register_cmd("/sluice/arp", cmd_arp, "ARP cache; param: first row") ||
        rte_telemetry_register_cmd("/sluice/capture", cmd_capture,
                                   "Packet capture: start SECONDS FILE [FILTER] | stop | status")) {
        SLOG_WARN("telemetry commands not registered: sluice-stat will not see this process");
        return -EINVAL;
    }
    started = true;
    return 0;
}

int observe_capture_file(const char *file)
{
    struct netdev_capture *cap = net_capture();
    int fd, rc;

    if (cap == NULL)
        return -ENODEV;
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        SLOG_ERR("pcap: %s: %s", file, strerror(errno));
        return rc;
    }
    rc = netdev_capture_start(cap, fd, NULL, NULL, UINT64_MAX, prog_name);
    if (rc == 0)
        snprintf(cap_file, sizeof(cap_file), "%s", file);
    else
        SLOG_ERR("pcap: %s: capture did not start: %s", file, strerror(-rc));
    return rc;
}
