/*
 * config.c - mTCP's configuration file, mtcp_init, mtcp_destroy,
 * mtcp_getconf and mtcp_setconf (docs/mtcp.md "Configuration").
 *
 * The file is mTCP's: "key = value" lines, '#' to the end of a line is a
 * comment. Keys mTCP has that mean nothing on Sluice (the I/O module, DPDK
 * memory channels, statistics ports, ...) are accepted and ignored, so an
 * upstream file works unchanged; anything else is an error naming the
 * line, as Sluice's own config does (docs/DESIGN.md "Config").
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MT_DEFAULT_BUF (256 * 1024)

struct mt_conf g_mt_conf;
bool g_mt_inited;
static bool g_conf_set; /* g_mt_conf holds defaults (or setconf's) */

void mt_conf_defaults(struct mt_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    conf->num_cores = 64; /* contexts a program may create: mTCP's MAX_CPUS */
    conf->max_concurrency = 10000;
    conf->max_num_buffers = 10000;
    /* mTCP's default is 8 KiB; a Sluice push is kept until the peer
     * acknowledges it (docs/DESIGN.md "Decisions"), so a buffer of one
     * round trip's worth keeps the pipe full. */
    conf->rcvbuf_size = MT_DEFAULT_BUF;
    conf->sndbuf_size = MT_DEFAULT_BUF;
    conf->tcp_timewait = 0;
    conf->tcp_timeout = 30;
    conf->cpu_mask = 0;
}

static void conf_ensure(void)
{
    if (!g_conf_set) {
        mt_conf_defaults(&g_mt_conf);
        g_conf_set = true;
    }
}

/* ---- the file ---- */

struct parse {
    const char *path;
    int line;
};

static int bad(const struct parse *p, const char *key, const char *val, const char *want)
{
    fprintf(stderr, "mtcp_init: %s:%d: bad value for %s: '%s' (%s)\n", p->path, p->line, key, val, want);
    return -EINVAL;
}

static int int_in(const struct parse *p, const char *key, const char *val, long lo, long hi, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(val, &end, 10);
    if (errno != 0 || end == val || *end != '\0' || v < lo || v > hi) {
        char want[64];
        snprintf(want, sizeof(want), "an integer %ld..%ld", lo, hi);
        return bad(p, key, val, want);
    }
    *out = (int)v;
    return 0;
}

static int mask_of(const struct parse *p, const char *key, const char *val, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(val, &end, 16);
    if (errno != 0 || end == val || *end != '\0' || v == 0 || val[0] == '-')
        return bad(p, key, val, "a non-zero hexadecimal CPU mask");
    *out = v;
    return 0;
}

/* upstream keys that have no meaning here */
static const char *const ignored_keys[] = {
    "io", "num_mem_ch", "stat_print", "multiprocess", "cc", "onvm_serv", "onvm_inst", "onvm_dest",
    "port", /* the device is Sluice's net.devargs */
};

static int set_key(const struct parse *p, struct mt_conf *c, const char *key, const char *val, bool *rcv, bool *snd)
{
    if (strcmp(key, "num_cores") == 0)
        return int_in(p, key, val, 1, 64, &c->num_cores);
    if (strcmp(key, "core_mask") == 0)
        return mask_of(p, key, val, &c->cpu_mask);
    if (strcmp(key, "max_concurrency") == 0)
        return int_in(p, key, val, 1, 1 << 20, &c->max_concurrency);
    if (strcmp(key, "max_num_buffers") == 0)
        return int_in(p, key, val, 1, 1 << 20, &c->max_num_buffers);
    if (strcmp(key, "rcvbuf") == 0) {
        *rcv = true;
        return int_in(p, key, val, 1, 1 << 30, &c->rcvbuf_size);
    }
    if (strcmp(key, "sndbuf") == 0) {
        *snd = true;
        return int_in(p, key, val, 1, 1 << 30, &c->sndbuf_size);
    }
    if (strcmp(key, "tcp_timeout") == 0)
        return int_in(p, key, val, -1, INT_MAX, &c->tcp_timeout);
    if (strcmp(key, "tcp_timewait") == 0)
        return int_in(p, key, val, 0, INT_MAX, &c->tcp_timewait);
    for (size_t i = 0; i < sizeof(ignored_keys) / sizeof(ignored_keys[0]); i++)
        if (strcmp(key, ignored_keys[i]) == 0)
            return 0;
    fprintf(stderr, "mtcp_init: %s:%d: unknown key '%s' (docs/mtcp.md lists the keys)\n", p->path, p->line, key);
    return -EINVAL;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int parse_line(const struct parse *p, struct mt_conf *c, char *line, bool *rcv, bool *snd)
{
    char *hash = strchr(line, '#'), *eq, *key, *val;

    if (hash != NULL)
        *hash = '\0';
    key = trim(line);
    if (*key == '\0')
        return 0;
    eq = strchr(key, '=');
    if (eq == NULL) {
        fprintf(stderr, "mtcp_init: %s:%d: expected 'key = value': '%s'\n", p->path, p->line, key);
        return -EINVAL;
    }
    *eq = '\0';
    key = trim(key);
    val = trim(eq + 1);
    if (*key == '\0' || *val == '\0') {
        fprintf(stderr, "mtcp_init: %s:%d: expected 'key = value'\n", p->path, p->line);
        return -EINVAL;
    }
    return set_key(p, c, key, val, rcv, snd);
}

/* Reads path over *conf (all or nothing). 0 or -errno. */
int mt_conf_load(const char *path, struct mt_conf *conf)
{
    struct parse p = {.path = path, .line = 0};
    struct mt_conf c = *conf;
    bool rcv = false, snd = false;
    char buf[1024];
    int rc = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        rc = -errno;
        fprintf(stderr, "mtcp_init: cannot read %s: %s\n", path, strerror(errno));
        return rc;
    }
    while (rc == 0 && fgets(buf, sizeof(buf), f) != NULL) {
        p.line++;
        if (strchr(buf, '\n') == NULL && !feof(f)) {
            fprintf(stderr, "mtcp_init: %s:%d: line longer than %zu bytes\n", path, p.line, sizeof(buf) - 2);
            rc = -EINVAL;
            break;
        }
        rc = parse_line(&p, &c, buf, &rcv, &snd);
    }
    fclose(f);
    if (rc != 0)
        return rc;
    /* as mTCP: one buffer size given sets both */
    if (rcv && !snd)
        c.sndbuf_size = c.rcvbuf_size;
    if (snd && !rcv)
        c.rcvbuf_size = c.sndbuf_size;
    *conf = c;
    return 0;
}

