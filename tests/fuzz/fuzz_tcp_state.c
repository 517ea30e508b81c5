/*
 * fuzz_tcp_state.c - libFuzzer target: one TCP connection driven deep into
 * its states by a fake peer whose segments come from the input.
 *
 * Input: byte 0 configures the run (bit 0: active open, else passive;
 * bits 1-3: the peer offers timestamps, SACK, window scale; bit 4: a small
 * receive buffer; bit 5: the peer's MSS is 536). A fresh stack on a fake
 * device gets an established connection with the peer 10.0.0.1 by a
 * crafted handshake; the rest of the input is records, each an opcode
 * byte and its arguments (see the OP_ names), interleaving:
 *  - peer segments whose sequence and acknowledgment numbers are offsets
 *    from what the stack last acknowledged and the highest it sent (so
 *    most are in or near the window), with flags, window, options and
 *    payload length from the input;
 *  - clock steps (1 ms .. 32 s) that fire timers;
 *  - application calls: send, receive, shutdown, close, socket options.
 * Payload bytes are a fixed function of their sequence offset in each
 * direction, so whatever the segments, after every step:
 *  - every byte the application reads is the peer's byte at that offset
 *    (the in-order stream), and no more than the peer ever sent;
 *  - every data segment the stack sends carries the application's bytes
 *    at its offset, inside what was queued;
 *  - snd_una <= snd_nxt <= snd_max, bytes acknowledged <= bytes queued,
 *    the receive side holds at most its buffer;
 * and after teardown every mbuf is back in the pool. Any violation
 * aborts (ASan/UBSan catch the rest). FUZZ_TCP_TRACE=1 prints each record
 * and the segments both ways, to read a reproducer.
 */
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include <demi/libos.h>

#include "runtime.h"
#include "stack.h"
#include "stack_priv.h"
#include "tcp_conn.h"
#include "netdev_fake.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define US_IP RTE_BE32(0x0a000002)
#define PEER_IP RTE_BE32(0x0a000001)
#define US_PORT 5000
#define LISTEN_PORT 80
#define PEER_PORT 40000
#define PEER_ISN 0xfffff000u /* near the wrap, so sequence arithmetic wraps soon */
#define NS_PER_MS 1000000ull
#define MAX_PAYLOAD 1448


enum {
    OP_CLOCK,   /* 1 byte: advance the clock */
    OP_SEG,     /* 8 bytes: flags, seq offset (2), ack offset (2), window, options, payload length */
    OP_SEND,    /* 1 byte: the application queues (b + 1) * 64 bytes */
    OP_RECV,    /* 1 byte: the application reads at most (b + 1) * 32 bytes */
    OP_CALL,    /* 1 byte: close, shutdown(WR), shutdown(RD), linger-0 close, keepalive on,
                 * Nagle on, a small SO_RCVBUF, close (b & 7) */
    OP_POLL,    /* nothing: one pass */
    OP_DATA,    /* 1 byte: in-order data of b * 6 bytes, ACKing everything */
    OP_ACK,     /* 1 byte: a pure ACK of everything, window b * 256 */
    OP_COUNT
};

static const struct rte_ether_addr us_mac = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 0x01}};
static unsigned pool_start;
static bool trace; /* FUZZ_TCP_TRACE set: one line per record on stderr (to read a reproducer) */

/* The run: the stack, the application's view and the fake peer's. */
struct run {
    struct stack *s;
    struct netdev *dev;
    struct tcp_conn *c, *l;     /* c: NULL once the application closed it */
    uint64_t now;
    uint8_t cfg;
    /* application */
    uint64_t app_queued, app_read;
    uint32_t rcvbuf_max;        /* the largest receive buffer the connection had */
    /* peer */
    uint32_t our_iss;           /* the stack's ISS (have_iss: known) */
    bool have_iss;
    bool reopened;              /* the stack answered a SYN with a new ISS */
    uint32_t seen_ack;          /* the last ACK number the stack sent (its RCV.NXT) */
    uint32_t seen_max;          /* the highest sequence number the stack sent, + 1 */
    uint32_t seen_tsval;        /* the last TSval the stack sent */
    uint32_t peer_max;          /* the highest data sequence number the peer sent, + 1 */
    uint32_t peer_ctl_max;      /* ... counting its FINs, and data on SYNs */
    uint16_t lport, rport;      /* the connection's ports, host order */
};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_tcp_state: invariant broken: %s\n", what);
    abort();
}

