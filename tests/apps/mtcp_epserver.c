/* mtcp_epserver.c - an HTTP server written to mTCP's API, shaped like
 * mTCP's apps/example/epserver: one context per core on a thread of its
 * own (-N cores), each with its own listener on the port and an epoll
 * loop: accept, read a request, answer with a file (-r FILE) or a fixed
 * body, keep-alive. Prints "mtcp_epserver: listening on PORT" when every
 * context listens, and its counters at SIGINT/SIGTERM.
 *
 *   mtcp_epserver -f mtcp.conf -p PORT [-N cores] [-r FILE]
 */
#include <mtcp_api.h>
#include <mtcp_epoll.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_EVENTS 1024
#define REQ_MAX 4096

struct conn {
    char req[REQ_MAX];
    size_t req_len;
    const char *out; /* the response not yet written */
    size_t out_len, out_off;
    char head[256];
    size_t head_len;
    int close_after;
};

struct core {
    int cpu;
    mctx_t mctx;
    int ep, listener;
    struct conn *conns;
    long served;
};

static const char *body = "hello from an mTCP program on Sluice\n";
static size_t body_len;
static int port = 8080, cores = 1;
static volatile sig_atomic_t done;
static pthread_barrier_t ready;

static void on_signal(int sig)
{
    (void)sig;
    done = 1;
}

static void close_conn(struct core *c, int s)
{
    mtcp_epoll_ctl(c->mctx, c->ep, MTCP_EPOLL_CTL_DEL, s, NULL);
    mtcp_close(c->mctx, s);
}

/* Writes what is left of the response; 1 when all of it went. */
static int flush(struct core *c, int s, struct conn *k)
{
    while (k->out_off < k->head_len + k->out_len) {
        const char *p = k->out_off < k->head_len ? k->head + k->out_off : k->out + (k->out_off - k->head_len);
        size_t n = k->out_off < k->head_len ? k->head_len - k->out_off : k->out_len - (k->out_off - k->head_len);
        ssize_t w = mtcp_write(c->mctx, s, p, n);
        if (w < 0)
            return errno == EAGAIN ? 0 : -1;
        k->out_off += (size_t)w;
    }
    return 1;
}

static void want(struct core *c, int s, uint32_t events)
{
    struct mtcp_epoll_event ev = {.events = events, .data.sockid = s};
    mtcp_epoll_ctl(c->mctx, c->ep, MTCP_EPOLL_CTL_MOD, s, &ev);
}

static void respond(struct core *c, int s, struct conn *k)
{
    int r;

    k->close_after = strstr(k->req, "Connection: close") != NULL;
    k->head_len = (size_t)snprintf(k->head, sizeof(k->head),
                                   "HTTP/1.1 200 OK\r\nServer: mtcp_epserver\r\nContent-Length: %zu\r\n"
                                   "Content-Type: application/octet-stream\r\nConnection: %s\r\n\r\n",
                                   body_len, k->close_after ? "close" : "keep-alive");
    k->out = body;
    k->out_len = body_len;
    k->out_off = 0;
    k->req_len = 0;
    c->served++;
    r = flush(c, s, k);
    if (r < 0 || (r == 1 && k->close_after))
        close_conn(c, s);
    else if (r == 0)
        want(c, s, MTCP_EPOLLIN | MTCP_EPOLLOUT);
}

static void on_readable(struct core *c, int s)
{
    struct conn *k = &c->conns[s];

    for (;;) {
        ssize_t n = mtcp_read(c->mctx, s, k->req + k->req_len, sizeof(k->req) - 1 - k->req_len);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            close_conn(c, s);
            return;
        }
        if (n < 0)
            return;
        k->req_len += (size_t)n;
        k->req[k->req_len] = '\0';
        if (strstr(k->req, "\r\n\r\n") != NULL) {
            respond(c, s, k);
            return;
        }
        if (k->req_len == sizeof(k->req) - 1) {
            close_conn(c, s);
            return;
        }
    }
}

static void on_writable(struct core *c, int s)
{
    struct conn *k = &c->conns[s];
    int r = flush(c, s, k);

    if (r < 0 || (r == 1 && k->close_after))
        close_conn(c, s);
    else if (r == 1)
        want(c, s, MTCP_EPOLLIN);
}

