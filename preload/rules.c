/*
 * rules.c - which sockets Sluice takes.
 *
 * SLUICE_PRELOAD_RULES is a list of entries separated by commas or spaces,
 * tried in order, the first that matches deciding:
 *
 *     sluice=NET[/LEN][:PORT[-PORT]]   Sluice takes the socket
 *     kernel=NET[/LEN][:PORT[-PORT]]   the kernel keeps it
 *
 * NET is a.b.c.d or '*' (any); the address matched is the one given to
 * bind (0.0.0.0 for a wildcard bind or a listen without bind) or to
 * connect/sendto. A socket no entry matches is taken. The default,
 * "kernel=127.0.0.0/8", leaves loopback to the kernel and takes the rest;
 * AF_INET6 and AF_UNIX sockets are never taken.
 */
/* Our definitions of pread, sendfile and fcntl must keep their own names
 * (glibc redirects them to the *64 names under _FILE_OFFSET_BITS=64, which
 * Meson sets); on 64-bit targets off_t is 64 bits either way. */
#undef _FILE_OFFSET_BITS
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RULES_MAX 32

struct rule {
    bool take;
    uint32_t net, mask;    /* host order */
    uint16_t plo, phi;     /* host order */
};

static struct rule rules[RULES_MAX];
static int nrules;
static int rules_state; /* 0 not loaded, 1 good, -1 bad */

static int parse_rule(const char *tok, struct rule *r)
{
    char net[64];
    const char *eq = strchr(tok, '='), *rest;
    unsigned len = 32, plo = 0, phi = 65535;

    if (eq == NULL)
        return -1;
    if ((size_t)(eq - tok) == 6 && strncmp(tok, "sluice", 6) == 0)
        r->take = true;
    else if ((size_t)(eq - tok) == 6 && strncmp(tok, "kernel", 6) == 0)
        r->take = false;
    else
        return -1;
    rest = eq + 1;
    size_t n = strcspn(rest, "/:");
    if (n == 0 || n >= sizeof(net))
        return -1;
    memcpy(net, rest, n);
    net[n] = '\0';
    rest += n;
    if (strcmp(net, "*") == 0) {
        r->net = 0;
        len = 0;
    } else {
        struct in_addr a;
        if (inet_pton(AF_INET, net, &a) != 1)
            return -1;
        r->net = ntohl(a.s_addr);
    }
    if (*rest == '/') {
        char *end;
        unsigned long v = strtoul(rest + 1, &end, 10);
        if (end == rest + 1 || v > 32)
            return -1;
        len = (unsigned)v;
        rest = end;
    }
    if (*rest == ':') {
        char *end;
        unsigned long a = strtoul(rest + 1, &end, 10), b;
        if (end == rest + 1 || a > 65535)
            return -1;
        b = a;
        if (*end == '-') {
            const char *s = end + 1;
            b = strtoul(s, &end, 10);
            if (end == s || b > 65535 || b < a)
                return -1;
        }
        plo = (unsigned)a;
        phi = (unsigned)b;
        rest = end;
    }
    if (*rest != '\0')
        return -1;
    r->mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    r->net &= r->mask;
    r->plo = (uint16_t)plo;
    r->phi = (uint16_t)phi;
    return 0;
}

int rules_load(void)
{
    const char *env = getenv("SLUICE_PRELOAD_RULES");
    char buf[2048], *save = NULL;

    if (rules_state != 0)
        return rules_state > 0 ? 0 : -EINVAL;
    if (env == NULL || *env == '\0')
        env = "kernel=127.0.0.0/8";
    if (strlen(env) >= sizeof(buf)) {
        plog(PLOG_ERROR, "SLUICE_PRELOAD_RULES: longer than %zu bytes", sizeof(buf) - 1);
        rules_state = -1;
        return -EINVAL;
    }
    snprintf(buf, sizeof(buf), "%s", env);
    nrules = 0;
    for (char *tok = strtok_r(buf, " ,", &save); tok != NULL; tok = strtok_r(NULL, " ,", &save)) {
        if (nrules == RULES_MAX || parse_rule(tok, &rules[nrules]) != 0) {
            plog(PLOG_ERROR,
                 "SLUICE_PRELOAD_RULES: bad entry '%s' (expected sluice=NET[/LEN][:PORT[-PORT]] or "
                 "kernel=..., NET a.b.c.d or *, at most %d entries); no socket is taken",
                 tok, RULES_MAX);
            rules_state = -1;
            return -EINVAL;
        }
        nrules++;
    }
    rules_state = 1;
    return 0;
}

int rules_take(uint32_t addr, uint16_t port)
{
    uint32_t a = ntohl(addr);
    uint16_t p = ntohs(port);

    if (rules_load() != 0)
        return -EINVAL;
    for (int i = 0; i < nrules; i++) {
        const struct rule *r = &rules[i];
        if ((a & r->mask) == r->net && p >= r->plo && p <= r->phi)
            return r->take ? 1 : 0;
    }
    return 1;
}