/* The byte at offset k of a stream (seed tells the directions apart). */
static uint8_t stream_byte(uint32_t k, uint32_t seed)
{
    uint32_t x = (k + seed) * 2654435761u;
    return (uint8_t)(x >> 24 ^ x >> 11);
}

/* ---- frames to and from the stack ---- */

/* A segment from the peer: header fields in host order, options, and len
 * stream bytes starting at sequence offset off. Injected into the device. */
static void inject(struct run *r, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, const uint8_t *opts,
                   size_t optlen, uint32_t off, size_t len)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(g_rt.pool);
    size_t hl = sizeof(struct rte_tcp_hdr) + optlen;
    size_t total = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + hl + len;

    if (m == NULL || total > rte_pktmbuf_tailroom(m))
        fail("no mbuf for a peer segment");
    uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)total);
    struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
    struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);

    eh->dst_addr = us_mac;
    eh->src_addr = peer_mac;
    eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    memset(ip, 0, sizeof(*ip));
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + hl + len));
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_TCP;
    ip->src_addr = PEER_IP;
    ip->dst_addr = US_IP;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    memset(th, 0, sizeof(*th));
    th->src_port = rte_cpu_to_be_16(r->rport);
    th->dst_port = rte_cpu_to_be_16(r->lport);
    th->sent_seq = rte_cpu_to_be_32(seq);
    th->recv_ack = rte_cpu_to_be_32(ack);
    th->data_off = (uint8_t)((hl / 4) << 4);
    th->tcp_flags = flags;
    th->rx_win = rte_cpu_to_be_16(wnd);
    memcpy(th + 1, opts, optlen);
    uint8_t *d = (uint8_t *)(th + 1) + optlen;
    for (size_t i = 0; i < len; i++)
        d[i] = stream_byte(off + (uint32_t)i, 1);
    th->cksum = rte_ipv4_udptcp_cksum(ip, th);
    netdev_fake_inject(r->dev, m);
}

