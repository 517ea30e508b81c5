/*
 * monitor.c - monitor mode (<sluice/monitor.h>): the mon.* keys turned into
 * ports and a bridge of the stack's (stack/mon/mon_bridge.c) on the
 * engine's poll hook. Read before editing: docs/mtcp.md "Monitor sockets".
 *
 * One engine drives one of the two: the network stack (an end point) or a
 * monitor, never both (each owns the poll hook; net_stack refuses while a
 * monitor runs and sluice_mon_start refuses while the stack runs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <sluice/monitor.h>

#include "engine.h"
#include "export.h"
#include "log.h"
#include "mon.h"
#include "net.h"
#include "netdev.h"
#include "runtime.h"

static struct mon_bridge *g_bridge;
static struct netdev *g_dev[2]; /* the bridge's ports (it owns them); [1] NULL passive */
static sluice_mon_fn g_fn;
static void *g_arg;

bool monitor_running(void)
{
    return g_bridge != NULL;
}

/* The bridge's verdict: the frame as the public struct, to the caller's fn. */
static int verdict(void *arg, struct rte_mbuf *m, unsigned port, const struct mon_pkt *pkt)
{
    struct sluice_mon_frame fr = {
        .flow = pkt->flow,
        .sender = pkt->sender,
        .events = pkt->events,
        .state_before = {pkt->state_before[0], pkt->state_before[1]},
        .state_after = {pkt->state_after[0], pkt->state_after[1]},
        .data = m != NULL ? rte_pktmbuf_mtod(m, uint8_t *) : NULL,
        .len = m != NULL ? rte_pktmbuf_pkt_len(m) : 0,
        .payload_len = pkt->payload_len,
        .port = port,
        .now_ns = engine_now_ns(),
    };

    (void)arg;
    return g_fn(g_arg, &fr) == SLUICE_MON_DROP ? MON_DROP : MON_PASS;
}

static int poll_monitor(void *ctx, uint64_t now_ns)
{
    return mon_bridge_poll(ctx, now_ns);
}

/* Opens one port (devargs of key) with the fault injector when asked. */
static int open_port(const char *key, const char *devargs, struct netdev **dev)
{
    const struct sluice_config *cfg = &g_rt.cfg;
    struct netdev_dpdk_params dp = {
        .devargs = devargs,
        .mtu = (uint16_t)cfg->net_mtu,
        .link_timeout_ns = (uint64_t)cfg->net_link_timeout_ms * 1000000u,
    };
    char err[256];
    int rc = netdev_dpdk_open(&dp, g_rt.pool, dev, err, sizeof(err));

    if (rc) {
        SLOG_ERR("monitor port (key '%s'): %s", key, err);
        return rc;
    }
    if ((rc = net_wrap_faults(dev)) != 0) {
        netdev_close(*dev);
        return rc;
    }
    return 0;
}

/* The mode from mon.mode: 1 inline, 0 passive, -EINVAL (logged). */
static int mode_from_config(const struct sluice_config *cfg)
{
    if (strcmp(cfg->mon_mode, "inline") == 0)
        return cfg->mon_port1[0] != '\0' && cfg->mon_port0[0] != '\0' ? 1 : -EINVAL;
    if (strcmp(cfg->mon_mode, "passive") == 0)
        return cfg->mon_port0[0] != '\0' ? 0 : -EINVAL;
    return -EINVAL;
}

/* A passive monitor's af_packet port gets a deep receive ring unless its
 * devargs size it: a mirrored frame the kernel drops while the monitor is
 * off the CPU is lost for good (an inline bridge's lost frame is not
 * forwarded either, and the endpoints resend it). 8192 frames of 2 KiB:
 * about a second of a busy mirror; DPDK's default is 512. */
#define PASSIVE_AF_PACKET_FRAMES 8192

static const char *passive_devargs(const char *devargs, char *buf, size_t size)
{
    if (strncmp(devargs, "net_af_packet", 13) != 0 || strstr(devargs, "framecnt=") != NULL ||
        (size_t)snprintf(buf, size, "%s,framecnt=%d", devargs, PASSIVE_AF_PACKET_FRAMES) >= size)
        return devargs;
    return buf;
}

