/*
 * arp.c - the Address Resolution Protocol (RFC 826) for IPv4 over Ethernet.
 *
 * Read first: RFC 826 ("Packet Reception" is the algorithm arp_input
 * follows, merge step first, opcode last); RFC 1122 2.3.2 (cache entries
 * MUST time out, requests MUST NOT flood, packets SHOULD wait for the
 * resolution); RFC 5227 2.1 (probes: sender address 0.0.0.0); RFC 1112 6.4
 * (multicast groups map to MACs without ARP).
 *
 * The cache is an rte_hash from IPv4 address to an entry. An entry is
 * STATIC (configured: never expires, never overwritten by the wire),
 * INCOMPLETE (a request is out; packets wait on it) or RESOLVED (learned;
 * valid for entry_ttl_ns). Each entry has one timer: while INCOMPLETE it
 * repeats the request every retry_ns and finally gives up; once RESOLVED it
 * forgets the entry when it expires. Waiting packets are kept in a pool of
 * queue_max nodes shared by all entries, so the bound is global and a FIFO
 * needs no mbuf field (packets may be chains: m->next is not ours).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_arp.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>

#include "stack_priv.h"
#include "smem.h"

/* Learned (non-static) entries at most; when full, the oldest resolved
 * entry makes room. */
#define ARP_CACHE_MAX 1024u
#define NIL UINT32_MAX /* end of an index list */

static const struct rte_ether_addr bcast_mac = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct rte_ether_addr zero_mac = {{0, 0, 0, 0, 0, 0}};

enum arp_state { ARP_FREE, ARP_STATIC, ARP_INCOMPLETE, ARP_RESOLVED };

struct arp_entry {
    struct timer timer;       /* INCOMPLETE: next retry; RESOLVED: expiry */
    struct arp_table *t;
    rte_be32_t addr;
    struct rte_ether_addr mac;
    enum arp_state state;
    uint64_t learned_ns;      /* RESOLVED: when the wire last told us */
    unsigned requests;        /* INCOMPLETE: requests sent so far */
    uint32_t qhead, qtail;    /* waiting packets: indices into t->qnodes */
    uint32_t next_free;       /* ARP_FREE: the free list */
};

struct arp_qnode {
    struct rte_mbuf *m;
    uint32_t next;
};

struct arp_table {
    struct stack *s;
    struct rte_hash *hash;    /* addr -> struct arp_entry * */
    struct arp_entry *entries;
    uint32_t nentries;
    uint32_t free_entry;
    struct arp_qnode *qnodes; /* queue_max of them */
    uint32_t free_qnode;
    uint64_t ttl_ns, retry_ns;
    unsigned retries;
};

/* A request/reply as read off the wire, fields copied out of the packed
 * header so they can be passed around by address. */
struct arp_msg {
    uint16_t op;
    struct rte_ether_addr sha, tha;
    rte_be32_t spa, tpa;
};

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool is_multicast_ip(rte_be32_t addr)
{
    return (rte_be_to_cpu_32(addr) & 0xf0000000u) == 0xe0000000u; /* 224.0.0.0/4 */
}

/* ---- frames we send ---- */

/* Appends an ARP packet from us (sha = our MAC, spa = our address) to the
 * empty mbuf m and hands it to Ethernet. */
static void arp_send(struct stack *s, struct rte_mbuf *m, uint16_t op, const struct rte_ether_addr *eth_dst,
                     const struct rte_ether_addr *tha, rte_be32_t tpa)
{
    struct rte_arp_hdr *a = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*a));

    if (a == NULL) {
        /* 28 bytes always fit an empty pool mbuf: a bug, not the wire */
        stack_drop(s, m, &s->ctr.eth_tx_drop_full);
        return;
    }
    a->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
    a->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
    a->arp_hlen = RTE_ETHER_ADDR_LEN;
    a->arp_plen = sizeof(rte_be32_t);
    a->arp_opcode = rte_cpu_to_be_16(op);
    a->arp_data.arp_sha = s->mac;
    a->arp_data.arp_sip = s->addr;
    a->arp_data.arp_tha = *tha;
    a->arp_data.arp_tip = tpa;
    eth_output(s, m, eth_dst, RTE_ETHER_TYPE_ARP);
}

/* A broadcast request for tpa (RFC 826: tha is what we ask for, so zero).
 * -ENOBUFS if the pool is empty. */
static int arp_send_request(struct stack *s, rte_be32_t tpa)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);

    if (m == NULL)
        return -ENOBUFS;
    arp_send(s, m, RTE_ARP_OP_REQUEST, &bcast_mac, &zero_mac, tpa);
    return 0;
}