/* Checks one frame the stack sent and updates the peer's view. */
static void observe(struct run *r, const struct rte_mbuf *m)
{
    uint8_t buf[2048];
    uint32_t n = rte_pktmbuf_pkt_len(m);

    if (n > sizeof(buf))
        fail("frame longer than the MTU");
    const uint8_t *f = rte_pktmbuf_read(m, 0, n, buf);
    const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + sizeof(struct rte_ether_hdr));
    if (n < sizeof(struct rte_ether_hdr) + sizeof(*ip) + sizeof(struct rte_tcp_hdr) ||
        ip->next_proto_id != IPPROTO_TCP)
        return; /* ARP */
    const struct rte_tcp_hdr *th = (const struct rte_tcp_hdr *)(ip + 1);
    size_t ihl = (size_t)(ip->version_ihl & 0xf) * 4, tlen = rte_be_to_cpu_16(ip->total_length) - ihl;
    size_t hl = (size_t)(th->data_off >> 4) * 4;
    uint32_t sum = (uint32_t)rte_raw_cksum(th, tlen) + rte_ipv4_phdr_cksum(ip, 0);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    if (sum != 0xffff) /* a valid segment's ones' complement sum is all ones */
        fail("bad TCP checksum on a segment the stack sent");
    if (rte_be_to_cpu_16(th->src_port) != r->lport || rte_be_to_cpu_16(th->dst_port) != r->rport)
        return;
    uint32_t seq = rte_be_to_cpu_32(th->sent_seq), len = (uint32_t)(tlen - hl);
    uint8_t flags = th->tcp_flags;
    if ((flags & RTE_TCP_SYN_FLAG) && !r->have_iss) {
        r->our_iss = seq; /* the passive open's SYN-ACK */
        r->have_iss = true;
        r->seen_max = seq + 1;
    }
    if ((flags & RTE_TCP_SYN_FLAG) && seq != r->our_iss)
        r->reopened = true; /* TIME-WAIT reopened: a new incarnation, not checked */
    if ((flags & RTE_TCP_RST_FLAG) || r->reopened)
        return;
    if (len > 0) {
        /* our bytes at their offset, inside what the application queued */
        uint32_t off = seq - (r->our_iss + 1);
        if ((uint64_t)off + len > r->app_queued)
            fail("sent bytes the application never queued");
        const uint8_t *d = (const uint8_t *)th + hl;
        for (uint32_t i = 0; i < len; i++)
            if (d[i] != stream_byte(off + i, 2))
                fail("sent a wrong byte");
    }
    if (trace)
        fprintf(stderr, "  us:   flags %#x seq %u ack +%d len %u\n", flags, seq,
                (int)(rte_be_to_cpu_32(th->recv_ack) - (PEER_ISN + 1)), len);
    uint32_t end = seq + len + ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0) + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
    if (seq_gt(end, r->seen_max))
        r->seen_max = end;
    if (flags & RTE_TCP_ACK_FLAG) {
        uint32_t ack = rte_be_to_cpu_32(th->recv_ack);
        if (seq_gt(ack, r->peer_ctl_max))
            fail("ACKed sequence numbers the peer never sent");
        r->seen_ack = ack;
    }
    /* the TSval, for the peer's echo */
    const uint8_t *o = (const uint8_t *)(th + 1), *oe = (const uint8_t *)th + hl;
    while (o < oe && *o != 0) {
        if (*o == 1) {
            o++;
            continue;
        }
        if (o + 1 >= oe || o[1] < 2 || o + o[1] > oe)
            fail("malformed options from the stack");
        if (o[0] == 8 && o[1] == 10)
            r->seen_tsval = (uint32_t)o[2] << 24 | (uint32_t)o[3] << 16 | (uint32_t)o[4] << 8 | o[5];
        o += o[1];
    }
}

/* One pass of the stack, then every frame it sent is checked. */
static void pass(struct run *r)
{
    struct rte_mbuf *m;

    stack_poll(r->s, r->now);
    while ((m = netdev_fake_take_tx(r->dev)) != NULL) {
        observe(r, m);
        rte_pktmbuf_free(m);
    }
}

/* ---- the peer's options ---- */

/* TCP options for a peer segment into buf; returns their length. syn: the
 * handshake's options (MSS, and what cfg offers). sel: which timestamp
 * (bits 0-1: none, now, old, far ahead) and SACK block (bit 2) to add. */
static size_t peer_opts(const struct run *r, bool syn, uint8_t sel, uint32_t ack, uint8_t *buf)
{
    struct tcp_opts o;
    uint32_t ts_now = (uint32_t)(r->now / NS_PER_MS) + 7777;

    memset(&o, 0, sizeof(o));
    if (syn) {
        o.present = TCP_OPT_MSS;
        o.mss = (r->cfg & 0x20) ? 536 : 1460;
        if (r->cfg & 0x08) {
            o.present |= TCP_OPT_WSCALE;
            o.wscale = (uint8_t)(r->cfg >> 6) * 3;
        }
        if (r->cfg & 0x04)
            o.present |= TCP_OPT_SACK_PERM;
        sel = (r->cfg & 0x02) ? 1 : 0;
    }
    if ((sel & 3) != 0 && (r->cfg & 0x02)) {
        o.present |= TCP_OPT_TS;
        o.ts_val = (sel & 3) == 1 ? ts_now : (sel & 3) == 2 ? ts_now - 100000 : ts_now + 0x40000000u;
        o.ts_ecr = r->seen_tsval;
    }
    if (!syn && (sel & 4)) {
        o.present |= TCP_OPT_SACK;
        o.nsack = 1;
        o.sack[0].left = ack + (uint32_t)(sel >> 3) * 256;
        o.sack[0].right = o.sack[0].left + 1 + (uint32_t)(sel >> 5) * 700;
    }
    int n = tcp_opts_build(&o, syn, buf, TCP_OPT_MAX_LEN);
    return n > 0 ? (size_t)n : 0;
}

