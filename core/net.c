/*
 * net.c - starting and stopping this process's network stack (see net.h).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_malloc.h>

#include <sluice/stats.h>

#include "engine.h"
#include <sluice/engine.h>
#include "log.h"
#include "export.h"
#include "netdev.h"
#include "observe.h"
#include "runtime.h"
#include "stack.h"
#include "steer.h"
#include "tcp.h"

/* Queue pair 0 of the device (engine 0's, under its capture and fault
 * wrappers): the other engines' queue pairs are made from it. */
static struct netdev *g_port;
static uint32_t g_addr;                  /* the stack's address, network order */
/* Starting a stack: engine 0's may be started by a thread starting
 * another engine while engine 0's users start it too. */
static pthread_mutex_t start_mu = PTHREAD_MUTEX_INITIALIZER;
/* The fault injector counts here: it wraps the device before the stack
 * (and its counters) exists. Merged into what stack counters report. In
 * DPDK's heap, so that every process of a family counts in one place. */
static struct stack_counters *g_fault_ctr;

static int poll_stack(void *ctx, uint64_t now_ns)
{
    observe_poll(ctx); /* a request of sluice-stat's, answered between passes */
    return stack_poll(ctx, now_ns);
}

/* Another engine's pass: sluice-stat's requests are engine 0's. */
static int poll_engine_stack(void *ctx, uint64_t now_ns)
{
    return stack_poll(ctx, now_ns);
}

/* One "a.b.c.d=xx:xx:xx:xx:xx:xx" entry of net.arp_static. */
static int parse_arp_entry(const char *tok, struct stack_params *p)
{
    char ip[32];
    unsigned b[6];
    struct in_addr a;
    int n = 0;

    if (p->arp_nstatic == STACK_ARP_STATIC_MAX)
        return -1;
    if (sscanf(tok, "%31[0-9.]=%2x:%2x:%2x:%2x:%2x:%2x%n", ip, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) != 7 ||
        tok[n] != '\0' || inet_pton(AF_INET, ip, &a) != 1)
        return -1;
    p->arp_static[p->arp_nstatic].addr = a.s_addr;
    for (int i = 0; i < 6; i++)
        p->arp_static[p->arp_nstatic].mac.addr_bytes[i] = (uint8_t)b[i];
    p->arp_nstatic++;
    return 0;
}

/* The tcp.* keys into p (units: config ms -> ns). 0, or -EINVAL with a
 * log line for an unknown tcp.cc or rto_max below rto_min. */
static int tcp_params_from_config(const struct sluice_config *cfg, struct tcp_params *p)
{
    const uint64_t ms = 1000000ull;

    if (strcmp(cfg->tcp_cc, "cubic") == 0) {
        p->cc_algo = TCP_CC_CUBIC;
    } else if (strcmp(cfg->tcp_cc, "newreno") == 0 || strcmp(cfg->tcp_cc, "reno") == 0) {
        p->cc_algo = TCP_CC_NEWRENO;
    } else {
        SLOG_ERR("key 'tcp.cc': expected cubic or newreno, got '%s'", cfg->tcp_cc);
        return -EINVAL;
    }
    if (cfg->tcp_rto_max_ms < cfg->tcp_rto_min_ms) {
        SLOG_ERR("key 'tcp.rto_max_ms': %u is below tcp.rto_min_ms (%u)", cfg->tcp_rto_max_ms, cfg->tcp_rto_min_ms);
        return -EINVAL;
    }
    p->rto_min_ns = cfg->tcp_rto_min_ms * ms;
    p->rto_max_ns = cfg->tcp_rto_max_ms * ms;
    p->msl_ns = cfg->tcp_msl_ms * ms;
    p->delack_ns = cfg->tcp_delack_ms * ms;
    p->sndbuf = cfg->tcp_sndbuf;
    p->rcvbuf = cfg->tcp_rcvbuf;
    p->rcvbuf_max = cfg->tcp_rcvbuf_max > cfg->tcp_rcvbuf ? cfg->tcp_rcvbuf_max : cfg->tcp_rcvbuf;
    p->max_conns = cfg->tcp_max_conns;
    p->backlog_max = cfg->tcp_backlog_max;
    p->syn_retries = cfg->tcp_syn_retries;
    p->synack_retries = cfg->tcp_synack_retries;
    p->retries = cfg->tcp_retries;
    p->ooo_max_segs = cfg->tcp_ooo_max_segs;
    p->sack = cfg->tcp_sack != 0;
    p->timestamps = cfg->tcp_timestamps != 0;
    p->wscale = cfg->tcp_wscale != 0;
    p->syncookies = cfg->tcp_syncookies != 0;
    return 0;
}

