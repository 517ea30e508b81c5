/*
 * config.c - see config.h.
 *
 * Every key is one row of the keys[] table (name, environment variable,
 * kind, range, default, field offset); the YAML walker, the environment pass
 * and the defaults all work from that table.
 *
 * Parsing is all or nothing: values go into a working copy of the config
 * and eal.args into a separate pending list, and both are committed only
 * when the whole input has been accepted. So on error there is nothing
 * half-applied and no half-built argument list left in cfg.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

/* Config files are a few hundred bytes; refusing big ones bounds memory. */
#define CONFIG_FILE_MAX (1u << 20)
/* Bytes of an offending value or name quoted in a message. */
#define SHOW_MAX 48
/* Room for "expected ..., got '...'" and similar message bodies. */
#define MSG_MAX 256

enum key_kind {
    KIND_U32,       /* decimal integer in min..max */
    KIND_POW2,      /* as KIND_U32, and a power of two */
    KIND_LOG_LEVEL, /* error|warn|info|debug */
    KIND_HUGEPAGES, /* auto|on|off */
    KIND_ARGS,      /* eal.args: sequence of strings or one whitespace-split string */
    KIND_IPV4,      /* dotted quad, stored in network order in a uint32_t */
    KIND_STRING,    /* 1..max bytes, stored in a char[max + 1] */
};

struct key_desc {
    const char *name; /* "section.key" */
    const char *env;  /* environment variable overriding it */
    enum key_kind kind;
    uint32_t min, max; /* KIND_U32 and KIND_POW2 only */
    uint32_t def;      /* default (enum value for the enum kinds) */
    size_t off;        /* offset of the field in struct sluice_config */
    const char *sdef;  /* default of KIND_IPV4 and KIND_STRING */
};

#define FIELD(f) offsetof(struct sluice_config, f)

