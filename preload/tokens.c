/*
 * tokens.c - the demi tokens the interposer has outstanding, keyed by
 * token (a queue descriptor may be reused while results of its old queue
 * are still on their way): open addressing, power-of-two capacity.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/* The table is the family's (struct fam): a completion one process
 * collects may be for a token another issued. Open addressing,
 * power-of-two capacity. */
#define toks (g_fam->toks)
#define tok_cap (g_fam->tok_cap)
#define tok_n (g_fam->tok_n)

static size_t tok_hash(demi_qtoken_t qt)
{
    return (size_t)((qt * 0x9e3779b97f4a7c15ull) >> 17);
}

static void tok_put_raw(struct tok *tab, size_t cap, const struct tok *t)
{
    size_t i = tok_hash(t->qt) & (cap - 1);

    while (tab[i].qt != 0)
        i = (i + 1) & (cap - 1);
    tab[i] = *t;
}

int tok_add(const struct tok *t)
{
    if ((tok_n + 1) * 2 > tok_cap) {
        size_t ncap = tok_cap ? tok_cap * 2 : 1024;
        struct tok *n = arena_calloc(ncap, sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        for (size_t i = 0; i < tok_cap; i++)
            if (toks[i].qt != 0)
                tok_put_raw(n, ncap, &toks[i]);
        arena_free(toks);
        toks = n;
        tok_cap = ncap;
    }
    tok_put_raw(toks, tok_cap, t);
    tok_n++;
    return 0;
}

/* Removes the entry of qt into *out; false if unknown. */
bool tok_take(demi_qtoken_t qt, struct tok *out)
{
    size_t i, j;

    if (tok_cap == 0)
        return false;
    i = tok_hash(qt) & (tok_cap - 1);
    while (toks[i].qt != qt) {
        if (toks[i].qt == 0)
            return false;
        i = (i + 1) & (tok_cap - 1);
    }
    *out = toks[i];
    toks[i].qt = 0;
    tok_n--;
    /* re-insert the rest of the cluster (deletion in linear probing) */
    for (j = (i + 1) & (tok_cap - 1); toks[j].qt != 0; j = (j + 1) & (tok_cap - 1)) {
        struct tok t = toks[j];
        toks[j].qt = 0;
        tok_put_raw(toks, tok_cap, &t);
    }
    return true;
}