/* The empty mbuf the reply to m goes in: m itself when we may write it (RFC
 * 826: "a reply has the same length as a request", so the buffer is reused),
 * else a new one and m is freed. NULL (m freed) if the pool is empty. */
static struct rte_mbuf *reply_buffer(struct stack *s, struct rte_mbuf *m)
{
    struct rte_mbuf *r;

    if (RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1) {
        rte_pktmbuf_free(m->next); /* padding or a split frame: not needed */
        rte_pktmbuf_reset(m);
        return m;
    }
    /* a clone or external buffer: its bytes are someone else's too */
    r = rte_pktmbuf_alloc(s->pool);
    if (r == NULL) {
        stack_drop(s, m, &s->ctr.arp_drop_nombuf);
        return NULL;
    }
    rte_pktmbuf_free(m);
    return r;
}

/* ---- entries ---- */

static struct arp_entry *entry_find(struct arp_table *t, rte_be32_t addr)
{
    void *data = NULL;

    if (rte_hash_lookup_data(t->hash, &addr, &data) < 0)
        return NULL;
    return data;
}

static bool entry_usable(const struct arp_table *t, const struct arp_entry *e, uint64_t now_ns)
{
    if (e->state == ARP_STATIC)
        return true;
    /* RFC 1122 2.3.2.1: out-of-date entries MUST NOT be used; the expiry
     * timer may not have run yet, so check the age here too */
    return e->state == ARP_RESOLVED && now_ns - e->learned_ns < t->ttl_ns;
}

static bool queue_push(struct arp_table *t, struct arp_entry *e, struct rte_mbuf *m)
{
    uint32_t i = t->free_qnode;

    if (i == NIL)
        return false;
    t->free_qnode = t->qnodes[i].next;
    t->qnodes[i].m = m;
    t->qnodes[i].next = NIL;
    if (e->qtail == NIL)
        e->qhead = i;
    else
        t->qnodes[e->qtail].next = i;
    e->qtail = i;
    return true;
}

static struct rte_mbuf *queue_pop(struct arp_table *t, struct arp_entry *e)
{
    uint32_t i = e->qhead;
    struct rte_mbuf *m;

    if (i == NIL)
        return NULL;
    m = t->qnodes[i].m;
    e->qhead = t->qnodes[i].next;
    if (e->qhead == NIL)
        e->qtail = NIL;
    t->qnodes[i].m = NULL;
    t->qnodes[i].next = t->free_qnode;
    t->free_qnode = i;
    return m;
}

/* Drops every packet waiting on e, counting each in *counter. */
static void queue_drop_all(struct arp_table *t, struct arp_entry *e, uint64_t *counter)
{
    struct rte_mbuf *m;

    while ((m = queue_pop(t, e)) != NULL)
        stack_drop(t->s, m, counter);
}

/* Returns e (its queue already empty) to the free list. */
static void entry_forget(struct arp_table *t, struct arp_entry *e)
{
    timer_cancel(&t->s->timers, &e->timer);
    rte_hash_del_key(t->hash, &e->addr);
    e->state = ARP_FREE;
    e->next_free = t->free_entry;
    t->free_entry = (uint32_t)(e - t->entries);
}

/* The cache is full: forget the resolved entry learned longest ago (an
 * INCOMPLETE entry holds packets and a STATIC one is configuration, so
 * neither is taken). false if there is none. */
static bool entry_evict(struct arp_table *t)
{
    struct arp_entry *oldest = NULL;

    for (uint32_t i = 0; i < t->nentries; i++) {
        struct arp_entry *e = &t->entries[i];
        if (e->state == ARP_RESOLVED && (oldest == NULL || e->learned_ns < oldest->learned_ns))
            oldest = e;
    }
    if (oldest == NULL)
        return false;
    entry_forget(t, oldest);
    return true;
}

static void entry_timer(struct timer *tm, void *ctx, uint64_t now_ns);

/* A new INCOMPLETE entry for addr with no request sent yet, or NULL. */
static struct arp_entry *entry_new(struct arp_table *t, rte_be32_t addr)
{
    struct arp_entry *e;

    if (t->free_entry == NIL && !entry_evict(t))
        return NULL;
    e = &t->entries[t->free_entry];
    if (rte_hash_add_key_data(t->hash, &addr, e) < 0)
        return NULL;
    t->free_entry = e->next_free;
    e->t = t;
    e->addr = addr;
    e->mac = zero_mac;
    e->state = ARP_INCOMPLETE;
    e->learned_ns = 0;
    e->requests = 0;
    e->qhead = e->qtail = NIL;
    e->next_free = NIL;
    timer_init(&e->timer, entry_timer, e);
    return e;
}