static const struct key_desc keys[] = {
    {"log.level", "SLUICE_LOG", KIND_LOG_LEVEL, 0, 0, SLUICE_LOG_WARN, FIELD(log_level), NULL},
    {"eal.hugepages", "SLUICE_EAL_HUGEPAGES", KIND_HUGEPAGES, 0, 0, SLUICE_HUGEPAGES_AUTO, FIELD(hugepages), NULL},
    {"eal.memory_mb", "SLUICE_EAL_MEMORY_MB", KIND_U32, 64, 65536, 256, FIELD(eal_memory_mb), NULL},
    {"eal.args", "SLUICE_EAL_ARGS", KIND_ARGS, 0, SLUICE_EAL_ARGS_MAX, 0, FIELD(eal_argc), NULL},
    {"mbuf.count", "SLUICE_MBUF_COUNT", KIND_U32, 1023, 1048575, 8191, FIELD(mbuf_count), NULL},
    {"mbuf.cache", "SLUICE_MBUF_CACHE", KIND_U32, 0, 512, 256, FIELD(mbuf_cache), NULL},
    {"mbuf.data_room", "SLUICE_MBUF_DATA_ROOM", KIND_U32, 512, 65000, 2048, FIELD(mbuf_data_room), NULL},
    {"queues.max", "SLUICE_QUEUES_MAX", KIND_U32, 16, 1048576, 65536, FIELD(max_queues), NULL},
    {"pipe.ring_kib", "SLUICE_PIPE_RING_KIB", KIND_POW2, 64, 262144, 1024, FIELD(pipe_ring_kib), NULL},
    {"engine.spin_us", "SLUICE_ENGINE_SPIN_US", KIND_U32, 0, 1000000, 50, FIELD(spin_us), NULL},
    {"net.devargs", "SLUICE_NET_DEVARGS", KIND_STRING, 1, SLUICE_DEVARGS_MAX - 1, 0, FIELD(net_devargs),
     "net_af_xdp0,iface=sluice0"},
    {"net.addr", "SLUICE_NET_ADDR", KIND_IPV4, 0, 0, 0, FIELD(net_addr), "10.0.0.2"},
    {"net.netmask", "SLUICE_NET_NETMASK", KIND_IPV4, 0, 0, 0, FIELD(net_netmask), "255.255.255.0"},
    {"net.gateway", "SLUICE_NET_GATEWAY", KIND_IPV4, 0, 0, 0, FIELD(net_gateway), "0.0.0.0"},
    {"net.mtu", "SLUICE_NET_MTU", KIND_U32, 68, 9600, 1500, FIELD(net_mtu), NULL},
    {"net.queues", "SLUICE_NET_QUEUES", KIND_U32, 1, 64, 1, FIELD(net_queues), NULL},
    {"net.link_timeout_ms", "SLUICE_NET_LINK_TIMEOUT_MS", KIND_U32, 0, 600000, 5000, FIELD(net_link_timeout_ms),
     NULL},
    {"net.arp_static", "SLUICE_NET_ARP_STATIC", KIND_STRING, 0, SLUICE_DEVARGS_MAX - 1, 0, FIELD(net_arp_static), ""},
    {"net.pcap", "SLUICE_PCAP", KIND_STRING, 0, 255, 0, FIELD(net_pcap), ""},
    {"eal.telemetry", "SLUICE_EAL_TELEMETRY", KIND_U32, 0, 1, 1, FIELD(eal_telemetry), NULL},
    {"fault.seed", "SLUICE_FAULT_SEED", KIND_U32, 0, 4294967295u, 1, FIELD(fault_seed), NULL},
    {"fault.rx_loss_ppm", "SLUICE_FAULT_RX_LOSS_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_rx_loss_ppm), NULL},
    {"fault.rx_duplicate_ppm", "SLUICE_FAULT_RX_DUPLICATE_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_rx_duplicate_ppm), NULL},
    {"fault.rx_reorder_ppm", "SLUICE_FAULT_RX_REORDER_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_rx_reorder_ppm), NULL},
    {"fault.rx_corrupt_ppm", "SLUICE_FAULT_RX_CORRUPT_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_rx_corrupt_ppm), NULL},
    {"fault.rx_delay_us", "SLUICE_FAULT_RX_DELAY_US", KIND_U32, 0, 10000000, 0, FIELD(fault_rx_delay_us), NULL},
    {"fault.tx_loss_ppm", "SLUICE_FAULT_TX_LOSS_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_tx_loss_ppm), NULL},
    {"fault.tx_duplicate_ppm", "SLUICE_FAULT_TX_DUPLICATE_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_tx_duplicate_ppm), NULL},
    {"fault.tx_reorder_ppm", "SLUICE_FAULT_TX_REORDER_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_tx_reorder_ppm), NULL},
    {"fault.tx_corrupt_ppm", "SLUICE_FAULT_TX_CORRUPT_PPM", KIND_U32, 0, 1000000, 0, FIELD(fault_tx_corrupt_ppm), NULL},
    {"fault.tx_delay_us", "SLUICE_FAULT_TX_DELAY_US", KIND_U32, 0, 10000000, 0, FIELD(fault_tx_delay_us), NULL},
    {"tcp.rto_min_ms", "SLUICE_TCP_RTO_MIN_MS", KIND_U32, 1, 60000, 200, FIELD(tcp_rto_min_ms), NULL},
    {"tcp.rto_max_ms", "SLUICE_TCP_RTO_MAX_MS", KIND_U32, 1, 600000, 60000, FIELD(tcp_rto_max_ms), NULL},
    {"tcp.msl_ms", "SLUICE_TCP_MSL_MS", KIND_U32, 1, 600000, 30000, FIELD(tcp_msl_ms), NULL},
    {"tcp.delack_ms", "SLUICE_TCP_DELACK_MS", KIND_U32, 1, 500, 40, FIELD(tcp_delack_ms), NULL},
    {"tcp.sndbuf", "SLUICE_TCP_SNDBUF", KIND_U32, 4096, 1u << 30, 262144, FIELD(tcp_sndbuf), NULL},
    {"tcp.rcvbuf", "SLUICE_TCP_RCVBUF", KIND_U32, 4096, 1u << 30, 262144, FIELD(tcp_rcvbuf), NULL},
    {"tcp.rcvbuf_max", "SLUICE_TCP_RCVBUF_MAX", KIND_U32, 4096, 1u << 30, 4194304, FIELD(tcp_rcvbuf_max), NULL},
    {"tcp.max_conns", "SLUICE_TCP_MAX_CONNS", KIND_U32, 16, 4194304, 65536, FIELD(tcp_max_conns), NULL},
    {"tcp.backlog_max", "SLUICE_TCP_BACKLOG_MAX", KIND_U32, 1, 65535, 4096, FIELD(tcp_backlog_max), NULL},
    {"tcp.syn_retries", "SLUICE_TCP_SYN_RETRIES", KIND_U32, 1, 127, 6, FIELD(tcp_syn_retries), NULL},
    {"tcp.synack_retries", "SLUICE_TCP_SYNACK_RETRIES", KIND_U32, 1, 127, 5, FIELD(tcp_synack_retries), NULL},
    {"tcp.retries", "SLUICE_TCP_RETRIES", KIND_U32, 1, 127, 15, FIELD(tcp_retries), NULL},
    {"tcp.ooo_max_segs", "SLUICE_TCP_OOO_MAX_SEGS", KIND_U32, 1, 65536, 256, FIELD(tcp_ooo_max_segs), NULL},
    {"tcp.sack", "SLUICE_TCP_SACK", KIND_U32, 0, 1, 1, FIELD(tcp_sack), NULL},
    {"tcp.timestamps", "SLUICE_TCP_TIMESTAMPS", KIND_U32, 0, 1, 1, FIELD(tcp_timestamps), NULL},
    {"tcp.wscale", "SLUICE_TCP_WSCALE", KIND_U32, 0, 1, 1, FIELD(tcp_wscale), NULL},
    {"tcp.syncookies", "SLUICE_TCP_SYNCOOKIES", KIND_U32, 0, 1, 1, FIELD(tcp_syncookies), NULL},
    {"tcp.cc", "SLUICE_TCP_CC", KIND_STRING, 1, 15, 0, FIELD(tcp_cc), "cubic"},
    {"mon.mode", "SLUICE_MON_MODE", KIND_STRING, 1, 15, 0, FIELD(mon_mode), "off"},
    {"mon.port0", "SLUICE_MON_PORT0", KIND_STRING, 0, SLUICE_DEVARGS_MAX - 1, 0, FIELD(mon_port0), ""},
    {"mon.port1", "SLUICE_MON_PORT1", KIND_STRING, 0, SLUICE_DEVARGS_MAX - 1, 0, FIELD(mon_port1), ""},
    {"mon.max_flows", "SLUICE_MON_MAX_FLOWS", KIND_U32, 16, 4194304, 65536, FIELD(mon_max_flows), NULL},
    {"mon.buf_bytes", "SLUICE_MON_BUF_BYTES", KIND_U32, 0, 1u << 30, 16384, FIELD(mon_buf_bytes), NULL},
    {"mon.reass_segs", "SLUICE_MON_REASS_SEGS", KIND_U32, 1, 65536, 64, FIELD(mon_reass_segs), NULL},
    {"mon.idle_timeout_ms", "SLUICE_MON_IDLE_TIMEOUT_MS", KIND_U32, 1, 86400000, 30000, FIELD(mon_idle_timeout_ms),
     NULL},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* eal.args while it is being parsed, before it replaces cfg's. seen counts
 * every argument given, including those past the limit, for the message. */
struct arg_list {
    int argc;
    char *argv[SLUICE_EAL_ARGS_MAX];
    size_t seen;
};

/* ---- messages ---- */

/* Replaces control bytes with '?' so err stays one printable line whatever
 * the input (a file name or value may hold newlines or escape codes). */
static void sanitize(char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
    }
}

static void err_printf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err_printf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    sanitize(err);
}

static void err_clear(char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
}

/* Copies at most SHOW_MAX bytes of s (len bytes, may hold NULs) into dst
 * (SHOW_MAX + 4 bytes) for quoting, marking a cut with "...". */
static void show(char dst[SHOW_MAX + 4], const char *s, size_t len)
{
    size_t n = len > SHOW_MAX ? SHOW_MAX : len;

    /* Do not end in the middle of a UTF-8 sequence. */
    if (n < len) {
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = s[i] == '\0' ? '?' : s[i];
    strcpy(dst + n, n < len ? "..." : "");
}

/* What key k accepts, for "expected ..." messages. */
static void describe_expected(const struct key_desc *k, char *buf, size_t n)
{
    switch (k->kind) {
    case KIND_U32:
        snprintf(buf, n, "an integer in %u..%u", (unsigned)k->min, (unsigned)k->max);
        return;
    case KIND_POW2:
        snprintf(buf, n, "a power of two in %u..%u", (unsigned)k->min, (unsigned)k->max);
        return;
    case KIND_LOG_LEVEL:
        snprintf(buf, n, "one of error, warn, info, debug");
        return;
    case KIND_HUGEPAGES:
        snprintf(buf, n, "one of auto, on, off");
        return;
    case KIND_ARGS:
        snprintf(buf, n, "a string or a sequence of strings");
        return;
    case KIND_IPV4:
        snprintf(buf, n, "an IPv4 address a.b.c.d");
        return;
    case KIND_STRING:
        snprintf(buf, n, "a string of 1..%u bytes", (unsigned)k->max);
        return;
    }
    snprintf(buf, n, "a value");
}

/* Writes "expected <what k takes>, got '<s>'" into why. */
static int bad_value(const struct key_desc *k, const char *s, size_t len, char *why, size_t whylen)
{
    char want[64], got[SHOW_MAX + 4];

    describe_expected(k, want, sizeof(want));
    show(got, s, len);
    snprintf(why, whylen, "expected %s, got '%s'", want, got);
    return -EINVAL;
}

/* ---- the key table ---- */

static void *field(struct sluice_config *cfg, const struct key_desc *k)
{
    return (char *)cfg + k->off;
}

/* The first key of section sec (seclen bytes), or NULL if there is none. */
static const struct key_desc *find_section(const char *sec, size_t seclen)
{
    /* A NUL inside sec would let strncmp match a shorter name. */
    if (memchr(sec, '\0', seclen) != NULL)
        return NULL;
    for (size_t i = 0; i < NKEYS; i++) {
        const char *name = keys[i].name;

        if (strncmp(name, sec, seclen) == 0 && name[seclen] == '.')
            return &keys[i];
    }
    return NULL;
}

/* The key named "<section of sec>.<key>" (key is keylen bytes), or NULL. */
static const struct key_desc *find_key(const struct key_desc *sec, const char *key, size_t keylen)
{
    size_t seclen = (size_t)(strchr(sec->name, '.') - sec->name);

    if (memchr(key, '\0', keylen) != NULL)
        return NULL;
    for (size_t i = 0; i < NKEYS; i++) {
        const char *name = keys[i].name;

        if (strncmp(name, sec->name, seclen + 1) == 0 && strlen(name + seclen + 1) == keylen &&
            memcmp(name + seclen + 1, key, keylen) == 0)
            return &keys[i];
    }
    return NULL;
}

/* ---- values ---- */

/* Decimal digits only: no sign, no spaces, no base prefix, no overflow. */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > UINT32_MAX)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool parse_hugepages(const char *s, enum sluice_hugepages *out)
{
    static const char *const names[] = {"auto", "on", "off"};

    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum sluice_hugepages)i;
            return true;
        }
    }
    return false;
}

/* A dotted quad (inet_pton: exactly four decimal parts) into a network-order uint32_t. */
static int apply_ipv4(struct sluice_config *cfg, const struct key_desc *k, const char *s, size_t len, char *why,
                      size_t whylen)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1)
        return bad_value(k, s, len, why, whylen);
    *(uint32_t *)field(cfg, k) = a.s_addr;
    return 0;
}

/* Stores the scalar s (len bytes, NUL at s[len]) as key k's value in cfg.
 * 0, or -EINVAL with "expected ..., got '...'" in why. */
static int apply_scalar(struct sluice_config *cfg, const struct key_desc *k, const char *s, size_t len, char *why,
                        size_t whylen)
{
    enum sluice_log_level lvl;
    enum sluice_hugepages hp;
    uint32_t v;

    /* An embedded NUL would make the C-string parsers below see less than
     * was written. */
    if (memchr(s, '\0', len) != NULL)
        return bad_value(k, s, len, why, whylen);
    switch (k->kind) {
    case KIND_LOG_LEVEL:
        if (sluice_log_level_parse(s, &lvl) != 0)
            return bad_value(k, s, len, why, whylen);
        *(enum sluice_log_level *)field(cfg, k) = lvl;
        return 0;
    case KIND_HUGEPAGES:
        if (!parse_hugepages(s, &hp))
            return bad_value(k, s, len, why, whylen);
        *(enum sluice_hugepages *)field(cfg, k) = hp;
        return 0;
    case KIND_U32:
    case KIND_POW2:
        if (!parse_u32(s, len, &v) || v < k->min || v > k->max)
            return bad_value(k, s, len, why, whylen);
        if (k->kind == KIND_POW2 && (v & (v - 1)) != 0)
            return bad_value(k, s, len, why, whylen);
        *(uint32_t *)field(cfg, k) = v;
        return 0;
    case KIND_IPV4:
        return apply_ipv4(cfg, k, s, len, why, whylen);
    case KIND_STRING:
        if (len < k->min || len > k->max)
            return bad_value(k, s, len, why, whylen);
        memcpy(field(cfg, k), s, len);
        ((char *)field(cfg, k))[len] = '\0';
        return 0;
    case KIND_ARGS:
        break;
    }
    return bad_value(k, s, len, why, whylen);
}

/* ---- eal.args ---- */

static void args_free(struct arg_list *a)
{
    for (int i = 0; i < a->argc; i++) {
        free(a->argv[i]);
        a->argv[i] = NULL;
    }
    a->argc = 0;
    a->seen = 0;
}

/* Appends a copy of s (len bytes). Past the limit it only counts, so the
 * caller can say how many were given. 0 or -ENOMEM. */
static int args_push(struct arg_list *a, const char *s, size_t len)
{
    char *copy;

    a->seen++;
    if (a->argc >= SLUICE_EAL_ARGS_MAX)
        return 0;
    copy = strndup(s, len);
    if (copy == NULL)
        return -ENOMEM;
    a->argv[a->argc++] = copy;
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Appends the whitespace-separated words of s (len bytes). 0 or -ENOMEM. */
static int args_split(struct arg_list *a, const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t start;
        int rc;

        while (i < len && is_space(s[i]))
            i++;
        if (i == len)
            break;
        start = i;
        while (i < len && !is_space(s[i]))
            i++;
        rc = args_push(a, s + start, i - start);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* -EINVAL with a message in why when more than the limit were given. */
static int args_check_count(const struct arg_list *a, char *why, size_t whylen)
{
    if (a->seen <= SLUICE_EAL_ARGS_MAX)
        return 0;
    snprintf(why, whylen, "expected at most %d arguments, got %zu", SLUICE_EAL_ARGS_MAX, a->seen);
    return -EINVAL;
}

/* Replaces cfg's arguments with a's (a is emptied; cfg takes the strings). */
static void args_commit(struct sluice_config *cfg, struct arg_list *a)
{
    sluice_config_free(cfg);
    for (int i = 0; i < a->argc; i++) {
        cfg->eal_argv[i] = a->argv[i];
        a->argv[i] = NULL;
    }
    cfg->eal_argc = a->argc;
    a->argc = 0;
    a->seen = 0;
}

/* Installs work (whose eal_argv still aliases cfg's) and, when have_args,
 * the pending argument list in place of cfg's. */
static void commit(struct sluice_config *cfg, const struct sluice_config *work, struct arg_list *args,
                   bool have_args)
{
    int argc = cfg->eal_argc;
    char *argv[SLUICE_EAL_ARGS_MAX];

    memcpy(argv, cfg->eal_argv, sizeof(argv));
    *cfg = *work;
    cfg->eal_argc = argc;
    memcpy(cfg->eal_argv, argv, sizeof(argv));
    if (have_args)
        args_commit(cfg, args);
}

/* ---- YAML walking ---- */

struct parse {
    yaml_parser_t yp;
    yaml_event_t ev;
    bool have_ev; /* ev holds an event that must be deleted */
    const char *name;
    const char *buf;
    size_t len;
    char *err;
    size_t errlen;
    struct sluice_config work; /* values parsed so far; eal_argv aliases cfg's */
    struct arg_list args;      /* pending eal.args */
    bool have_args;            /* eal.args was given: args replaces cfg's */
};

static size_t ev_line(const struct parse *p)
{
    return p->ev.start_mark.line + 1;
}

static const char *ev_str(const struct parse *p)
{
    return (const char *)p->ev.data.scalar.value;
}

static size_t ev_len(const struct parse *p)
{
    return p->ev.data.scalar.length;
}

static int fail(struct parse *p, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes "<name>:<line>: <message>" into err. Always -EINVAL. */
static int fail(struct parse *p, size_t line, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_printf(p->err, p->errlen, "%s:%zu: %s", p->name, line, msg);
    return -EINVAL;
}

/* "'value'" for a scalar, else what kind of node the event starts. */
static void describe_given(const struct parse *p, char *buf, size_t n)
{
    char got[SHOW_MAX + 4];

    switch (p->ev.type) {
    case YAML_SCALAR_EVENT:
        show(got, ev_str(p), ev_len(p));
        snprintf(buf, n, "'%s'", got);
        return;
    case YAML_MAPPING_START_EVENT:
        snprintf(buf, n, "a mapping");
        return;
    case YAML_SEQUENCE_START_EVENT:
        snprintf(buf, n, "a sequence");
        return;
    case YAML_ALIAS_EVENT:
        snprintf(buf, n, "an alias");
        return;
    default:
        snprintf(buf, n, "nothing");
        return;
    }
}

/* The 1-based line holding byte offset off of the input. */
static size_t line_at(const struct parse *p, size_t off)
{
    size_t line = 1;

    for (size_t i = 0; i < off && i < p->len; i++)
        line += p->buf[i] == '\n';
    return line;
}

/* Turns libyaml's error state into a message. -ENOMEM or -EINVAL. */
static int yaml_fail(struct parse *p)
{
    const yaml_parser_t *y = &p->yp;
    const char *problem = y->problem != NULL ? y->problem : "unknown error";

    if (y->error == YAML_MEMORY_ERROR) {
        err_printf(p->err, p->errlen, "%s: out of memory while parsing YAML", p->name);
        return -ENOMEM;
    }
    /* Reader (encoding) errors carry a byte offset rather than a mark. */
    if (y->error == YAML_READER_ERROR)
        return fail(p, line_at(p, y->problem_offset), "YAML syntax error: %s", problem);
    if (y->context != NULL)
        return fail(p, y->problem_mark.line + 1, "YAML syntax error: %s (%s)", problem, y->context);
    return fail(p, y->problem_mark.line + 1, "YAML syntax error: %s", problem);
}

/* Replaces p->ev with the next event. 0, -EINVAL or -ENOMEM. */
static int next_event(struct parse *p)
{
    if (p->have_ev) {
        yaml_event_delete(&p->ev);
        p->have_ev = false;
    }
    if (!yaml_parser_parse(&p->yp, &p->ev))
        return yaml_fail(p);
    p->have_ev = true;
    return 0;
}

/* An empty plain scalar, "~" or "null": YAML's way to say nothing. */
static bool ev_is_null(const struct parse *p)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

    if (p->ev.type != YAML_SCALAR_EVENT || p->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
        if (ev_len(p) == strlen(nulls[i]) && memcmp(ev_str(p), nulls[i], ev_len(p)) == 0)
            return true;
    }
    return false;
}

/* "key 'k': expected ..., got <current event>" at line. */
static int fail_shape(struct parse *p, const struct key_desc *k, size_t line)
{
    char want[64], got[SHOW_MAX + 8];

    describe_expected(k, want, sizeof(want));
    describe_given(p, got, sizeof(got));
    return fail(p, line, "key '%s': expected %s, got %s", k->name, want, got);
}

/* The items of an eal.args sequence, up to its end. */
static int parse_args_sequence(struct parse *p, const struct key_desc *k)
{
    char why[MSG_MAX];
    int rc;

    for (;;) {
        rc = next_event(p);
        if (rc != 0)
            return rc;
        if (p->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (p->ev.type != YAML_SCALAR_EVENT || memchr(ev_str(p), '\0', ev_len(p)) != NULL)
            return fail_shape(p, k, ev_line(p));
        rc = args_push(&p->args, ev_str(p), ev_len(p));
        if (rc != 0)
            return rc;
    }
    if (args_check_count(&p->args, why, sizeof(why)) != 0)
        return fail(p, ev_line(p), "key '%s': %s", k->name, why);
    return 0;
}

/* The value of eal.args (the current event); line is the key's line. A
 * repeated eal.args replaces the earlier one. */
static int parse_args_value(struct parse *p, const struct key_desc *k, size_t line)
{
    char why[MSG_MAX];
    int rc;

    args_free(&p->args);
    p->have_args = true;
    if (p->ev.type == YAML_SEQUENCE_START_EVENT)
        return parse_args_sequence(p, k);
    if (p->ev.type != YAML_SCALAR_EVENT || memchr(ev_str(p), '\0', ev_len(p)) != NULL)
        return fail_shape(p, k, line);
    if (ev_is_null(p))
        return 0;
    rc = args_split(&p->args, ev_str(p), ev_len(p));
    if (rc != 0)
        return rc;
    if (args_check_count(&p->args, why, sizeof(why)) != 0)
        return fail(p, line, "key '%s': %s", k->name, why);
    return 0;
}

/* One "key: value" pair of section sec; the current event is the key. */
static int parse_key(struct parse *p, const struct key_desc *sec)
{
    int seclen = (int)(strchr(sec->name, '.') - sec->name);
    char shown[SHOW_MAX + 8], why[MSG_MAX];
    const struct key_desc *k;
    size_t line = ev_line(p);
    int rc;

    if (p->ev.type != YAML_SCALAR_EVENT) {
        describe_given(p, shown, sizeof(shown));
        return fail(p, line, "keys of section '%.*s' must be names, got %s", seclen, sec->name, shown);
    }
    k = find_key(sec, ev_str(p), ev_len(p));
    if (k == NULL) {
        show(shown, ev_str(p), ev_len(p));
        return fail(p, line, "unknown key '%.*s.%s'", seclen, sec->name, shown);
    }
    rc = next_event(p);
    if (rc != 0)
        return rc;
    if (k->kind == KIND_ARGS)
        return parse_args_value(p, k, line);
    if (p->ev.type != YAML_SCALAR_EVENT)
        return fail_shape(p, k, line);
    if (apply_scalar(&p->work, k, ev_str(p), ev_len(p), why, sizeof(why)) != 0)
        return fail(p, line, "key '%s': %s", k->name, why);
    return 0;
}

/* The value of section sec: a mapping of keys, or nothing at all. */
static int parse_section_body(struct parse *p, const struct key_desc *sec)
{
    int seclen = (int)(strchr(sec->name, '.') - sec->name);
    char got[SHOW_MAX + 8];
    int rc;

    if (ev_is_null(p))
        return 0;
    if (p->ev.type != YAML_MAPPING_START_EVENT) {
        describe_given(p, got, sizeof(got));
        return fail(p, ev_line(p), "section '%.*s' must be a mapping of keys, got %s", seclen, sec->name, got);
    }
    for (;;) {
        rc = next_event(p);
        if (rc != 0)
            return rc;
        if (p->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        rc = parse_key(p, sec);
        if (rc != 0)
            return rc;
    }
}

/* One "section: {...}" pair; the current event is the section name. */
static int parse_section(struct parse *p)
{
    char shown[SHOW_MAX + 8];
    const struct key_desc *sec;
    int rc;

    if (p->ev.type != YAML_SCALAR_EVENT) {
        describe_given(p, shown, sizeof(shown));
        return fail(p, ev_line(p), "section names must be plain names, got %s", shown);
    }
    sec = find_section(ev_str(p), ev_len(p));
    if (sec == NULL) {
        show(shown, ev_str(p), ev_len(p));
        return fail(p, ev_line(p), "unknown section '%s'", shown);
    }
    rc = next_event(p);
    if (rc != 0)
        return rc;
    return parse_section_body(p, sec);
}

/* The root node of the document: a mapping of sections, or nothing. */
static int parse_root(struct parse *p)
{
    char got[SHOW_MAX + 8];
    int rc;

    if (ev_is_null(p))
        return 0;
    if (p->ev.type != YAML_MAPPING_START_EVENT) {
        describe_given(p, got, sizeof(got));
        return fail(p, ev_line(p), "top level must be a mapping of sections, got %s", got);
    }
    for (;;) {
        rc = next_event(p);
        if (rc != 0)
            return rc;
        if (p->ev.type == YAML_MAPPING_END_EVENT)
            return 0;
        rc = parse_section(p);
        if (rc != 0)
            return rc;
    }
}

/* The whole stream: nothing, or exactly one document. */
static int parse_stream(struct parse *p)
{
    int rc;

    rc = next_event(p); /* stream start */
    rc = rc ? rc : next_event(p);
    if (rc != 0 || p->ev.type == YAML_STREAM_END_EVENT)
        return rc;
    rc = next_event(p); /* document start -> root node */
    rc = rc ? rc : parse_root(p);
    rc = rc ? rc : next_event(p); /* document end */
    rc = rc ? rc : next_event(p);
    if (rc != 0)
        return rc;
    /* Several documents would each override the last: almost certainly a
     * mistake (two files concatenated), so refuse rather than guess. */
    if (p->ev.type == YAML_DOCUMENT_START_EVENT)
        return fail(p, ev_line(p), "only one YAML document is allowed");
    return 0;
}

int sluice_config_parse_buffer(struct sluice_config *cfg, const char *buf, size_t len, const char *name, char *err,
                               size_t errlen)
{
    struct parse *p;
    int rc;

    err_clear(err, errlen);
    if (name == NULL)
        name = "<config>";
    if (cfg == NULL || (buf == NULL && len > 0)) {
        err_printf(err, errlen, "%s: no config or no buffer given", name);
        return -EINVAL;
    }
    if (len == 0)
        return 0;
    /* On the heap: the parser plus the pending list are a few KiB. */
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        err_printf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    if (!yaml_parser_initialize(&p->yp)) {
        free(p);
        err_printf(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    p->name = name;
    p->buf = buf;
    p->len = len;
    p->err = err;
    p->errlen = errlen;
    p->work = *cfg;
    yaml_parser_set_input_string(&p->yp, (const unsigned char *)buf, len);
    rc = parse_stream(p);
    if (rc == 0)
        commit(cfg, &p->work, &p->args, p->have_args);
    if (p->have_ev)
        yaml_event_delete(&p->ev);
    yaml_parser_delete(&p->yp);
    args_free(&p->args);
    free(p);
    return rc;
}

/* ---- files ---- */

/* "<path>: <what>: <strerror(-rc)>"; returns rc. */
static int file_fail(const char *path, const char *what, int rc, char *err, size_t errlen)
{
    char buf[128];

    err_printf(err, errlen, "%s: %s: %s", path, what, strerror_r(-rc, buf, sizeof(buf)));
    return rc;
}

/* Reads all of fd into a malloc'd *out (*outlen bytes). 0, -EFBIG,
 * -ENOMEM or -errno from read(2). */
static int read_all(int fd, char **out, size_t *outlen)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);

    if (buf == NULL)
        return -ENOMEM;
    for (;;) {
        ssize_t n;

        if (len == cap) {
            char *bigger = cap > CONFIG_FILE_MAX ? NULL : realloc(buf, cap * 2);

            if (bigger == NULL) {
                free(buf);
                return cap > CONFIG_FILE_MAX ? -EFBIG : -ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = -errno;

            free(buf);
            return rc;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > CONFIG_FILE_MAX) {
        free(buf);
        return -EFBIG;
    }
    *out = buf;
    *outlen = len;
    return 0;
}

int sluice_config_load_file(struct sluice_config *cfg, const char *path, char *err, size_t errlen)
{
    struct stat st;
    size_t len = 0;
    char *buf = NULL;
    int fd, rc;

    err_clear(err, errlen);
    if (cfg == NULL || path == NULL) {
        err_printf(err, errlen, "no config or no file name given");
        return -EINVAL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return file_fail(path, "cannot open config file", -errno, err, errlen);
    /* read(2) on a directory fails with a less obvious EISDIR later. */
    rc = fstat(fd, &st) != 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
    if (rc != 0) {
        close(fd);
        return file_fail(path, "cannot read config file", rc, err, errlen);
    }
    rc = read_all(fd, &buf, &len);
    close(fd);
    if (rc == -EFBIG) {
        err_printf(err, errlen, "%s: config file is larger than %u bytes", path, CONFIG_FILE_MAX);
        return rc;
    }
    if (rc != 0)
        return file_fail(path, "cannot read config file", rc, err, errlen);
    rc = sluice_config_parse_buffer(cfg, buf, len, path, err, errlen);
    free(buf);
    return rc;
}

/* ---- environment ---- */

/* Applies one variable's value to work (or the pending list). */
static int apply_env_key(const struct key_desc *k, const char *v, struct sluice_config *work, struct arg_list *args,
                         char *why, size_t whylen)
{
    int rc;

    if (k->kind != KIND_ARGS)
        return apply_scalar(work, k, v, strlen(v), why, whylen);
    args_free(args);
    rc = args_split(args, v, strlen(v));
    if (rc != 0) {
        snprintf(why, whylen, "out of memory");
        return rc;
    }
    return args_check_count(args, why, whylen);
}

int sluice_config_apply_env(struct sluice_config *cfg, char *err, size_t errlen)
{
    struct sluice_config work;
    struct arg_list args = {0};
    bool have_args = false;
    char why[MSG_MAX];

    err_clear(err, errlen);
    if (cfg == NULL) {
        err_printf(err, errlen, "no config given");
        return -EINVAL;
    }
    work = *cfg;
    for (size_t i = 0; i < NKEYS; i++) {
        const char *v = getenv(keys[i].env);
        int rc;

        if (v == NULL)
            continue;
        rc = apply_env_key(&keys[i], v, &work, &args, why, sizeof(why));
        if (rc != 0) {
            err_printf(err, errlen, "%s: %s", keys[i].env, why);
            args_free(&args);
            return rc;
        }
        have_args |= keys[i].kind == KIND_ARGS;
    }
    commit(cfg, &work, &args, have_args);
    return 0;
}

/* ---- whole config ---- */

void sluice_config_defaults(struct sluice_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key_desc *k = &keys[i];

        switch (k->kind) {
        case KIND_U32:
        case KIND_POW2:
            *(uint32_t *)field(cfg, k) = k->def;
            break;
        case KIND_LOG_LEVEL:
            *(enum sluice_log_level *)field(cfg, k) = (enum sluice_log_level)k->def;
            break;
        case KIND_HUGEPAGES:
            *(enum sluice_hugepages *)field(cfg, k) = (enum sluice_hugepages)k->def;
            break;
        case KIND_IPV4:
            inet_pton(AF_INET, k->sdef, field(cfg, k));
            break;
        case KIND_STRING:
            snprintf(field(cfg, k), k->max + 1, "%s", k->sdef);
            break;
        case KIND_ARGS:
            break; /* none: memset did it */
        }
    }
}

int sluice_config_load(struct sluice_config *cfg, char *err, size_t errlen)
{
    const char *path = getenv("SLUICE_CONFIG");
    int rc;

    err_clear(err, errlen);
    if (cfg == NULL) {
        err_printf(err, errlen, "no config given");
        return -EINVAL;
    }
    sluice_config_defaults(cfg);
    if (path != NULL && path[0] != '\0') {
        rc = sluice_config_load_file(cfg, path, err, errlen);
        if (rc != 0)
            return rc;
    }
    return sluice_config_apply_env(cfg, err, errlen);
}

void sluice_config_free(struct sluice_config *cfg)
{
    if (cfg == NULL)
        return;
    /* Every slot, not just eal_argc of them: unused slots are NULL, and this
     * stays leak-free even if a caller lowered eal_argc by hand. */
    for (int i = 0; i < SLUICE_EAL_ARGS_MAX; i++) {
        free(cfg->eal_argv[i]);
        cfg->eal_argv[i] = NULL;
    }
    cfg->eal_argc = 0;
}
