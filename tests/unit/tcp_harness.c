/* tcp_harness.c - see tcp_harness.h. */
#include "tcp_harness.h"

#include <criterion/criterion.h>
#include <string.h>

#include <rte_mbuf.h>

#include "harness.h"
#include "runtime.h"
#include "netdev_fake.h"

#define B_IP RTE_BE32(0x0a000001)
#define A_IP RTE_BE32(0x0a000002)

static struct stack *make(const struct stack_params *params, rte_be32_t addr, const struct rte_ether_addr *mac,
                          rte_be32_t peer, const struct rte_ether_addr *peer_mac, struct netdev *dev, uint64_t now)
{
    struct stack_params sp;
    struct stack *s = NULL;

    if (params != NULL)
        sp = *params;
    else
        stack_params_defaults(&sp);
    (void)mac;
    sp.addr = addr;
    sp.netmask = RTE_BE32(0xffffff00);
    sp.arp_nstatic = 1;
    sp.arp_static[0].addr = peer;
    sp.arp_static[0].mac = *peer_mac;
    cr_assert_eq(stack_create(&sp, dev, g_rt.pool, now, &s), 0);
    return s;
}

void tp_create_wrapped(struct tcp_pair *p, const struct stack_params *params, tp_wrap_fn wrap, void *ctx)
{
    struct netdev *wa;

    memset(p, 0, sizeof(*p));
    t_init();
    p->pool_before = t_pool_avail();
    p->now = 1000 * ST_NS_PER_MS;
    p->da = netdev_fake_create(&st_us_mac, 1500);
    p->db = netdev_fake_create(&st_peer_mac, 1500);
    cr_assert(p->da && p->db);
    netdev_fake_link(p->da, p->db);
    wa = wrap != NULL ? wrap(p, ctx) : p->da;
    p->a = make(params, A_IP, &st_us_mac, B_IP, &st_peer_mac, wa, p->now);
    p->b = make(params, B_IP, &st_peer_mac, A_IP, &st_us_mac, p->db, p->now);
}

/* tp_create's wrapper: the fault injector around A's device. */
static struct netdev *fault_wrap(struct tcp_pair *p, void *ctx)
{
    struct netdev *wa = NULL;

    cr_assert_eq(netdev_fault_wrap(p->da, ctx, &p->fault_ctr, &wa), 0);
    return wa;
}

void tp_create(struct tcp_pair *p, const struct stack_params *params, const struct fault_params *fault)
{
    tp_create_wrapped(p, params, fault != NULL ? fault_wrap : NULL, (void *)fault);
}

static void settle(struct tcp_pair *p)
{
    for (int i = 0; i < 10000; i++) {
        int w = stack_poll(p->a, p->now) + stack_poll(p->b, p->now);
        if (w == 0)
            return;
    }
    cr_assert_fail("stacks never went quiet");
}

void tp_run_steps(struct tcp_pair *p, uint64_t total_ns, uint64_t step_ns)
{
    uint64_t end = p->now + total_ns;

    settle(p);
    while (p->now < end) {
        p->now += step_ns;
        settle(p);
    }
}

void tp_run(struct tcp_pair *p, uint64_t total_ns)
{
    tp_run_steps(p, total_ns, ST_NS_PER_MS);
}

bool tp_run_until(struct tcp_pair *p, bool (*done)(void *ctx), void *ctx, uint64_t max_ns)
{
    uint64_t end = p->now + max_ns;

    settle(p);
    while (!done(ctx) && p->now < end) {
        p->now += ST_NS_PER_MS;
        settle(p);
    }
    return done(ctx);
}

static enum tcp_state g_want;
static struct tcp_conn *g_watch;

static bool reached(void *ctx)
{
    (void)ctx;
    return tcp_conn_state(g_watch) == g_want;
}

void tp_wait_state(struct tcp_pair *p, struct tcp_conn *c, enum tcp_state st, uint64_t max_ns)
{
    g_watch = c;
    g_want = st;
    cr_assert(tp_run_until(p, reached, NULL, max_ns), "state %s, want %s", tcp_state_name(tcp_conn_state(c)),
              tcp_state_name(st));
}

void tp_finish(struct tcp_pair *p)
{
    stack_destroy(p->a);
    stack_destroy(p->b);
    cr_assert_eq(t_pool_avail(), p->pool_before, "mbufs leaked: %u", p->pool_before - t_pool_avail());
}

void tp_close_and_finish(struct tcp_pair *p, struct tcp_conn *cli, struct tcp_conn *srv, struct tcp_conn *lst,
                         uint64_t settle_ns)
{
    tcp_close(cli, p->now);
    tcp_close(srv, p->now);
    tcp_close(lst, p->now);
    tp_run(p, settle_ns);
    tp_finish(p);
}

void tp_on_event(struct tcp_conn *c, void *ctx)
{
    (void)c;
    ((struct tp_events *)ctx)->n++;
}

static struct tcp_conn *g_accept_from;
static bool accept_ready(void *ctx)
{
    (void)ctx;
    return tcp_accept_ready(g_accept_from);
}

