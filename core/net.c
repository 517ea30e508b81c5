/*
 * net.c - starting and stopping this process's network stack (see net.h).
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include <sluice/stats.h>

#include "engine.h"
#include "log.h"
#include "export.h"
#include "netdev.h"
#include "observe.h"
#include "runtime.h"
#include "stack.h"
#include "tcp.h"

static struct stack *g_stack;
static struct netdev_capture *g_capture; /* the device's capture point */
static uint32_t g_addr;                  /* the stack's address, network order */
/* The fault injector counts here: it wraps the device before the stack
 * (and its counters) exists. Merged into what stack counters report. In
 * DPDK's heap, so that every process of a family counts in one place. */
static struct stack_counters *g_fault_ctr;

static int poll_stack(void *ctx, uint64_t now_ns)
{
    observe_poll(ctx); /* a request of sluice-stat's, answered between passes */
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

static int open_device(struct netdev **dev)
{
    const struct sluice_config *cfg = &g_rt.cfg;
    struct netdev_dpdk_params dp = {
        .devargs = cfg->net_devargs,
        .mtu = (uint16_t)cfg->net_mtu,
        .link_timeout_ns = (uint64_t)cfg->net_link_timeout_ms * 1000000u,
    };
    char err[256];
    int rc = netdev_dpdk_open(&dp, g_rt.pool, dev, err, sizeof(err));

    if (rc)
        SLOG_ERR("network device: %s", err);
    return rc;
}

struct stack *net_stack(void)
{
    struct stack_params p;
    struct netdev *dev;
    int rc;

    if (g_stack != NULL)
        return g_stack;
    if (monitor_running()) {
        SLOG_ERR("network stack: a monitor runs (mon.mode); one engine serves one of them");
        errno = ENETDOWN;
        return NULL;
    }
    if (net_params_from_config(&g_rt.cfg, &p) != 0 || open_device(&dev) != 0) {
        errno = ENETDOWN;
        return NULL;
    }
    /* the capture sits at the device (what the wire carries), under the
     * fault injector */
    rc = netdev_capture_wrap(dev, &dev, &g_capture);
    if (rc) {
        SLOG_ERR("network device: no capture point: %s", strerror(-rc));
        netdev_close(dev);
        errno = ENETDOWN;
        return NULL;
    }
    if (net_wrap_faults(&dev) != 0) {
        netdev_close(dev);
        g_capture = NULL;
        errno = ENETDOWN;
        return NULL;
    }
    rc = stack_create(&p, dev, g_rt.pool, engine_now_ns(), &g_stack);
    if (rc) {
        SLOG_ERR("network stack did not start: %s (check net.addr, net.netmask, net.gateway)", strerror(-rc));
        netdev_close(dev);
        g_capture = NULL;
        errno = ENETDOWN;
        return NULL;
    }
    g_addr = p.addr;
    engine_set_poll_hook(poll_stack, g_stack);
    if (g_rt.cfg.net_pcap[0] != '\0')
        observe_capture_file(g_rt.cfg.net_pcap); /* a failure is logged; the network runs */
    SLOG_INFO("network up on %s", g_rt.cfg.net_devargs);
    return g_stack;
}

/* The stack's counters with the fault injector's merged in. */
static void all_counters(const struct stack *s, struct stack_counters *c)
{
    stack_counters(s, c);
    c->fault_dropped = g_fault_ctr != NULL ? g_fault_ctr->fault_dropped : 0;
    c->fault_duplicated = g_fault_ctr != NULL ? g_fault_ctr->fault_duplicated : 0;
    c->fault_reordered = g_fault_ctr != NULL ? g_fault_ctr->fault_reordered : 0;
    c->fault_corrupted = g_fault_ctr != NULL ? g_fault_ctr->fault_corrupted : 0;
    c->fault_delayed = g_fault_ctr != NULL ? g_fault_ctr->fault_delayed : 0;
}

/* sluice_stats: documented in <sluice/stats.h>. */
SLUICE_API int sluice_stats(const char **names, uint64_t *values, int max, int *count_out)
{
    struct stack_counters c;
    const uint64_t *v = (const uint64_t *)&c;

    if (runtime_check() != 0)
        return ENOSYS;
    if (g_stack == NULL)
        return ENETDOWN;
    if (count_out == NULL || max < 0 || (max > 0 && (names == NULL || values == NULL)))
        return EINVAL;
    all_counters(g_stack, &c);
    for (int i = 0; i < max && (size_t)i < STACK_COUNTER_COUNT; i++) {
        names[i] = stack_counter_names[i];
        values[i] = v[i];
    }
    *count_out = (int)STACK_COUNTER_COUNT;
    return 0;
}

static void log_counters(const struct stack *s)
{
    struct stack_counters c;
    const uint64_t *v = (const uint64_t *)&c;

    if (sluice_log_get_level() < SLUICE_LOG_INFO)
        return;
    all_counters(s, &c);
    for (size_t i = 0; i < STACK_COUNTER_COUNT; i++)
        if (v[i] != 0)
            SLOG_INFO("counter %s %llu", stack_counter_names[i], (unsigned long long)v[i]);
}

void net_stop(void)
{
    if (g_stack == NULL)
        return;
    engine_set_poll_hook(NULL, NULL);
    log_counters(g_stack);
    stack_destroy(g_stack); /* closes the device: a capture's file is complete */
    g_stack = NULL;
    g_capture = NULL;
}

struct netdev_capture *net_capture(void)
{
    return g_capture;
}

uint32_t net_addr(void)
{
    return g_addr;
}