static int start(sluice_mon_fn fn, void *arg)
{
    const struct sluice_config *cfg = &g_rt.cfg;
    struct mon_params p = {
        .max_flows = cfg->mon_max_flows,
        .buf_bytes = cfg->mon_buf_bytes,
        .reass_segs = cfg->mon_reass_segs,
        .idle_timeout_ns = (uint64_t)cfg->mon_idle_timeout_ms * 1000000u,
    };
    struct netdev *d0 = NULL, *d1 = NULL;
    int mode = mode_from_config(cfg), rc;

    if (fn == NULL)
        return EINVAL;
    if (mode < 0) {
        SLOG_ERR("key 'mon.mode': expected inline (with mon.port0 and mon.port1) or passive (with mon.port0), "
                 "got '%s'", cfg->mon_mode);
        return EINVAL;
    }
    if (g_bridge != NULL || net_capture() != NULL)
        return EBUSY;
    char p0[sizeof(cfg->mon_port0) + 32];
    if (open_port("mon.port0", mode == 1 ? cfg->mon_port0 : passive_devargs(cfg->mon_port0, p0, sizeof(p0)), &d0) != 0)
        return ENETDOWN;
    if (mode == 1 && open_port("mon.port1", cfg->mon_port1, &d1) != 0) {
        netdev_close(d0);
        return ENETDOWN;
    }
    rc = mon_bridge_create(&p, d0, d1, g_rt.pool, verdict, NULL, &g_bridge);
    if (rc) {
        netdev_close(d0);
        netdev_close(d1);
        return -rc;
    }
    g_fn = fn;
    g_arg = arg;
    g_dev[0] = d0;
    g_dev[1] = d1;
    engine_set_poll_hook(poll_monitor, g_bridge);
    SLOG_INFO("monitor (%s) on %s%s%s", cfg->mon_mode, cfg->mon_port0, mode ? " and " : "", mode ? cfg->mon_port1 : "");
    return 0;
}

SLUICE_API int sluice_mon_start(sluice_mon_fn fn, void *arg)
{
    if (runtime_check() != 0)
        return ENOSYS;
    return start(fn, arg);
}

SLUICE_API int sluice_mon_stop(void)
{
    if (runtime_check() != 0)
        return ENOSYS;
    if (g_bridge == NULL)
        return ENOTCONN;
    engine_set_poll_hook(NULL, NULL);
    mon_bridge_destroy(g_bridge);
    g_bridge = NULL;
    g_dev[0] = g_dev[1] = NULL;
    return 0;
}

SLUICE_API int sluice_mon_send(unsigned port, const uint8_t *frame, uint32_t len)
{
    struct rte_mbuf *m;
    char *p;

    if (runtime_check() != 0)
        return ENOSYS;
    if (g_bridge == NULL)
        return ENOTCONN;
    if (frame == NULL || port > 1 || g_dev[port] == NULL || len < RTE_ETHER_HDR_LEN ||
        len > RTE_ETHER_HDR_LEN + g_rt.cfg.net_mtu)
        return EINVAL;
    if ((m = rte_pktmbuf_alloc(g_rt.pool)) == NULL)
        return ENOMEM;
    if ((p = rte_pktmbuf_append(m, (uint16_t)len)) == NULL) { /* more than one mbuf holds */
        rte_pktmbuf_free(m);
        return EINVAL;
    }
    memcpy(p, frame, len);
    if (netdev_tx(g_dev[port], &m, 1, engine_now_ns()) != 1) {
        rte_pktmbuf_free(m);
        return ENOBUFS;
    }
    return 0;
}

SLUICE_API int sluice_mon_poll(int *work)
{
    int n;

    if (runtime_check() != 0)
        return ENOSYS;
    if (g_bridge == NULL)
        return ENOTCONN;
    n = engine_poll_once(engine_now_ns());
    if (work != NULL)
        *work = n;
    return 0;
}

SLUICE_API int sluice_mon_side_info(const void *flow, unsigned side, struct sluice_mon_side *out)
{
    struct mon_side_info i;

    if (flow == NULL || out == NULL || mon_side_info(flow, side, &i) != 0)
        return EINVAL;
    *out = (struct sluice_mon_side){
        .state = i.state,
        .init_seq = i.isn_known ? i.init_seq : 0,
        .next_seq = i.isn_known ? i.next_seq : 0,
        .next_off = i.next_off,
        .read_off = i.read_off,
        .last_rcvd_off = i.last_rcvd_off,
        .bytes = i.bytes,
        .lost = i.lost,
        .overwritten = i.overwritten,
        .rexmit = i.rexmit,
        .pkts = i.pkts,
        .buffered = i.buffered,
        .last_ns = i.last_ns,
    };
    return 0;
}