void tp_connect(struct tcp_pair *p, struct tcp_conn **cli, struct tcp_conn **srv, struct tcp_conn **lst)
{
    cr_assert_eq(tcp_open(p->b, NULL, NULL, lst), 0);
    cr_assert_eq(tcp_bind(*lst, 0, RTE_BE16(80)), 0);
    cr_assert_eq(tcp_listen(*lst, 16), 0);
    cr_assert_eq(tcp_open(p->a, NULL, NULL, cli), 0);
    cr_assert_eq(tcp_connect(*cli, B_IP, RTE_BE16(80), p->now), 0);
    g_accept_from = *lst;
    cr_assert(tp_run_until(p, accept_ready, NULL, 5000 * ST_NS_PER_MS), "no connection to accept");
    cr_assert_eq(tcp_accept(*lst, srv), 0);
    cr_assert_eq(tcp_conn_state(*cli), TCPS_ESTABLISHED);
    cr_assert_eq(tcp_conn_state(*srv), TCPS_ESTABLISHED);
}

void tp_send_pattern(struct tcp_pair *p, struct tcp_conn *c, uint64_t *state, size_t len)
{
    while (len > 0) {
        size_t n = len < 1400 ? len : 1400;
        struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);
        cr_assert_not_null(m);
        uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
        t_pattern(state, d, n);
        cr_assert_eq(tcp_send(c, m, p->now), 0);
        len -= n;
    }
}

size_t tp_recv_check(struct tcp_pair *p, struct tcp_conn *c, uint64_t *state)
{
    uint8_t got[4096], want[4096];
    size_t total = 0;
    struct rte_mbuf *m;

    while ((m = tcp_recv(c, sizeof(got), p->now)) != NULL) {
        size_t n = st_bytes(m, got, sizeof(got));
        rte_pktmbuf_free(m);
        t_pattern(state, want, n);
        cr_assert_eq(memcmp(got, want, n), 0, "bytes differ after %zu received", total);
        total += n;
    }
    return total;
}

#include <rte_ip.h>
#include <rte_tcp.h>

static uint16_t l4_sum(const void *seg, size_t len, rte_be32_t src, rte_be32_t dst)
{
    uint32_t sum = 0;
    const uint8_t *p = seg;

    sum += rte_be_to_cpu_16((uint16_t)(src >> 16)) + rte_be_to_cpu_16((uint16_t)src);
    sum += rte_be_to_cpu_16((uint16_t)(dst >> 16)) + rte_be_to_cpu_16((uint16_t)dst);
    sum += IPPROTO_TCP + (uint32_t)len;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

size_t st_tcp(void *buf, const struct st_tcp_seg *sg)
{
    uint8_t seg[1600];
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)seg;
    size_t hl = sizeof(*th) + sg->optlen;

    cr_assert(hl + sg->len <= sizeof(seg));
    memset(th, 0, sizeof(*th));
    th->src_port = rte_cpu_to_be_16(sg->sport);
    th->dst_port = rte_cpu_to_be_16(sg->dport);
    th->sent_seq = rte_cpu_to_be_32(sg->seq);
    th->recv_ack = rte_cpu_to_be_32(sg->ack);
    th->data_off = (uint8_t)((sg->data_off ? sg->data_off : (uint8_t)((hl + 3) / 4)) << 4);
    th->tcp_flags = sg->flags;
    th->rx_win = rte_cpu_to_be_16(sg->wnd);
    th->tcp_urp = rte_cpu_to_be_16(sg->urp);
    if (sg->optlen)
        memcpy(seg + sizeof(*th), sg->opts, sg->optlen);
    if (sg->len)
        memcpy(seg + hl, sg->data, sg->len);
    th->cksum = rte_cpu_to_be_16(l4_sum(seg, hl + sg->len, ST_PEER_IP, ST_US_IP));
    return st_ipv4(buf, ST_PEER_IP, ST_US_IP, IPPROTO_TCP, seg, hl + sg->len);
}

size_t st_tcp_parse(const uint8_t *frame, size_t len, struct st_tcp_seg *out)
{
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(frame + sizeof(struct rte_ether_hdr));
    size_t ihl = (size_t)(ip->version_ihl & 0xf) * 4;
    const uint8_t *seg = (const uint8_t *)ip + ihl;
    size_t seglen = rte_be_to_cpu_16(ip->total_length) - ihl;
    const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)seg;

    cr_assert(len >= sizeof(struct rte_ether_hdr) + ihl + sizeof(*th));
    cr_assert_eq(ip->next_proto_id, IPPROTO_TCP);
    cr_assert_eq(l4_sum(seg, seglen, ip->src_addr, ip->dst_addr), 0, "bad TCP checksum");
    memset(out, 0, sizeof(*out));
    out->sport = rte_be_to_cpu_16(th->src_port);
    out->dport = rte_be_to_cpu_16(th->dst_port);
    out->seq = rte_be_to_cpu_32(th->sent_seq);
    out->ack = rte_be_to_cpu_32(th->recv_ack);
    out->flags = th->tcp_flags;
    out->wnd = rte_be_to_cpu_16(th->rx_win);
    out->data_off = (uint8_t)(th->data_off >> 4);
    out->opts = seg + sizeof(*th);
    out->optlen = (size_t)out->data_off * 4 - sizeof(*th);
    out->data = seg + out->data_off * 4;
    out->len = seglen - (size_t)out->data_off * 4;
    return out->len;
}