static void accept_all(struct core *c)
{
    for (;;) {
        int s = mtcp_accept(c->mctx, c->listener, NULL, NULL);
        if (s < 0) {
            if (errno != EAGAIN)
                fprintf(stderr, "mtcp_epserver: mtcp_accept: %s\n", strerror(errno));
            return;
        }
        memset(&c->conns[s], 0, sizeof(c->conns[s]));
        mtcp_setsock_nonblock(c->mctx, s);
        struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = s};
        mtcp_epoll_ctl(c->mctx, c->ep, MTCP_EPOLL_CTL_ADD, s, &ev);
    }
}

static int setup(struct core *c)
{
    struct mtcp_conf conf;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

    mtcp_core_affinitize(c->cpu % (int)sysconf(_SC_NPROCESSORS_ONLN));
    c->mctx = mtcp_create_context(c->cpu);
    if (c->mctx == NULL)
        return -1;
    mtcp_getconf(&conf);
    c->conns = calloc((size_t)conf.max_concurrency, sizeof(*c->conns));
    c->ep = mtcp_epoll_create(c->mctx, MAX_EVENTS);
    c->listener = mtcp_socket(c->mctx, AF_INET, SOCK_STREAM, 0);
    if (c->conns == NULL || c->ep < 0 || c->listener < 0)
        return -1;
    mtcp_setsock_nonblock(c->mctx, c->listener);
    if (mtcp_bind(c->mctx, c->listener, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        mtcp_listen(c->mctx, c->listener, 4096) < 0)
        return -1;
    struct mtcp_epoll_event ev = {.events = MTCP_EPOLLIN, .data.sockid = c->listener};
    return mtcp_epoll_ctl(c->mctx, c->ep, MTCP_EPOLL_CTL_ADD, c->listener, &ev);
}

static void *run(void *arg)
{
    struct core *c = arg;
    struct mtcp_epoll_event *events = calloc(MAX_EVENTS, sizeof(*events));
    int ok = events != NULL && setup(c) == 0;

    if (!ok)
        fprintf(stderr, "mtcp_epserver: core %d: setup failed: %s\n", c->cpu, strerror(errno));
    pthread_barrier_wait(&ready);
    while (ok && !done) {
        int n = mtcp_epoll_wait(c->mctx, c->ep, events, MAX_EVENTS, 100);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "mtcp_epserver: mtcp_epoll_wait: %s\n", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            int s = events[i].data.sockid;
            if (s == c->listener)
                accept_all(c);
            else if (events[i].events & (MTCP_EPOLLERR | MTCP_EPOLLHUP))
                close_conn(c, s);
            else if (events[i].events & MTCP_EPOLLIN)
                on_readable(c, s);
            else if (events[i].events & MTCP_EPOLLOUT)
                on_writable(c, s);
        }
    }
    if (c->mctx != NULL)
        mtcp_destroy_context(c->mctx);
    free(events);
    return (void *)(long)ok;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        return NULL;
    b = malloc((size_t)n + 1);
    if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    const char *conf_file = NULL, *file = NULL;
    struct core c[16];
    pthread_t t[16];
    int opt, failed = 0;

    while ((opt = getopt(argc, argv, "f:p:N:r:")) != -1) {
        if (opt == 'f')
            conf_file = optarg;
        else if (opt == 'p')
            port = atoi(optarg);
        else if (opt == 'N')
            cores = atoi(optarg);
        else if (opt == 'r')
            file = optarg;
        else
            return 2;
    }
    if (cores < 1 || cores > 16)
        return 2;
    body_len = strlen(body);
    if (file != NULL && (body = slurp(file, &body_len)) == NULL) {
        fprintf(stderr, "mtcp_epserver: cannot read %s\n", file);
        return 1;
    }
    struct mtcp_conf conf;
    mtcp_getconf(&conf);
    conf.num_cores = cores; /* before mtcp_init, as epserver's -N */
    mtcp_setconf(&conf);
    if (mtcp_init(conf_file) != 0) {
        fprintf(stderr, "mtcp_epserver: mtcp_init: %s\n", strerror(errno));
        return 1;
    }
    mtcp_register_signal(SIGINT, on_signal);
    mtcp_register_signal(SIGTERM, on_signal);
    pthread_barrier_init(&ready, NULL, (unsigned)cores + 1);
    for (int i = 0; i < cores; i++) {
        c[i] = (struct core){.cpu = i};
        pthread_create(&t[i], NULL, run, &c[i]);
    }
    pthread_barrier_wait(&ready);
    printf("mtcp_epserver: listening on %d with %d contexts\n", port, cores);
    fflush(stdout);
    for (int i = 0; i < cores; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        failed |= ok == NULL;
        printf("mtcp_epserver: context %d served %ld responses\n", i, c[i].served);
    }
    mtcp_destroy();
    return failed;
}