SLUICE_API int sluice_mon_frags(const void *flow, unsigned side, struct sluice_mon_frag *out, unsigned max,
                                unsigned *n)
{
    struct mon_frag *v = NULL;
    int rc;

    if (flow == NULL || n == NULL || (out == NULL && max > 0) || side > SLUICE_MON_SVR)
        return EINVAL;
    if (max > 0 && (v = malloc(sizeof(*v) * max)) == NULL)
        return ENOMEM;
    rc = mon_frags(flow, side, v, max);
    if (rc >= 0) {
        for (unsigned i = 0; i < max && i < (unsigned)rc; i++)
            out[i] = (struct sluice_mon_frag){ v[i].off, v[i].len };
        *n = (unsigned)rc;
    }
    free(v);
    return rc < 0 ? -rc : 0;
}

SLUICE_API int sluice_mon_peek(void *flow, unsigned side, void *buf, size_t len, size_t *copied, uint64_t *gap)
{
    ssize_t n;

    if (flow == NULL || buf == NULL || copied == NULL || gap == NULL)
        return EINVAL;
    *copied = 0;
    n = mon_peek(flow, side, buf, len, gap);
    if (n < 0)
        return (int)-n;
    *copied = (size_t)n;
    return 0;
}

SLUICE_API int sluice_mon_ppeek(const void *flow, unsigned side, void *buf, size_t len, uint64_t off, size_t *copied)
{
    ssize_t n;

    if (flow == NULL || buf == NULL || copied == NULL)
        return EINVAL;
    *copied = 0;
    n = mon_ppeek(flow, side, buf, len, off);
    if (n < 0)
        return (int)-n;
    *copied = (size_t)n;
    return 0;
}

SLUICE_API int sluice_mon_set_buf(void *flow, unsigned side, uint32_t bytes)
{
    if (flow == NULL)
        return EINVAL;
    return -mon_set_buf(flow, side, bytes);
}

SLUICE_API int sluice_mon_flow_addr(const void *flow, unsigned side, uint32_t *addr, uint16_t *port)
{
    if (flow == NULL || addr == NULL || port == NULL || side > SLUICE_MON_SVR)
        return EINVAL;
    mon_flow_addr(flow, side, addr, port);
    return 0;
}

SLUICE_API int sluice_mon_flow_macs(const void *flow, unsigned side, uint8_t own[6], uint8_t to[6])
{
    if (flow == NULL || own == NULL || to == NULL || side > SLUICE_MON_SVR)
        return EINVAL;
    return -mon_flow_macs(flow, side, own, to);
}

SLUICE_API int sluice_mon_flow_set_user(void *flow, void *user)
{
    if (flow == NULL)
        return EINVAL;
    mon_flow_set_user(flow, user);
    return 0;
}

SLUICE_API int sluice_mon_flow_user(const void *flow, void **user)
{
    if (flow == NULL || user == NULL)
        return EINVAL;
    *user = mon_flow_user(flow);
    return 0;
}

SLUICE_API int sluice_mon_cksum(uint8_t *data, uint32_t len, int ip, int tcp)
{
    struct rte_ipv4_hdr *ih;
    struct rte_tcp_hdr *th;
    uint32_t ihl, tot;

    if (data == NULL || len < RTE_ETHER_HDR_LEN + sizeof(*ih) + sizeof(*th))
        return EINVAL;
    if (((struct rte_ether_hdr *)data)->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
        return EINVAL;
    ih = (struct rte_ipv4_hdr *)(data + RTE_ETHER_HDR_LEN);
    ihl = (ih->version_ihl & 0xfu) * 4u;
    tot = rte_be_to_cpu_16(ih->total_length);
    if (ih->next_proto_id != IPPROTO_TCP || ihl < sizeof(*ih) || tot < ihl + sizeof(*th) ||
        RTE_ETHER_HDR_LEN + tot > len)
        return EINVAL;
    if (ip) {
        ih->hdr_checksum = 0;
        ih->hdr_checksum = rte_ipv4_cksum(ih);
    }
    if (tcp) {
        th = (struct rte_tcp_hdr *)((uint8_t *)ih + ihl);
        th->cksum = 0;
        th->cksum = rte_ipv4_udptcp_cksum(ih, th);
    }
    return 0;
}

SLUICE_API int sluice_mon_stats(struct sluice_mon_stats *out)
{
    struct mon_bridge_stats bs;

    if (out == NULL)
        return EINVAL;
    if (g_bridge == NULL)
        return ENOTCONN;
    mon_bridge_stats(g_bridge, &bs);
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < 2; i++) {
        out->rx[i] = bs.rx[i];
        out->fwd[i] = bs.fwd[i];
        out->dropped[i] = bs.dropped[i];
    }
    out->tx_full = bs.tx_full;
    out->flows = mon_count(mon_bridge_table(g_bridge));
    out->ports = g_dev[1] != NULL ? 2 : 1;
    return 0;
}