int net_params_from_config(const struct sluice_config *cfg, struct stack_params *p)
{
    char list[sizeof(cfg->net_arp_static)], *save = NULL;

    stack_params_defaults(p);
    p->addr = cfg->net_addr;
    p->netmask = cfg->net_netmask;
    p->gateway = cfg->net_gateway;
    if (tcp_params_from_config(cfg, &p->tcp) != 0)
        return -EINVAL;
    snprintf(list, sizeof(list), "%s", cfg->net_arp_static);
    for (char *tok = strtok_r(list, " ,", &save); tok != NULL; tok = strtok_r(NULL, " ,", &save)) {
        if (parse_arp_entry(tok, p) != 0) {
            SLOG_ERR("key 'net.arp_static': expected up to %d entries a.b.c.d=xx:xx:xx:xx:xx:xx, got '%s'",
                     STACK_ARP_STATIC_MAX, tok);
            return -EINVAL;
        }
    }
    return 0;
}

static bool faults_wanted(const struct sluice_config *c)
{
    return (c->fault_rx_loss_ppm | c->fault_rx_duplicate_ppm | c->fault_rx_reorder_ppm | c->fault_rx_corrupt_ppm |
            c->fault_rx_delay_us | c->fault_tx_loss_ppm | c->fault_tx_duplicate_ppm | c->fault_tx_reorder_ppm |
            c->fault_tx_corrupt_ppm | c->fault_tx_delay_us) != 0;
}

/* net_wrap_faults: see net.h. */
int net_wrap_faults(struct netdev **dev)
{
    const struct sluice_config *c = &g_rt.cfg;
    struct fault_params fp = {
        .rx = {c->fault_rx_loss_ppm, c->fault_rx_duplicate_ppm, c->fault_rx_reorder_ppm, c->fault_rx_corrupt_ppm,
               (uint64_t)c->fault_rx_delay_us * 1000u},
        .tx = {c->fault_tx_loss_ppm, c->fault_tx_duplicate_ppm, c->fault_tx_reorder_ppm, c->fault_tx_corrupt_ppm,
               (uint64_t)c->fault_tx_delay_us * 1000u},
        .seed = c->fault_seed,
    };
    struct netdev *wrapped;
    int rc;

    if (!faults_wanted(c))
        return 0;
    if (g_fault_ctr == NULL && (g_fault_ctr = rte_zmalloc("sluice_fault_ctr", sizeof(*g_fault_ctr), 0)) == NULL)
        return -ENOMEM;
    rc = netdev_fault_wrap(*dev, &fp, g_fault_ctr, &wrapped);
    if (rc) {
        SLOG_ERR("fault injector: %s", strerror(-rc));
        return rc;
    }
    SLOG_WARN("fault injector on (seed %u): frames will be lost, duplicated, reordered, corrupted or delayed",
              (unsigned)c->fault_seed);
    *dev = wrapped;
    return 0;
}

/* net_af_xdp takes one queue of its interface per port where the kernel
 * reports no combined channels (a veth: DPDK 22.11 then caps queue_count
 * at 1): there each engine opens a port of its own. */
static bool port_per_queue(const char *devargs)
{
    return strncmp(devargs, "net_af_xdp", 10) == 0;
}