/* The wire told us addr is at mac: (re)validates e for ttl_ns and sends
 * what waited for it, in order. */
static void entry_resolve(struct arp_table *t, struct arp_entry *e, const struct rte_ether_addr *mac)
{
    struct stack *s = t->s;
    struct rte_mbuf *m;

    /* count what is new to us, not every refresh */
    if (e->state != ARP_RESOLVED || !rte_is_same_ether_addr(&e->mac, mac))
        s->ctr.arp_entries_learned++;
    e->mac = *mac;
    e->state = ARP_RESOLVED;
    e->learned_ns = s->now_ns;
    e->requests = 0;
    timer_arm(&s->timers, &e->timer, add_sat(s->now_ns, t->ttl_ns));
    while ((m = queue_pop(t, e)) != NULL)
        eth_output(s, m, &e->mac, RTE_ETHER_TYPE_IPV4);
}

/* Sends the next request for INCOMPLETE e and arms the retry. A request
 * the pool had no mbuf for still counts as a try, so we give up in time. */
static void entry_request(struct arp_table *t, struct arp_entry *e, uint64_t now_ns)
{
    struct stack *s = t->s;

    e->requests++;
    if (arp_send_request(s, e->addr) == 0)
        s->ctr.arp_requests_sent++;
    /* RFC 1122 2.3.2.1: no flooding, one request per retry_ns at most */
    timer_arm(&s->timers, &e->timer, add_sat(now_ns, t->retry_ns));
}

static void entry_timer(struct timer *tm, void *ctx, uint64_t now_ns)
{
    struct arp_entry *e = ctx;
    struct arp_table *t = e->t;

    (void)tm;
    if (e->state == ARP_RESOLVED) {
        /* RFC 1122 2.3.2.1 (1): time entries out even while in use */
        entry_forget(t, e);
        return;
    }
    if (e->requests < t->retries) {
        entry_request(t, e, now_ns);
        return;
    }
    /* retries requests retry_ns apart got no answer: the host is not there */
    queue_drop_all(t, e, &t->s->ctr.arp_drop_unresolved);
    entry_forget(t, e);
}

/* ---- create / destroy ---- */

static int add_static(struct arp_table *t, const struct arp_static *st)
{
    struct arp_entry *e = entry_find(t, st->addr);

    if (e == NULL)
        e = entry_new(t, st->addr);
    if (e == NULL)
        return -ENOMEM;
    e->state = ARP_STATIC;
    e->mac = st->mac;
    return 0;
}

static int table_alloc(struct arp_table *t, unsigned nstatics, unsigned queue_max)
{
    struct rte_hash_parameters hp = {0};
    char name[RTE_HASH_NAMESIZE];

    t->nentries = ARP_CACHE_MAX + nstatics;
    t->entries = smem_calloc(t->nentries, sizeof(*t->entries));
    t->qnodes = smem_calloc(queue_max ? queue_max : 1, sizeof(*t->qnodes));
    if (t->entries == NULL || t->qnodes == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->nentries; i++)
        t->entries[i].next_free = i + 1 < t->nentries ? i + 1 : NIL;
    t->free_entry = 0;
    for (uint32_t i = 0; i < queue_max; i++)
        t->qnodes[i].next = i + 1 < queue_max ? i + 1 : NIL;
    t->free_qnode = queue_max ? 0 : NIL;
    /* rte_hash names are global to the process: one per table */
    snprintf(name, sizeof(name), "arp_%p", (void *)t);
    hp.name = name;
    hp.entries = t->nentries;
    hp.key_len = sizeof(rte_be32_t);
    hp.hash_func = rte_jhash;
    hp.socket_id = SOCKET_ID_ANY;
    /* with the extendable table every one of `entries` keys fits */
    hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    t->hash = rte_hash_create(&hp);
    return t->hash != NULL ? 0 : -ENOMEM;
}

int arp_create(struct stack *s, const struct arp_static *statics, unsigned nstatics, uint64_t entry_ttl_ns,
               uint64_t retry_ns, unsigned retries, unsigned queue_max)
{
    struct arp_table *t = smem_calloc(1, sizeof(*t));
    int rc;

    if (t == NULL)
        return -ENOMEM;
    s->arp = t; /* from here on arp_destroy cleans up whatever exists */
    t->s = s;
    t->ttl_ns = entry_ttl_ns;
    t->retry_ns = retry_ns;
    t->retries = retries ? retries : 1; /* resolving takes one request at least */
    rc = table_alloc(t, nstatics, queue_max);
    for (unsigned i = 0; rc == 0 && i < nstatics; i++)
        rc = add_static(t, &statics[i]);
    if (rc)
        arp_destroy(s);
    return rc;
}