/* A peer segment at seq with len stream bytes (after the SYN, if any). */
static void peer_segment(struct run *r, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, uint8_t sel,
                         size_t len)
{
    uint8_t opts[TCP_OPT_MAX_LEN];
    size_t ol = peer_opts(r, (flags & RTE_TCP_SYN_FLAG) != 0, sel, ack, opts);
    uint32_t first = seq + ((flags & RTE_TCP_SYN_FLAG) ? 1 : 0);

    inject(r, flags, seq, ack, wnd, opts, ol, first - (PEER_ISN + 1), len);
    if (trace)
        fprintf(stderr, "  peer: flags %#x seq +%d ack %u wnd %u len %zu opts %zu\n", flags,
                (int)(seq - (PEER_ISN + 1)), ack, wnd, len, ol);
    if (len > 0 && seq_gt(first + (uint32_t)len, r->peer_max))
        r->peer_max = first + (uint32_t)len;
    uint32_t end = first + (uint32_t)len + ((flags & RTE_TCP_FIN_FLAG) ? 1 : 0);
    if (seq_gt(end, r->peer_ctl_max))
        r->peer_ctl_max = end;
    pass(r);
}

/* ---- set-up ---- */

static struct stack *make_stack(struct run *r)
{
    struct stack_params p;
    struct stack *s = NULL;

    stack_params_defaults(&p);
    p.addr = US_IP;
    p.netmask = RTE_BE32(0xffffff00);
    p.arp_nstatic = 1;
    p.arp_static[0].addr = PEER_IP;
    p.arp_static[0].mac = peer_mac;
    p.tcp.max_conns = 16;
    p.tcp.msl_ns = 2000 * NS_PER_MS;
    p.tcp.rcvbuf = (r->cfg & 0x10) ? 4608 : 65536;
    p.tcp.ooo_max_segs = 8;
    r->dev = netdev_fake_create(&us_mac, 1500);
    if (r->dev == NULL || stack_create(&p, r->dev, g_rt.pool, r->now, &s) != 0)
        fail("stack_create");
    return s;
}

/* The crafted handshake: passive (peer SYN to our listener) or active
 * (our SYN, the peer's SYN-ACK). Leaves r->c established. */
static void establish(struct run *r)
{
    r->peer_max = r->peer_ctl_max = PEER_ISN + 1;
    r->rport = PEER_PORT;
    if (r->cfg & 1) {
        r->lport = US_PORT;
        if (tcp_open(r->s, NULL, NULL, &r->c) != 0 || tcp_bind(r->c, 0, RTE_BE16(US_PORT)) != 0 ||
            tcp_connect(r->c, PEER_IP, RTE_BE16(PEER_PORT), r->now) != 0)
            fail("active open");
        r->our_iss = r->c->sv.iss;
        r->have_iss = true;
        r->seen_max = r->our_iss + 1;
        pass(r);
        peer_segment(r, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, PEER_ISN, r->our_iss + 1, 65535, 0, 0);
    } else {
        r->lport = LISTEN_PORT;
        if (tcp_open(r->s, NULL, NULL, &r->l) != 0 || tcp_bind(r->l, 0, RTE_BE16(LISTEN_PORT)) != 0 ||
            tcp_listen(r->l, 4) != 0)
            fail("listen");
        peer_segment(r, RTE_TCP_SYN_FLAG, PEER_ISN, 0, 65535, 0, 0);
        if (!r->have_iss)
            fail("no SYN-ACK");
        peer_segment(r, RTE_TCP_ACK_FLAG, PEER_ISN + 1, r->our_iss + 1, 65535, 1, 0);
        if (tcp_accept(r->l, &r->c) != 0)
            fail("accept");
    }
    if (tcp_conn_state(r->c) != TCPS_ESTABLISHED)
        fail("handshake did not establish");
    r->rcvbuf_max = r->c->rcvbuf;
}