int net_queue_devargs(const char *devargs, unsigned engine_id, char *out, size_t cap)
{
    char copy[sizeof(g_rt.cfg.net_devargs)], *save = NULL, *tok;
    unsigned start = 0;
    size_t len;
    int n;

    if (devargs == NULL || out == NULL || strlen(devargs) >= sizeof(copy) || !port_per_queue(devargs))
        return -EINVAL;
    snprintf(copy, sizeof(copy), "%s", devargs);
    tok = strtok_r(copy, ",", &save); /* the device name: ours is net_af_xdp<engine> */
    len = (size_t)snprintf(out, cap, "net_af_xdp%u", engine_id);
    while ((tok = strtok_r(NULL, ",", &save)) != NULL && len < cap) {
        unsigned v;
        if (sscanf(tok, "start_queue=%u%n", &v, &n) == 1 && tok[n] == '\0') {
            start = v;
            continue;
        }
        if (strncmp(tok, "queue_count=", 12) == 0)
            continue;
        len += (size_t)snprintf(out + len, cap - len, ",%s", tok);
    }
    if (len < cap)
        len += (size_t)snprintf(out + len, cap - len, ",start_queue=%u,queue_count=1", start + engine_id);
    return len < cap ? 0 : -ENAMETOOLONG;
}

/* An AF_XDP socket reads one queue of its interface: frames the kernel
 * puts on a queue no engine has are lost (the XDP program passes them to
 * the host's stack, which has no address there). Says so, once. */
static void warn_unread_queues(const char *devargs, unsigned engines)
{
    char iface[64] = "", path[128];
    const char *p = strstr(devargs, "iface=");
    unsigned n = 0;

    if (!port_per_queue(devargs) || p == NULL)
        return;
    snprintf(iface, sizeof(iface), "%s", p + 6);
    iface[strcspn(iface, ",")] = '\0';
    for (;; n++) {
        snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%u", iface, n);
        if (access(path, F_OK) != 0)
            break;
    }
    if (n > engines)
        SLOG_WARN("%s has %u Rx queues and net.queues is %u: frames the peer puts on queues %u..%u are not "
                  "received; set net.queues (SLUICE_NET_QUEUES) to %u, or give the interface %u queue%s",
                  iface, n, engines, engines, n - 1, n, engines, engines > 1 ? "s" : "");
}

