/*
 * qtoken.c - the token table (see qtoken.h).
 *
 * Ops live in fixed qs->chunks that never move, so lists may hold pointers to
 * them while the table grows. Free slots form a LIFO list (warm in cache).
 */
#include "qtoken.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "engine.h"
#include "mbuf.h"
#include "queue.h"

#define CHUNK_SHIFT 10
#define CHUNK_OPS (1u << CHUNK_SHIFT)
#define NO_SLOT UINT32_MAX

/* The table, in DPDK's heap: shared with processes forked after demi_init
 * (docs/DESIGN.md "Process families"), like the ops themselves. */
struct qtoken_state {
    struct op *chunks[QTOKEN_MAX / CHUNK_OPS];
    uint32_t nslots;
    uint32_t free_head;
    uint16_t engine; /* the engine's id: in every token of this table */
    size_t outstanding;
    struct op_list done_list;
};

_Static_assert(ENGINE_MAX <= 1u << (32 - QTOKEN_ENGINE_SHIFT), "an engine id fits a token's slot word");
_Static_assert(QTOKEN_MAX <= 1u << QTOKEN_ENGINE_SHIFT, "a slot fits below the engine id");

int qtoken_table_create(unsigned engine_id, struct qtoken_state **out)
{
    struct qtoken_state *qs = rte_zmalloc("sluice_qtokens", sizeof(*qs), 0);

    if (qs == NULL)
        return -ENOMEM;
    qs->free_head = NO_SLOT;
    qs->engine = (uint16_t)engine_id;
    TAILQ_INIT(&qs->done_list);
    *out = qs;
    return 0;
}

void qtoken_table_destroy(struct qtoken_state *qs)
{
    if (qs == NULL)
        return;
    for (uint32_t c = 0; c < qs->nslots >> CHUNK_SHIFT; c++)
        rte_free(qs->chunks[c]);
    rte_free(qs);
}

static struct qtoken_state *cur(void)
{
    return engine_cur()->qs;
}

/* The table op belongs to: the current engine's, or (a token of another
 * shared engine taken by demi_wait_any) its own engine's. */
static struct qtoken_state *qs_of(const struct op *op)
{
    struct qtoken_state *qs = cur();

    if (op->engine != qs->engine) {
        struct engine *e = engine_get(op->engine);
        if (e != NULL)
            qs = e->qs;
    }
    return qs;
}

static struct op *slot_op(struct qtoken_state *qs, uint32_t slot)
{
    return &qs->chunks[slot >> CHUNK_SHIFT][slot & (CHUNK_OPS - 1)];
}

/* Adds one chunk of free slots. */
static int grow(struct qtoken_state *qs)
{
    uint32_t c = qs->nslots >> CHUNK_SHIFT;
    struct op *ops;

    if (qs->nslots >= QTOKEN_MAX)
        return -EMFILE;
    ops = rte_zmalloc("sluice_ops", CHUNK_OPS * sizeof(*ops), 0);
    if (ops == NULL)
        return -ENOMEM;
    qs->chunks[c] = ops;
    for (uint32_t i = CHUNK_OPS; i-- > 0;) {
        ops[i].slot = qs->nslots + i;
        ops[i].engine = qs->engine;
        ops[i].gen = 1;
        ops[i].next_free = qs->free_head;
        qs->free_head = qs->nslots + i;
    }
    qs->nslots += CHUNK_OPS;
    return 0;
}

struct op *qtoken_new(enum op_kind kind, int qd)
{
    struct qtoken_state *qs = cur();
    struct op *op;

    if (qs->free_head == NO_SLOT && grow(qs) != 0)
        return NULL;
    op = slot_op(qs, qs->free_head);
    qs->free_head = op->next_free;
    uint32_t gen = op->gen, slot = op->slot;
    memset(op, 0, sizeof(*op));
    op->gen = gen;
    op->slot = slot;
    op->engine = qs->engine;
    op->state = OP_PENDING;
    op->kind = kind;
    op->result.qr_qd = qd;
    op->result.qr_qt = qtoken_of(op);
    qs->outstanding++;
    return op;
}

struct op *qtoken_lookup(demi_qtoken_t qt)
{
    uint32_t word = (uint32_t)qt, gen = (uint32_t)(qt >> 32);

    engine_follow(word >> QTOKEN_ENGINE_SHIFT);
    struct qtoken_state *qs = cur();
    uint32_t slot = word & (QTOKEN_MAX - 1);
    struct op *op;

    if (word >> QTOKEN_ENGINE_SHIFT != qs->engine || slot >= qs->nslots)
        return NULL;
    op = slot_op(qs, slot);
    if (op->gen != gen || op->state == OP_FREE)
        return NULL;
    return op;
}

static void detach(struct op *op)
{
    struct queue *q = op->q;

    if (q == NULL)
        return;
    if (op->kind == OPK_PUSH)
        TAILQ_REMOVE(&q->push_ops, op, q_link);
    else
        TAILQ_REMOVE(&q->pop_ops, op, q_link);
    op->q = NULL;
}

/* A push's hold on the pushed mbuf ends when the push ends. */
static void release_ref(struct op *op)
{
    if (op->ref == NULL)
        return;
    rte_pktmbuf_free(op->ref);
    op->ref = NULL;
}

void qtoken_complete(struct op *op, int ret)
{
    detach(op);
    release_ref(op);
    if (ret != 0) {
        op->result.qr_opcode = DEMI_OPC_FAILED;
        op->result.qr_ret = ret;
    }
    op->state = OP_DONE;
    TAILQ_INSERT_TAIL(&qs_of(op)->done_list, op, done_link);
}

static void free_slot(struct op *op)
{
    struct qtoken_state *qs = qs_of(op);

    if (op->state == OP_DONE)
        TAILQ_REMOVE(&qs->done_list, op, done_link);
    op->state = OP_FREE;
    op->gen = op->gen + 1 == 0 ? 1 : op->gen + 1;
    op->next_free = qs->free_head;
    qs->free_head = op->slot;
    qs->outstanding--;
}

void qtoken_take(struct op *op, demi_qresult_t *qr)
{
    *qr = op->result;
    free_slot(op);
}

void qtoken_drop(struct op *op)
{
    if (op->state == OP_PENDING) {
        detach(op);
        release_ref(op);
    } else if (op->result.qr_opcode == DEMI_OPC_POP) {
        /* a popped array nobody will see: give back its handle */
        sga_release(&op->result.qr_value.sga);
    }
    free_slot(op);
}

void qtoken_drop_all_done(void)
{
    struct op *op;

    while ((op = qtoken_first_done()) != NULL)
        qtoken_drop(op);
}

struct op *qtoken_first_done(void)
{
    return TAILQ_FIRST(&cur()->done_list);
}

size_t qtoken_outstanding(void)
{
    return cur()->outstanding;
}