/* ---- the application ---- */

static void app_send(struct run *r, uint8_t b)
{
    uint32_t n = ((uint32_t)b + 1) * 64;
    struct rte_mbuf *m;

    if (r->c == NULL || tcp_send_space(r->c) < n || (m = rte_pktmbuf_alloc(g_rt.pool)) == NULL)
        return;
    if (n > rte_pktmbuf_tailroom(m))
        n = rte_pktmbuf_tailroom(m);
    uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)n);
    for (uint32_t i = 0; i < n; i++)
        d[i] = stream_byte((uint32_t)(r->app_queued + i), 2);
    if (tcp_send(r->c, m, r->now) == 0)
        r->app_queued += n;
}

static void app_recv(struct run *r, uint8_t b)
{
    uint8_t buf[8192];
    struct rte_mbuf *m;

    if (r->c == NULL || (m = tcp_recv(r->c, ((uint32_t)b + 1) * 32, r->now)) == NULL)
        return;
    uint32_t n = rte_pktmbuf_pkt_len(m);
    if (n > sizeof(buf))
        fail("read more than asked");
    const uint8_t *d = rte_pktmbuf_read(m, 0, n, buf);
    for (uint32_t i = 0; i < n; i++)
        if (d[i] != stream_byte((uint32_t)(r->app_read + i), 1))
            fail("the application read a byte the peer did not send there");
    r->app_read += n;
    rte_pktmbuf_free(m);
    if (seq_gt(PEER_ISN + 1 + (uint32_t)r->app_read, r->peer_max))
        fail("read past what the peer sent");
}

/* setsockopt of an int, result ignored (the options are all valid). */
static void set_int(struct tcp_conn *c, int level, int name, int v)
{
    tcp_setsockopt(c, level, name, &v, sizeof(v));
}

static void app_call(struct run *r, uint8_t b)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    if (r->c == NULL)
        return;
    switch (b & 7) {
    case 4: /* keepalive after 1 s idle, 1 s apart, 2 probes: reachable by clock steps */
        set_int(r->c, IPPROTO_TCP, TCP_KEEPIDLE, 1);
        set_int(r->c, IPPROTO_TCP, TCP_KEEPINTVL, 1);
        set_int(r->c, IPPROTO_TCP, TCP_KEEPCNT, 2);
        set_int(r->c, SOL_SOCKET, SO_KEEPALIVE, 1);
        return;
    case 5:
        set_int(r->c, IPPROTO_TCP, TCP_NODELAY, 0);
        return;
    case 6:
        set_int(r->c, SOL_SOCKET, SO_RCVBUF, 2304);
        return;
    case 1:
        tcp_shutdown(r->c, false, true, r->now);
        return;
    case 2:
        tcp_shutdown(r->c, true, false, r->now);
        return;
    case 3:
        tcp_setsockopt(r->c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        break;
    default:
        break;
    }
    tcp_close(r->c, r->now);
    r->c = NULL; /* the stack's now */
}

/* ---- invariants ---- */