void arp_destroy(struct stack *s)
{
    struct arp_table *t = s->arp;

    if (t == NULL)
        return;
    for (uint32_t i = 0; t->entries != NULL && i < t->nentries; i++) {
        struct arp_entry *e = &t->entries[i];
        if (e->state == ARP_FREE)
            continue;
        timer_cancel(&s->timers, &e->timer);
        if (t->qnodes != NULL)
            queue_drop_all(t, e, &s->ctr.arp_drop_unresolved);
    }
    rte_hash_free(t->hash);
    smem_free(t->qnodes);
    smem_free(t->entries);
    smem_free(t);
    s->arp = NULL;
}

/* ---- input ---- */

/* RFC 826 "Packet Reception": the hardware and protocol we speak, with the
 * optional length checks done; opcodes other than request/reply (RARP,
 * InARP) are not ours. A sender MAC that is not one station's cannot be
 * anybody's address, so it is never learned. */
static bool arp_parse(const struct rte_arp_hdr *a, struct arp_msg *msg)
{
    if (a->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) || a->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4))
        return false;
    if (a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != sizeof(rte_be32_t))
        return false;
    msg->op = rte_be_to_cpu_16(a->arp_opcode);
    if (msg->op != RTE_ARP_OP_REQUEST && msg->op != RTE_ARP_OP_REPLY)
        return false;
    msg->sha = a->arp_data.arp_sha;
    msg->tha = a->arp_data.arp_tha;
    msg->spa = a->arp_data.arp_sip;
    msg->tpa = a->arp_data.arp_tip;
    return rte_is_unicast_ether_addr(&msg->sha) && !rte_is_zero_ether_addr(&msg->sha);
}

/* Sender addresses that name no single neighbour: 0.0.0.0 (an RFC 5227
 * probe), ours, broadcasts and multicast groups. */
static bool learnable(const struct stack *s, rte_be32_t spa)
{
    return spa != 0 && !stack_addr_is_local(s, spa) && !is_multicast_ip(spa);
}

/* RFC 826: "If the pair <protocol type, sender protocol address> is already
 * in my translation table, update the sender hardware address field" -
 * whoever the packet is for. Static entries are configuration and win over
 * the wire. Returns the Merge_flag: whether the sender has an entry. */
static bool arp_merge(struct stack *s, const struct arp_msg *msg)
{
    struct arp_entry *e;

    if (!learnable(s, msg->spa))
        return false;
    e = entry_find(s->arp, msg->spa);
    if (e == NULL)
        return false;
    if (e->state != ARP_STATIC)
        entry_resolve(s->arp, e, &msg->sha);
    return true;
}

/* RFC 826: "If Merge_flag is false, add the triplet" - the sender talks to
 * us, so we will probably talk back. A full cache of pending resolutions
 * just means we do not remember it. */
static void arp_learn(struct stack *s, const struct arp_msg *msg)
{
    struct arp_entry *e;

    if (!learnable(s, msg->spa))
        return;
    e = entry_new(s->arp, msg->spa);
    if (e != NULL)
        entry_resolve(s->arp, e, &msg->sha);
}

/* RFC 826: "Swap hardware and protocol fields, putting the local hardware
 * and protocol addresses in the sender fields", opcode REPLY, sent to the
 * requester's hardware address. */
static void arp_reply(struct stack *s, struct rte_mbuf *m, const struct arp_msg *req)
{
    struct rte_mbuf *r = reply_buffer(s, m);

    if (r == NULL)
        return;
    arp_send(s, r, RTE_ARP_OP_REPLY, &req->sha, &req->sha, req->spa);
    s->ctr.arp_replies_sent++;
}

