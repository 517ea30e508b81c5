/*
 * fuzz_config.c - libFuzzer target for the YAML config parser.
 *
 * Feeds arbitrary bytes to sluice_config_parse_buffer and checks that it
 * never crashes or leaks (ASan/LSan), always NUL-terminates err, and that an
 * accepted config only holds values the key table allows.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Aborts so libFuzzer records the input, with a reason in the stack trace. */
static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_accepted(const struct sluice_config *cfg)
{
    check(cfg->log_level <= SLUICE_LOG_DEBUG);
    check(cfg->hugepages <= SLUICE_HUGEPAGES_OFF);
    check(cfg->eal_memory_mb >= 64 && cfg->eal_memory_mb <= 65536);
    check(cfg->eal_argc >= 0 && cfg->eal_argc <= SLUICE_EAL_ARGS_MAX);
    for (int i = 0; i < SLUICE_EAL_ARGS_MAX; i++)
        check((i < cfg->eal_argc) == (cfg->eal_argv[i] != NULL));
    check(cfg->mbuf_count >= 1023 && cfg->mbuf_count <= 1048575);
    check(cfg->mbuf_cache <= 512);
    check(cfg->mbuf_data_room >= 512 && cfg->mbuf_data_room <= 65000);
    check(cfg->max_queues >= 16 && cfg->max_queues <= 1048576);
    check(cfg->pipe_ring_kib >= 64 && cfg->pipe_ring_kib <= 262144);
    check((cfg->pipe_ring_kib & (cfg->pipe_ring_kib - 1)) == 0);
    check(cfg->spin_us <= 1000000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sluice_config cfg;
    char err[96];
    int rc;

    sluice_config_defaults(&cfg);
    /* Parse twice so that replacing earlier eal.args is exercised too. */
    for (int round = 0; round < 2; round++) {
        memset(err, 'x', sizeof(err));
        rc = sluice_config_parse_buffer(&cfg, (const char *)data, size, "fuzz.yaml", err, sizeof(err));
        check(memchr(err, '\0', sizeof(err)) != NULL);
        check(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
        check((rc == 0) == (err[0] == '\0'));
        check_accepted(&cfg);
    }
    sluice_config_free(&cfg);
    return 0;
}