static void check(struct run *r)
{
    const struct tcp_conn *c = r->c;

    if (c == NULL)
        return;
    if (c->rcvbuf > r->rcvbuf_max)
        r->rcvbuf_max = c->rcvbuf; /* a smaller SO_RCVBUF does not take back what was offered */
    if (seq_gt(c->sv.snd_una, c->sv.snd_nxt) || seq_gt(c->sv.snd_nxt, c->sv.snd_max))
        fail("snd_una <= snd_nxt <= snd_max");
    if (tcp_bytes_acked(c) > r->app_queued)
        fail("more bytes acknowledged than queued");
    if (tcp_bytes_acked(c) + tcp_send_buffered(c) != r->app_queued &&
        !(tcp_conn_state(c) == TCPS_CLOSED || tcp_error(c) != 0))
        fail("acknowledged + buffered != queued");
    if (c->rcvq_bytes + c->reass.bytes > r->rcvbuf_max)
        fail("the receive side holds more than its buffer");
    if (r->app_read + tcp_recv_avail(c) > (uint64_t)(uint32_t)(r->peer_max - (PEER_ISN + 1)))
        fail("more readable than the peer sent");
}

/* ---- the records ---- */

static size_t step(struct run *r, const uint8_t *d, size_t n)
{
    uint8_t op = d[0] % OP_COUNT;
    size_t used = 1;

    switch (op) {
    case OP_CLOCK:
        if (n < 2)
            return n;
        r->now += (d[1] < 128 ? (uint64_t)d[1] + 1 : 1ull << (d[1] & 15)) * NS_PER_MS;
        pass(r);
        used = 2;
        break;
    case OP_SEG: {
        if (n < 9)
            return n;
        int16_t so = (int16_t)(d[2] << 8 | d[3]), ao = (int16_t)(d[4] << 8 | d[5]);
        uint32_t seq = r->seen_ack + (uint32_t)(int32_t)so, ack = r->seen_max + (uint32_t)(int32_t)ao;
        size_t len = (size_t)d[8] * 6;
        peer_segment(r, d[1] & 0x3f, seq, ack, (uint16_t)(d[6] << 8 | d[6]), d[7],
                     len > MAX_PAYLOAD ? MAX_PAYLOAD : len);
        used = 9;
        break;
    }
    case OP_SEND:
    case OP_RECV:
    case OP_CALL:
    case OP_DATA:
    case OP_ACK:
        if (n < 2)
            return n;
        used = 2;
        if (op == OP_SEND)
            app_send(r, d[1]);
        else if (op == OP_RECV)
            app_recv(r, d[1]);
        else if (op == OP_CALL)
            app_call(r, d[1]);
        else if (op == OP_DATA)
            peer_segment(r, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, r->seen_ack, r->seen_max, 65535, 1, (size_t)d[1] * 6);
        else
            peer_segment(r, RTE_TCP_ACK_FLAG, r->seen_ack, r->seen_max, (uint16_t)(d[1] * 256u), 1, 0);
        pass(r);
        break;
    default:
        pass(r);
        break;
    }
    check(r);
    if (trace)
        fprintf(stderr, "op %u now %llu ms: %s read %llu queued %llu acked %llu\n", op,
                (unsigned long long)(r->now / NS_PER_MS), r->c ? tcp_state_name(tcp_conn_state(r->c)) : "(closed)",
                (unsigned long long)r->app_read, (unsigned long long)r->app_queued,
                (unsigned long long)(r->c ? tcp_bytes_acked(r->c) : 0));
    return used;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("SLUICE_EAL_HUGEPAGES", "off", 0);
    setenv("SLUICE_LOG", "error", 0);
    if (demi_init(NULL) != 0)
        abort();
    pool_start = rte_mempool_avail_count(g_rt.pool);
    trace = getenv("FUZZ_TCP_TRACE") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run r;

    if (size < 1 || size > 4096)
        return 0;
    memset(&r, 0, sizeof(r));
    r.cfg = data[0];
    r.now = 1000 * NS_PER_MS;
    r.s = make_stack(&r);
    establish(&r);
    for (size_t i = 1; i < size;)
        i += step(&r, data + i, size - i);
    if (r.c != NULL)
        tcp_close(r.c, r.now);
    if (r.l != NULL)
        tcp_close(r.l, r.now);
    pass(&r);
    stack_destroy(r.s);
    if (rte_mempool_avail_count(g_rt.pool) != pool_start)
        fail("mbufs leaked");
    return 0;
}