void arp_input(struct stack *s, struct rte_mbuf *m)
{
    struct rte_arp_hdr copy;
    const struct rte_arp_hdr *a;
    struct arp_msg msg;
    bool merged;

    s->ctr.arp_rx++;
    /* reads across segments too; NULL if the packet is too short */
    a = rte_pktmbuf_read(m, 0, sizeof(copy), &copy);
    if (a == NULL || !arp_parse(a, &msg)) {
        stack_drop(s, m, &s->ctr.arp_drop_malformed);
        return;
    }
    merged = arp_merge(s, &msg);
    /* RFC 826: "?Am I the target protocol address?" - No: done */
    if (msg.tpa != s->addr) {
        stack_drop(s, m, &s->ctr.arp_drop_not_ours);
        return;
    }
    if (!merged)
        arp_learn(s, &msg);
    if (s->steered_input) {
        rte_pktmbuf_free(m); /* another engine's copy: learnt; that engine answers */
        return;
    }
    if (stack_steering(s) && rte_pktmbuf_prepend(m, m->l2_len) != NULL) {
        /* a reply (or a request) lands on any queue: every engine learns */
        s->steer->arp_seen(s->steer_ctx, m);
        rte_pktmbuf_adj(m, m->l2_len);
    }
    /* RFC 826: "(NOW look at the opcode!!)" */
    if (msg.op == RTE_ARP_OP_REQUEST)
        arp_reply(s, m, &msg);
    else
        rte_pktmbuf_free(m); /* a reply to us: used by the merge/learn */
}

/* ---- output ---- */

/* The MAC of a next hop that needs no resolution: the limited broadcast and
 * our subnet's broadcast go to ff:ff:ff:ff:ff:ff (RFC 919, RFC 922: a /31
 * or /32 has no subnet broadcast, RFC 3021); a multicast group goes to
 * 01:00:5e and its low 23 bits (RFC 1112 6.4). */
static bool mac_without_arp(const struct stack *s, rte_be32_t nh, struct rte_ether_addr *mac)
{
    uint32_t host_mask = rte_be_to_cpu_32(~s->netmask);
    uint32_t group = rte_be_to_cpu_32(nh);

    if (nh == RTE_BE32(0xffffffff) || (host_mask >= 3 && nh == (s->addr | ~s->netmask))) {
        *mac = bcast_mac;
        return true;
    }
    if (!is_multicast_ip(nh))
        return false;
    *mac = (struct rte_ether_addr){{0x01, 0x00, 0x5e, (group >> 16) & 0x7f, (group >> 8) & 0xff, group & 0xff}};
    return true;
}

void arp_output(struct stack *s, struct rte_mbuf *m, rte_be32_t next_hop)
{
    struct arp_table *t = s->arp;
    struct rte_ether_addr mac;
    struct arp_entry *e;

    if (mac_without_arp(s, next_hop, &mac)) {
        eth_output(s, m, &mac, RTE_ETHER_TYPE_IPV4);
        return;
    }
    e = entry_find(t, next_hop);
    if (e != NULL && entry_usable(t, e, s->now_ns)) {
        eth_output(s, m, &e->mac, RTE_ETHER_TYPE_IPV4);
        return;
    }
    if (e == NULL)
        e = entry_new(t, next_hop);
    if (e == NULL) {
        /* the cache is all pending resolutions: no room to wait */
        stack_drop(s, m, &s->ctr.arp_drop_cache_full);
        return;
    }
    if (e->state == ARP_RESOLVED) {
        /* expired: resolve again (RFC 1122 2.3.2.1) */
        e->state = ARP_INCOMPLETE;
        e->requests = 0;
    }
    /* RFC 1122 2.3.2.2: keep the packet until the address is resolved */
    if (!queue_push(t, e, m))
        stack_drop(s, m, &s->ctr.arp_drop_queue_full);
    if (e->requests == 0)
        entry_request(t, e, s->now_ns);
}

void arp_announce(struct stack *s)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);

    if (m == NULL)
        return; /* best effort: neighbours learn us from our requests anyway */
    /* a gratuitous request (spa = tpa = ours) refreshes every neighbour that
     * has us cached (RFC 826 merge step) and reveals a duplicate address */
    arp_send(s, m, RTE_ARP_OP_REQUEST, &bcast_mac, &zero_mac, s->addr);
    s->ctr.arp_gratuitous_sent++;
}

void stack_arp_foreach(struct stack *s, void (*fn)(rte_be32_t addr, const struct rte_ether_addr *mac, int state, void *ctx),
                       void *ctx)
{
    const struct arp_table *t = s->arp;

    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->nentries; i++) {
        const struct arp_entry *e = &t->entries[i];
        if (e->state == ARP_FREE)
            continue;
        fn(e->addr, &e->mac, e->state == ARP_INCOMPLETE ? 0 : e->state == ARP_RESOLVED ? 1 : 2, ctx);
    }
}

int arp_lookup(struct stack *s, rte_be32_t addr, struct rte_ether_addr *mac)
{
    struct arp_entry *e = entry_find(s->arp, addr);

    if (e == NULL || !entry_usable(s->arp, e, s->now_ns))
        return -ENOENT;
    if (mac != NULL)
        *mac = e->mac;
    return 0;
}