/* ---- the calls ---- */

static int do_init(const char *config_file)
{
    struct mt_conf c;
    int rc;

    if (g_mt_inited)
        return -EEXIST;
    conf_ensure();
    c = g_mt_conf;
    if (config_file != NULL) {
        rc = mt_conf_load(config_file, &c);
        if (rc != 0)
            return rc;
    }
    rc = demi_init(NULL);
    if (rc != 0 && rc != EEXIST) /* EEXIST: the program started Sluice itself */
        return -rc;
    g_mt_conf = c;
    g_mt_inited = true;
    return 0;
}

MT_API int mtcp_init(const char *config_file)
{
    int rc;

    mt_lock();
    rc = do_init(config_file);
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_destroy(void)
{
    int rc = 0;

    mt_lock();
    if (!g_mt_inited)
        rc = -ENOSYS;
    else
        mt_destroy_all();
    mt_mon_shutdown(); /* after the sockets: closing a flow's socket reads its flow */
    g_mt_inited = false;
    mt_unlock();
    return mt_ret(rc);
}

MT_API int mtcp_getconf(struct mtcp_conf *conf)
{
    if (conf == NULL)
        return mt_ret(-EINVAL);
    mt_lock();
    conf_ensure();
    /* field by field: a caller of the mTCP dialect has a shorter struct */
    conf->num_cores = g_mt_conf.num_cores;
    conf->max_concurrency = g_mt_conf.max_concurrency;
    conf->max_num_buffers = g_mt_conf.max_num_buffers;
    conf->rcvbuf_size = g_mt_conf.rcvbuf_size;
    conf->sndbuf_size = g_mt_conf.sndbuf_size;
    conf->tcp_timewait = g_mt_conf.tcp_timewait;
    conf->tcp_timeout = g_mt_conf.tcp_timeout;
    conf->cpu_mask = g_mt_conf.cpu_mask;
    mt_unlock();
    return 0;
}

MT_API int mtcp_setconf(const struct mtcp_conf *conf)
{
    if (conf == NULL)
        return mt_ret(-EINVAL);
    mt_lock();
    conf_ensure();
    if (conf->num_cores > 0)
        g_mt_conf.num_cores = conf->num_cores > 64 ? 64 : conf->num_cores;
    if (conf->max_concurrency > 0)
        g_mt_conf.max_concurrency = conf->max_concurrency;
    if (conf->max_num_buffers > 0)
        g_mt_conf.max_num_buffers = conf->max_num_buffers;
    if (conf->rcvbuf_size > 0)
        g_mt_conf.rcvbuf_size = conf->rcvbuf_size;
    if (conf->sndbuf_size > 0)
        g_mt_conf.sndbuf_size = conf->sndbuf_size;
    if (conf->tcp_timewait > 0)
        g_mt_conf.tcp_timewait = conf->tcp_timewait;
    if (conf->tcp_timeout > 0)
        g_mt_conf.tcp_timeout = conf->tcp_timeout;
    mt_unlock();
    return 0;
}