bool net_bpffs_missing(const char *devargs, const char *mnt)
{
    struct statfs st;

    if (devargs == NULL || !port_per_queue(devargs))
        return false;
    if (mnt != NULL && statfs(mnt, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC)
        return false;
    SLOG_WARN("net_af_xdp: no bpffs at %s: libxdp cannot pin its XDP dispatcher there and falls back to one "
              "program on the interface; mount it: mount -t bpf bpf %s (scripts/net.sh does)",
              mnt != NULL ? mnt : "(none)", mnt != NULL ? mnt : "/sys/fs/bpf");
    return true;
}

/* The device of engine engine_id: the configured one (net.queues queue
 * pairs), or for a device that takes one queue per port, that engine's
 * queue as a port of its own. */
static int open_device(unsigned engine_id, struct netdev **dev)
{
    const struct sluice_config *cfg = &g_rt.cfg;
    char devargs[sizeof(cfg->net_devargs) + 64];
    struct netdev_dpdk_params dp = {
        .devargs = cfg->net_devargs,
        .mtu = (uint16_t)cfg->net_mtu,
        .link_timeout_ns = (uint64_t)cfg->net_link_timeout_ms * 1000000u,
        .nb_queues = (uint16_t)cfg->net_queues,
    };
    char err[256];
    int rc;

    if (port_per_queue(cfg->net_devargs) && cfg->net_queues > 1) {
        if (net_queue_devargs(cfg->net_devargs, engine_id, devargs, sizeof(devargs)) != 0) {
            SLOG_ERR("network device: net.devargs '%s' is too long for engine %u's queue", cfg->net_devargs,
                     engine_id);
            return -EINVAL;
        }
        dp.devargs = devargs;
        dp.nb_queues = 1;
    }
    rc = netdev_dpdk_open(&dp, g_rt.pool, dev, err, sizeof(err));
    if (rc)
        SLOG_ERR("network device%s: %s", engine_id ? " of an engine" : "", err);
    return rc;
}

/* Engine 0's stack: opens the device (net.queues queue pairs), puts the
 * capture point and the fault injector in front of queue pair 0. */
static int start_port_stack(struct engine *e, struct stack_params *p)
{
    struct netdev *dev;
    int rc;

    if (monitor_running()) {
        SLOG_ERR("network stack: a monitor runs (mon.mode); one engine serves one of them");
        return -ENETDOWN;
    }
    if (open_device(0, &dev) != 0)
        return -ENETDOWN;
    warn_unread_queues(g_rt.cfg.net_devargs, g_rt.cfg.net_queues);
    net_bpffs_missing(g_rt.cfg.net_devargs, "/sys/fs/bpf");
    g_port = dev;
    /* the capture sits at the device (what the wire carries), under the
     * fault injector */
    rc = netdev_capture_wrap(dev, &dev, &e->capture);
    if (rc) {
        SLOG_ERR("network device: no capture point: %s", strerror(-rc));
        netdev_close(dev);
        g_port = NULL;
        return -ENETDOWN;
    }
    rc = net_wrap_faults(&dev) != 0 ? -ENETDOWN : stack_create(p, dev, g_rt.pool, engine_now_ns(), &e->stack);
    if (rc) {
        if (rc != -ENETDOWN)
            SLOG_ERR("network stack did not start: %s (check net.addr, net.netmask, net.gateway)", strerror(-rc));
        netdev_close(dev);
        e->capture = NULL;
        g_port = NULL;
        return -ENETDOWN;
    }
    if (steer_attach(e) != 0)
        SLOG_WARN("engine 0: no steering ring (out of memory): frames another engine gets for it are answered there");
    engine_set_poll_hook(poll_stack, e->stack);
    if (g_rt.cfg.net_pcap[0] != '\0')
        observe_capture_file(g_rt.cfg.net_pcap); /* a failure is logged; the network runs */
    SLOG_INFO("network up on %s (%u queue pair%s)", g_rt.cfg.net_devargs, (unsigned)g_rt.cfg.net_queues,
              g_rt.cfg.net_queues > 1 ? "s" : "");
    return 0;
}

/* Engine e's stack (e->id > 0) on queue pair e->id of the device engine 0
 * opened, with the fault injector when configured (no capture point:
 * captures are of queue pair 0). */
static int start_queue_stack(struct engine *e, struct stack_params *p)
{
    struct netdev *dev;
    int rc;

    if (port_per_queue(g_rt.cfg.net_devargs)) {
        if (open_device(e->id, &dev) != 0)
            return -ENETDOWN;
    } else if ((rc = g_port != NULL ? netdev_dpdk_queue(g_port, (uint16_t)e->id, &dev) : -ENETDOWN) != 0) {
        SLOG_ERR("engine %u: no queue pair %u on %s: %s", e->id, e->id, g_rt.cfg.net_devargs, strerror(-rc));
        return -ENETDOWN;
    }
    rc = net_wrap_faults(&dev) != 0 ? -ENETDOWN : stack_create(p, dev, g_rt.pool, engine_now_ns(), &e->stack);
    if (rc) {
        if (rc != -ENETDOWN)
            SLOG_ERR("engine %u: stack did not start: %s", e->id, strerror(-rc));
        netdev_close(dev);
        return -ENETDOWN;
    }
    if (steer_attach(e) != 0)
        SLOG_WARN("engine %u: no steering ring (out of memory): frames another engine gets for it are answered there",
                  e->id);
    engine_set_poll_hook(poll_engine_stack, e->stack);
    SLOG_INFO("engine %u up on queue pair %u of %s", e->id, e->id, g_rt.cfg.net_devargs);
    return 0;
}

struct stack *net_stack(void)
{
    struct engine *e = engine_cur();
    struct stack_params p;
    int rc;

    if (e->stack != NULL)
        return e->stack;
    if (net_params_from_config(&g_rt.cfg, &p) != 0) {
        errno = ENETDOWN;
        return NULL;
    }
    /* each engine's own share of the ephemeral ports (same address) */
    p.eph_stride = (uint16_t)g_rt.cfg.net_queues;
    p.eph_offset = (uint16_t)e->id;
    pthread_mutex_lock(&start_mu);
    rc = e->stack != NULL ? 0 : e->id == 0 ? start_port_stack(e, &p) : start_queue_stack(e, &p);
    pthread_mutex_unlock(&start_mu);
    if (rc) {
        errno = -rc;
        return NULL;
    }
    g_addr = p.addr;
    return e->stack;
}

/* The stack's counters (s NULL: *c as it is) with the fault injector's
 * merged in. */
static void all_counters(const struct stack *s, struct stack_counters *c)
{
    if (s != NULL)
        stack_counters(s, c);
    c->fault_dropped = g_fault_ctr != NULL ? g_fault_ctr->fault_dropped : 0;
    c->fault_duplicated = g_fault_ctr != NULL ? g_fault_ctr->fault_duplicated : 0;
    c->fault_reordered = g_fault_ctr != NULL ? g_fault_ctr->fault_reordered : 0;
    c->fault_corrupted = g_fault_ctr != NULL ? g_fault_ctr->fault_corrupted : 0;
    c->fault_delayed = g_fault_ctr != NULL ? g_fault_ctr->fault_delayed : 0;
}

/* The counters of every engine's stack, summed (the fault injector's
 * are one set for all). false when no stack runs. */
static bool sum_counters(struct stack_counters *sum)
{
    uint64_t *t = (uint64_t *)sum;
    bool any = false;

    memset(sum, 0, sizeof(*sum));
    engine_lock(); /* no engine's stack goes away meanwhile */
    for (unsigned id = 0; id < ENGINE_MAX; id++) {
        struct engine *e = engine_get(id);
        struct stack_counters c;
        const uint64_t *v = (const uint64_t *)&c;
        if (e == NULL || e->stack == NULL)
            continue;
        stack_counters(e->stack, &c);
        for (size_t i = 0; i < STACK_COUNTER_COUNT; i++)
            t[i] += v[i];
        any = true;
    }
    engine_unlock();
    all_counters(NULL, sum);
    return any;
}

static int copy_counters(const struct stack_counters *c, const char **names, uint64_t *values, int max,
                         int *count_out)
{
    const uint64_t *v = (const uint64_t *)c;

    if (count_out == NULL || max < 0 || (max > 0 && (names == NULL || values == NULL)))
        return EINVAL;
    for (int i = 0; i < max && (size_t)i < STACK_COUNTER_COUNT; i++) {
        names[i] = stack_counter_names[i];
        values[i] = v[i];
    }
    *count_out = (int)STACK_COUNTER_COUNT;
    return 0;
}

/* sluice_stats: documented in <sluice/stats.h>. */
SLUICE_API int sluice_stats(const char **names, uint64_t *values, int max, int *count_out)
{
    struct stack_counters c;

    if (runtime_check() != 0)
        return ENOSYS;
    if (!sum_counters(&c))
        return ENETDOWN;
    return copy_counters(&c, names, values, max, count_out);
}

/* sluice_engine_stats: documented in <sluice/engine.h>. */
SLUICE_API int sluice_engine_stats(int engine, const char **names, uint64_t *values, int max, int *count_out)
{
    struct stack_counters c;
    struct engine *e;

    if (runtime_check() != 0)
        return ENOSYS;
    engine_lock(); /* the engine's stack does not go away meanwhile */
    e = engine >= 0 ? engine_get((unsigned)engine) : NULL;
    if (e != NULL && e->stack != NULL)
        stack_counters(e->stack, &c);
    engine_unlock();
    if (e == NULL || e->stack == NULL)
        return ENOENT;
    return copy_counters(&c, names, values, max, count_out);
}

static void log_counters(const struct stack *s, unsigned engine_id)
{
    struct stack_counters c;
    const uint64_t *v = (const uint64_t *)&c;

    if (sluice_log_get_level() < SLUICE_LOG_INFO)
        return;
    all_counters(s, &c);
    for (size_t i = 0; i < STACK_COUNTER_COUNT; i++)
        if (v[i] != 0)
            SLOG_INFO("engine %u counter %s %llu", engine_id, stack_counter_names[i], (unsigned long long)v[i]);
}

void net_stop(void)
{
    struct engine *e = engine_cur();

    if (e->stack == NULL)
        return;
    engine_set_poll_hook(NULL, NULL);
    steer_detach(e);
    log_counters(e->stack, e->id);
    stack_destroy(e->stack); /* closes its queue pair; engine 0's the device: a capture's file is complete */
    e->stack = NULL;
    e->capture = NULL;
    if (e->id == 0)
        g_port = NULL;
}

struct netdev_capture *net_capture(void)
{
    struct engine *e = engine_get(0);

    return e != NULL ? e->capture : NULL;
}

uint32_t net_addr(void)
{
    return g_addr;
}
