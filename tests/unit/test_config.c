/*
 * test_config.c - config loading (file, environment, errors) and logging.
 *
 * Criterion runs each test in its own process, so setenv/unsetenv and the
 * log level do not leak between tests.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "config.h"
#include "log.h"
#include "harness.h"

static const char *const env_vars[] = {
    "SLUICE_CONFIG",        "SLUICE_LOG",        "SLUICE_EAL_HUGEPAGES", "SLUICE_EAL_MEMORY_MB",
    "SLUICE_EAL_ARGS",      "SLUICE_MBUF_COUNT", "SLUICE_MBUF_CACHE",    "SLUICE_MBUF_DATA_ROOM",
    "SLUICE_QUEUES_MAX",    "SLUICE_PIPE_RING_KIB", "SLUICE_ENGINE_SPIN_US",
    "SLUICE_NET_DEVARGS",   "SLUICE_NET_ADDR",   "SLUICE_NET_NETMASK",   "SLUICE_NET_GATEWAY",
    "SLUICE_NET_MTU",       "SLUICE_NET_ARP_STATIC", "SLUICE_FAULT_SEED", "SLUICE_FAULT_RX_LOSS_PPM",
    "SLUICE_MON_MODE",      "SLUICE_MON_PORT0",  "SLUICE_MON_PORT1",     "SLUICE_MON_MAX_FLOWS",
    "SLUICE_MON_BUF_BYTES", "SLUICE_MON_REASS_SEGS", "SLUICE_MON_IDLE_TIMEOUT_MS",
};

static struct sluice_config cfg;
static char err[512];
static char tmp_path[64];

/* Every test starts from defaults and a clean environment, so a SLUICE_*
 * variable in the developer's shell cannot change a result. */
static void setup(void)
{
    t_default_timeout();
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
        unsetenv(env_vars[i]);
    sluice_config_defaults(&cfg);
    memset(err, 'x', sizeof(err));
    tmp_path[0] = '\0';
}

static void teardown(void)
{
    sluice_config_free(&cfg);
    if (tmp_path[0] != '\0')
        unlink(tmp_path);
}

TestSuite(config, .init = setup, .fini = teardown);
TestSuite(log, .init = setup, .fini = teardown);

static int parse(const char *yaml)
{
    return sluice_config_parse_buffer(&cfg, yaml, strlen(yaml), "cfg.yaml", err, sizeof(err));
}

/* Writes text to a fresh temporary file; its path is in tmp_path. */
static const char *write_tmp(const char *text)
{
    int fd;

    strcpy(tmp_path, "/tmp/sluice_cfg_XXXXXX");
    fd = mkstemp(tmp_path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return tmp_path;
}

static void assert_err_has(const char *a, const char *b)
{
    cr_assert_not_null(strstr(err, a), "'%s' not in: %s", a, err);
    cr_assert_not_null(strstr(err, b), "'%s' not in: %s", b, err);
}

/* ---- defaults and valid input ---- */

Test(config, defaults_are_the_documented_values)
{
    cr_assert_eq(cfg.log_level, SLUICE_LOG_WARN);
    cr_assert_eq(cfg.hugepages, SLUICE_HUGEPAGES_AUTO);
    cr_assert_eq(cfg.eal_memory_mb, 256);
    cr_assert_eq(cfg.eal_argc, 0);
    for (int i = 0; i < SLUICE_EAL_ARGS_MAX; i++)
        cr_assert_null(cfg.eal_argv[i]);
    cr_assert_eq(cfg.mbuf_count, 8191);
    cr_assert_eq(cfg.mbuf_cache, 256);
    cr_assert_eq(cfg.mbuf_data_room, 2048);
    cr_assert_eq(cfg.max_queues, 65536);
    cr_assert_eq(cfg.pipe_ring_kib, 1024);
    cr_assert_eq(cfg.spin_us, 50);
}

Test(config, full_file_sets_every_field)
{
    const char *path = write_tmp("# every key\n"
                                 "log:\n"
                                 "  level: DEBUG\n"
                                 "eal:\n"
                                 "  hugepages: off\n"
                                 "  memory_mb: 512\n"
                                 "  args: [\"--vdev=net_tap0\", \"-l\", \"0-1\"]\n"
                                 "mbuf:\n"
                                 "  count: 16383\n"
                                 "  cache: 0\n"
                                 "  data_room: 9000\n"
                                 "queues:\n"
                                 "  max: 16\n"
                                 "pipe:\n"
                                 "  ring_kib: 262144\n"
                                 "engine:\n"
                                 "  spin_us: 1000000\n");

    cr_assert_eq(sluice_config_load_file(&cfg, path, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_empty(err);
    cr_assert_eq(cfg.log_level, SLUICE_LOG_DEBUG);
    cr_assert_eq(cfg.hugepages, SLUICE_HUGEPAGES_OFF);
    cr_assert_eq(cfg.eal_memory_mb, 512);
    cr_assert_eq(cfg.eal_argc, 3);
    cr_assert_str_eq(cfg.eal_argv[0], "--vdev=net_tap0");
    cr_assert_str_eq(cfg.eal_argv[1], "-l");
    cr_assert_str_eq(cfg.eal_argv[2], "0-1");
    cr_assert_null(cfg.eal_argv[3]);
    cr_assert_eq(cfg.mbuf_count, 16383);
    cr_assert_eq(cfg.mbuf_cache, 0);
    cr_assert_eq(cfg.mbuf_data_room, 9000);
    cr_assert_eq(cfg.max_queues, 16);
    cr_assert_eq(cfg.pipe_ring_kib, 262144);
    cr_assert_eq(cfg.spin_us, 1000000);
}

Test(config, empty_or_comment_only_input_changes_nothing)
{
    struct sluice_config before = cfg;

    cr_assert_eq(sluice_config_parse_buffer(&cfg, "", 0, "cfg.yaml", err, sizeof(err)), 0);
    cr_assert_eq(sluice_config_parse_buffer(&cfg, NULL, 0, "cfg.yaml", err, sizeof(err)), 0);
    cr_assert_eq(parse("# nothing here\n\n"), 0, "%s", err);
    cr_assert_eq(parse("---\n"), 0, "%s", err);
    cr_assert_eq(parse("log:\n"), 0, "%s", err);
    cr_assert_eq(memcmp(&before, &cfg, sizeof(cfg)), 0);
}

Test(config, empty_file_changes_nothing)
{
    cr_assert_eq(sluice_config_load_file(&cfg, write_tmp(""), err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.mbuf_count, 8191);
}

Test(config, buffer_need_not_be_nul_terminated)
{
    const char text[] = {'m', 'b', 'u', 'f', ':', ' ', '{', 'c', 'o', 'u', 'n', 't', ':', ' ', '2', '0', '4', '7', '}'};

    cr_assert_eq(sluice_config_parse_buffer(&cfg, text, sizeof(text), "cfg.yaml", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.mbuf_count, 2047);
}

/* ---- error messages ---- */

Test(config, bad_integer_names_key_line_range_and_value)
{
    const char *yaml = "log:\n"
                       "  level: info\n"
                       "eal:\n"
                       "  memory_mb: 512\n"
                       "\n"
                       "mbuf:\n"
                       "  count: lots\n";

    cr_assert_eq(parse(yaml), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:7: key 'mbuf.count': expected an integer in 1023..1048575, got 'lots'");
}

Test(config, integers_are_plain_decimal_without_overflow)
{
    static const char *const bad[] = {"12abc", "\"\"", "-1", "+2048", " 2048x", "0x800", "2048.0",
                                      "99999999999999999999", "4294967296", "1_000"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char yaml[128];

        snprintf(yaml, sizeof(yaml), "mbuf:\n  count: %s\n", bad[i]);
        cr_assert_eq(parse(yaml), -EINVAL, "accepted %s", bad[i]);
        assert_err_has("cfg.yaml:2:", "key 'mbuf.count': expected an integer in 1023..1048575");
    }
    cr_assert_eq(cfg.mbuf_count, 8191);
}

Test(config, out_of_range_integer_is_rejected)
{
    cr_assert_eq(parse("mbuf:\n  count: 1022\n"), -EINVAL);
    assert_err_has("cfg.yaml:2:", "got '1022'");
    cr_assert_eq(parse("mbuf:\n  cache: 513\n"), -EINVAL);
    assert_err_has("cfg.yaml:2: key 'mbuf.cache'", "0..512");
    cr_assert_eq(parse("mbuf:\n  count: 1023\n  cache: 512\n"), 0, "%s", err);
}

Test(config, ring_size_must_be_a_power_of_two)
{
    cr_assert_eq(parse("pipe:\n  ring_kib: 100\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:2: key 'pipe.ring_kib': expected a power of two in 64..262144, got '100'");
    cr_assert_eq(parse("pipe:\n  ring_kib: 32\n"), -EINVAL);
    cr_assert_eq(parse("pipe:\n  ring_kib: 64\n"), 0, "%s", err);
    cr_assert_eq(cfg.pipe_ring_kib, 64);
}

Test(config, bad_enum_lists_the_choices)
{
    cr_assert_eq(parse("eal:\n  hugepages: maybe\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:2: key 'eal.hugepages': expected one of auto, on, off, got 'maybe'");
    cr_assert_eq(parse("\nlog:\n  level: loud\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:3: key 'log.level': expected one of error, warn, info, debug, got 'loud'");
}

Test(config, unknown_key_names_key_and_line)
{
    cr_assert_eq(parse("mbuf:\n  count: 2047\n  colour: red\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:3: unknown key 'mbuf.colour'");
}

Test(config, unknown_section_names_section_and_line)
{
    cr_assert_eq(parse("log:\n  level: info\nnetwork:\n  mtu: 1500\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:3: unknown section 'network'");
}

Test(config, top_level_must_be_a_mapping)
{
    cr_assert_eq(parse("just words\n"), -EINVAL);
    assert_err_has("cfg.yaml:1: top level must be a mapping of sections", "got 'just words'");
    cr_assert_eq(parse("- log\n- eal\n"), -EINVAL);
    assert_err_has("cfg.yaml:1: top level must be a mapping of sections", "got a sequence");
}

Test(config, section_must_be_a_mapping)
{
    cr_assert_eq(parse("log: debug\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:1: section 'log' must be a mapping of keys, got 'debug'");
}

Test(config, mapping_where_scalar_expected_names_key_and_line)
{
    cr_assert_eq(parse("mbuf:\n  cache: 128\n  count:\n    a: 1\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:3: key 'mbuf.count': expected an integer in 1023..1048575, got a mapping");
    cr_assert_eq(parse("log:\n  level: [info]\n"), -EINVAL);
    assert_err_has("cfg.yaml:2: key 'log.level'", "got a sequence");
}

Test(config, yaml_syntax_error_reports_libyaml_problem_and_line)
{
    cr_assert_eq(parse("log:\n  level: info\neal:\n  args: [\"a\", \"b\"\nmbuf:\n  count: 2047\n"), -EINVAL);
    assert_err_has("cfg.yaml:5: YAML syntax error: ", "did not find expected ',' or ']'");
    cr_assert_eq(parse("mbuf:\n  count: 2047\n\tcache: 1\n"), -EINVAL);
    assert_err_has("cfg.yaml:3: YAML syntax error: ", "tab");
}

Test(config, second_document_is_rejected)
{
    cr_assert_eq(parse("mbuf:\n  count: 2047\n---\nmbuf:\n  count: 4095\n"), -EINVAL);
    assert_err_has("cfg.yaml:3:", "only one YAML document");
    cr_assert_eq(cfg.mbuf_count, 8191);
}

Test(config, missing_file_names_the_path)
{
    cr_assert_eq(sluice_config_load_file(&cfg, "/nonexistent/sluice.yaml", err, sizeof(err)), -ENOENT);
    assert_err_has("/nonexistent/sluice.yaml", "No such file");
}

Test(config, directory_is_not_a_config_file)
{
    cr_assert_eq(sluice_config_load_file(&cfg, "/tmp", err, sizeof(err)), -EISDIR);
    assert_err_has("/tmp:", "directory");
}

Test(config, file_errors_name_the_path_and_line)
{
    const char *path = write_tmp("mbuf:\n  count: 12abc\n");
    char want[128];

    cr_assert_eq(sluice_config_load_file(&cfg, path, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s:2: key 'mbuf.count'", path);
    cr_assert_not_null(strstr(err, want), "%s", err);
}

Test(config, failed_parse_leaves_config_unchanged)
{
    cr_assert_eq(parse("eal:\n  args: keep me\n"), 0, "%s", err);
    cr_assert_eq(parse("log:\n  level: debug\neal:\n  args: [a, b, c]\nmbuf:\n  count: 0\n"), -EINVAL);
    cr_assert_eq(cfg.log_level, SLUICE_LOG_WARN);
    cr_assert_eq(cfg.eal_argc, 2);
    cr_assert_str_eq(cfg.eal_argv[0], "keep");
    cr_assert_str_eq(cfg.eal_argv[1], "me");
    cr_assert_null(cfg.eal_argv[2]);
}

Test(config, err_is_truncated_and_terminated)
{
    char small[16];

    memset(small, 'x', sizeof(small));
    cr_assert_eq(sluice_config_parse_buffer(&cfg, "mbuf:\n  colour: 1\n", 18, "cfg.yaml", small, sizeof(small)),
                 -EINVAL);
    cr_assert_eq(strlen(small), sizeof(small) - 1);
    cr_assert_eq(strncmp(small, "cfg.yaml:2: unk", sizeof(small) - 1), 0);
    cr_assert_eq(sluice_config_parse_buffer(&cfg, "mbuf:\n  colour: 1\n", 18, "cfg.yaml", NULL, 0), -EINVAL);
}

Test(config, control_characters_never_reach_err)
{
    cr_assert_eq(parse("mbuf:\n  count: \"12\\n\\u001b[31m\\0x\"\n"), -EINVAL);
    for (const char *c = err; *c; c++)
        cr_assert_geq((unsigned char)*c, 0x20, "control byte in: %s", err);
    assert_err_has("cfg.yaml:2:", "key 'mbuf.count'");
}

Test(config, success_clears_err)
{
    cr_assert_eq(parse("mbuf:\n  count: 2047\n"), 0);
    cr_assert_str_empty(err);
}

/* ---- eal.args ---- */

Test(config, eal_args_as_a_sequence)
{
    cr_assert_eq(parse("eal:\n  args:\n    - --vdev=net_tap0,iface=t0\n    - \"--file-prefix=a b\"\n"), 0, "%s", err);
    cr_assert_eq(cfg.eal_argc, 2);
    cr_assert_str_eq(cfg.eal_argv[0], "--vdev=net_tap0,iface=t0");
    cr_assert_str_eq(cfg.eal_argv[1], "--file-prefix=a b");
}

Test(config, eal_args_as_a_string_is_split_on_whitespace)
{
    cr_assert_eq(parse("eal:\n  args: \"  --vdev=net_tap0 \\t -l 0-1\\n\"\n"), 0, "%s", err);
    cr_assert_eq(cfg.eal_argc, 3);
    cr_assert_str_eq(cfg.eal_argv[0], "--vdev=net_tap0");
    cr_assert_str_eq(cfg.eal_argv[1], "-l");
    cr_assert_str_eq(cfg.eal_argv[2], "0-1");
}

Test(config, repeated_eal_args_replace_earlier_ones)
{
    cr_assert_eq(parse("eal:\n  args: [a, b, c]\n  args: d\n"), 0, "%s", err);
    cr_assert_eq(cfg.eal_argc, 1);
    cr_assert_str_eq(cfg.eal_argv[0], "d");
    cr_assert_null(cfg.eal_argv[1]);
    cr_assert_eq(parse("eal:\n  args: []\n"), 0, "%s", err);
    cr_assert_eq(cfg.eal_argc, 0);
    cr_assert_null(cfg.eal_argv[0]);
}

Test(config, too_many_eal_args_is_an_error)
{
    char yaml[512] = "eal:\n  args:";

    for (int i = 0; i <= SLUICE_EAL_ARGS_MAX; i++)
        strcat(yaml, " -v");
    strcat(yaml, "\n");
    cr_assert_eq(parse(yaml), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:2: key 'eal.args': expected at most 32 arguments, got 33");
    cr_assert_eq(cfg.eal_argc, 0);

    strcpy(yaml, "eal:\n  args: [");
    for (int i = 0; i < SLUICE_EAL_ARGS_MAX + 3; i++)
        strcat(yaml, i ? ", -v" : "-v");
    strcat(yaml, "]\n");
    cr_assert_eq(parse(yaml), -EINVAL);
    assert_err_has("cfg.yaml:2: key 'eal.args'", "at most 32 arguments, got 35");
    cr_assert_eq(cfg.eal_argc, 0);
}

Test(config, exactly_the_maximum_eal_args_is_fine)
{
    char yaml[512] = "eal:\n  args:";

    for (int i = 0; i < SLUICE_EAL_ARGS_MAX; i++)
        strcat(yaml, " -v");
    cr_assert_eq(parse(yaml), 0, "%s", err);
    cr_assert_eq(cfg.eal_argc, SLUICE_EAL_ARGS_MAX);
}

Test(config, nested_eal_args_are_rejected)
{
    cr_assert_eq(parse("eal:\n  args:\n    - a\n    - [b]\n"), -EINVAL);
    cr_assert_str_eq(err, "cfg.yaml:4: key 'eal.args': expected a string or a sequence of strings, got a sequence");
    cr_assert_eq(parse("eal:\n  args: {a: b}\n"), -EINVAL);
    assert_err_has("cfg.yaml:2: key 'eal.args'", "got a mapping");
}

/* ---- environment ---- */

Test(config, env_override_beats_file)
{
    setenv("SLUICE_CONFIG", write_tmp("mbuf:\n  count: 16383\n  cache: 64\neal:\n  args: [--from-file]\n"), 1);
    setenv("SLUICE_MBUF_COUNT", "4095", 1);
    setenv("SLUICE_EAL_ARGS", "  --from-env  -n 4 ", 1);
    cr_assert_eq(sluice_config_load(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.mbuf_count, 4095);
    cr_assert_eq(cfg.mbuf_cache, 64);
    cr_assert_eq(cfg.eal_argc, 3);
    cr_assert_str_eq(cfg.eal_argv[0], "--from-env");
    cr_assert_str_eq(cfg.eal_argv[2], "4");
}

Test(config, sluice_log_env_sets_the_level)
{
    setenv("SLUICE_LOG", "debug", 1);
    cr_assert_eq(sluice_config_load(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.log_level, SLUICE_LOG_DEBUG);
}

Test(config, every_env_variable_is_read)
{
    setenv("SLUICE_EAL_HUGEPAGES", "on", 1);
    setenv("SLUICE_EAL_MEMORY_MB", "64", 1);
    setenv("SLUICE_MBUF_CACHE", "32", 1);
    setenv("SLUICE_MBUF_DATA_ROOM", "512", 1);
    setenv("SLUICE_QUEUES_MAX", "1048576", 1);
    setenv("SLUICE_PIPE_RING_KIB", "128", 1);
    setenv("SLUICE_ENGINE_SPIN_US", "0", 1);
    cr_assert_eq(sluice_config_apply_env(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.hugepages, SLUICE_HUGEPAGES_ON);
    cr_assert_eq(cfg.eal_memory_mb, 64);
    cr_assert_eq(cfg.mbuf_cache, 32);
    cr_assert_eq(cfg.mbuf_data_room, 512);
    cr_assert_eq(cfg.max_queues, 1048576);
    cr_assert_eq(cfg.pipe_ring_kib, 128);
    cr_assert_eq(cfg.spin_us, 0);
}

Test(config, env_error_names_the_variable)
{
    setenv("SLUICE_LOG", "info", 1);
    setenv("SLUICE_MBUF_COUNT", "x", 1);
    cr_assert_eq(sluice_config_apply_env(&cfg, err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(err, "SLUICE_MBUF_COUNT: expected an integer in 1023..1048575, got 'x'");
    cr_assert_eq(cfg.log_level, SLUICE_LOG_WARN, "a failed env pass must change nothing");
}

Test(config, too_many_env_eal_args_is_an_error)
{
    char args[256] = "";

    for (int i = 0; i < 40; i++)
        strcat(args, "-v ");
    setenv("SLUICE_EAL_ARGS", args, 1);
    cr_assert_eq(sluice_config_apply_env(&cfg, err, sizeof(err)), -EINVAL);
    cr_assert_str_eq(err, "SLUICE_EAL_ARGS: expected at most 32 arguments, got 40");
    cr_assert_eq(cfg.eal_argc, 0);
}

Test(config, missing_sluice_config_file_names_the_path)
{
    setenv("SLUICE_CONFIG", "/nonexistent/dir/sluice.yaml", 1);
    cr_assert_eq(sluice_config_load(&cfg, err, sizeof(err)), -ENOENT);
    assert_err_has("/nonexistent/dir/sluice.yaml", "cannot open");
}

Test(config, load_without_file_gives_defaults)
{
    cfg.mbuf_count = 1;
    cr_assert_eq(sluice_config_load(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.mbuf_count, 8191);
}

/* ---- freeing ---- */

Test(config, free_twice_is_safe)
{
    cr_assert_eq(parse("eal:\n  args: [a, b]\n"), 0, "%s", err);
    sluice_config_free(&cfg);
    cr_assert_eq(cfg.eal_argc, 0);
    cr_assert_null(cfg.eal_argv[0]);
    sluice_config_free(&cfg);
    sluice_config_free(NULL);
}

Test(config, free_of_zeroed_config_is_safe)
{
    struct sluice_config zero = {0};

    sluice_config_free(&zero);
    cr_assert_eq(sluice_config_load(&zero, err, sizeof(err)), 0, "%s", err);
    sluice_config_free(&zero);
}

/* ---- logging ---- */

Test(log, level_parse_accepts_each_name_in_any_case)
{
    static const char *const names[] = {"error", "WARN", "Info", "debug"};
    static const char *const lower[] = {"error", "warn", "info", "debug"};
    enum sluice_log_level lvl;

    for (int i = 0; i < 4; i++) {
        cr_assert_eq(sluice_log_level_parse(names[i], &lvl), 0, "%s", names[i]);
        cr_assert_eq((int)lvl, i);
        cr_assert_str_eq(sluice_log_level_name(lvl), lower[i]);
    }
}

Test(log, level_parse_rejects_unknown_words)
{
    enum sluice_log_level lvl = SLUICE_LOG_INFO;

    cr_assert_eq(sluice_log_level_parse("verbose", &lvl), -EINVAL);
    cr_assert_eq(sluice_log_level_parse("", &lvl), -EINVAL);
    cr_assert_eq(sluice_log_level_parse("warning", &lvl), -EINVAL);
    cr_assert_eq(sluice_log_level_parse(NULL, &lvl), -EINVAL);
    cr_assert_eq(lvl, SLUICE_LOG_INFO);
    cr_assert_str_eq(sluice_log_level_name((enum sluice_log_level)42), "unknown");
}

Test(log, default_level_is_warn)
{
    cr_assert_eq(sluice_log_get_level(), SLUICE_LOG_WARN);
}

/* Runs fn with stderr sent to a temporary file and returns what it wrote
 * (static buffer). */
static const char *capture_stderr(void (*fn)(void))
{
    static char out[4096];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    cr_assert_not_null(tmp);
    cr_assert_geq(saved, 0);
    cr_assert_geq(dup2(fileno(tmp), STDERR_FILENO), 0);
    fn();
    cr_assert_geq(dup2(saved, STDERR_FILENO), 0);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, sizeof(out) - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

static void log_error_line(void)
{
    SLOG_ERR("queue %d: %s", 7, "gone");
}

Test(log, writes_the_exact_line)
{
    cr_assert_str_eq(capture_stderr(log_error_line), "sluice: error: queue 7: gone\n");
}

static void log_every_level(void)
{
    SLOG_ERR("e");
    SLOG_WARN("w");
    SLOG_INFO("i");
    SLOG_DEBUG("d");
}

Test(log, lines_above_the_level_are_not_printed)
{
    cr_assert_str_eq(capture_stderr(log_every_level), "sluice: error: e\nsluice: warn: w\n");
    sluice_log_set_level(SLUICE_LOG_ERROR);
    cr_assert_str_eq(capture_stderr(log_every_level), "sluice: error: e\n");
    sluice_log_set_level(SLUICE_LOG_DEBUG);
    cr_assert_str_eq(capture_stderr(log_every_level),
                     "sluice: error: e\nsluice: warn: w\nsluice: info: i\nsluice: debug: d\n");
}

static void log_long_line(void)
{
    static char big[3000];

    memset(big, 'a', sizeof(big) - 1);
    SLOG_WARN("%s", big);
}

Test(log, long_messages_are_truncated_to_one_line)
{
    const char *out = capture_stderr(log_long_line);
    size_t len = strlen(out);

    cr_assert_eq(len, strlen("sluice: warn: ") + SLUICE_LOG_MSG_MAX + 1);
    cr_assert_eq(out[len - 1], '\n');
    cr_assert_eq(out[len - 2], 'a');
}

static void log_multi_line(void)
{
    SLOG_WARN("one\ntwo");
}

Test(log, newlines_in_a_message_do_not_split_the_line)
{
    cr_assert_str_eq(capture_stderr(log_multi_line), "sluice: warn: one two\n");
}

static int errno_after;

static void log_with_errno(void)
{
    close(STDERR_FILENO); /* make the write itself fail */
    errno = ENOBUFS;
    SLOG_ERR("x");
    errno_after = errno;
}

Test(log, errno_is_preserved)
{
    capture_stderr(log_with_errno);
    cr_assert_eq(errno_after, ENOBUFS);
}

/* ---- network and fault keys ---- */

Test(config, network_defaults_are_the_default_topology)
{
    cr_assert_str_eq(cfg.net_devargs, "net_af_xdp0,iface=sluice0");
    cr_assert_eq(cfg.net_addr, htonl(0x0a000002));
    cr_assert_eq(cfg.net_netmask, htonl(0xffffff00));
    cr_assert_eq(cfg.net_gateway, 0);
    cr_assert_eq(cfg.net_mtu, 1500);
    cr_assert_str_eq(cfg.net_arp_static, "");
    cr_assert_eq(cfg.fault_rx_loss_ppm, 0);
    cr_assert_eq(cfg.fault_tx_delay_us, 0);
}

Test(config, network_keys_are_parsed)
{
    cr_assert_eq(parse("net:\n  devargs: net_tap0,iface=sl0\n  addr: 192.168.7.9\n  gateway: 192.168.7.1\n"
                       "  mtu: 9000\nfault:\n  rx_loss_ppm: 10000\n  seed: 42\n"),
                 0, "%s", err);
    cr_assert_str_eq(cfg.net_devargs, "net_tap0,iface=sl0");
    cr_assert_eq(cfg.net_addr, htonl(0xc0a80709));
    cr_assert_eq(cfg.net_gateway, htonl(0xc0a80701));
    cr_assert_eq(cfg.net_mtu, 9000);
    cr_assert_eq(cfg.fault_rx_loss_ppm, 10000);
    cr_assert_eq(cfg.fault_seed, 42);
}

Test(config, bad_ipv4_address_names_key_and_line)
{
    cr_assert_eq(parse("net:\n  mtu: 1500\n  addr: 10.0.0\n"), -EINVAL);
    assert_err_has("cfg.yaml:3:", "key 'net.addr': expected an IPv4 address a.b.c.d, got '10.0.0'");
    cr_assert_eq(cfg.net_addr, htonl(0x0a000002), "all or nothing");
}

Test(config, ipv4_from_environment)
{
    setenv("SLUICE_NET_NETMASK", "255.255.0.0", 1);
    cr_assert_eq(sluice_config_apply_env(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(cfg.net_netmask, htonl(0xffff0000));
    setenv("SLUICE_NET_GATEWAY", "10.0.0.256", 1);
    cr_assert_eq(sluice_config_apply_env(&cfg, err, sizeof(err)), -EINVAL);
    assert_err_has("SLUICE_NET_GATEWAY:", "got '10.0.0.256'");
}

Test(config, string_longer_than_its_field_is_refused)
{
    char yaml[600] = "net:\n  devargs: ";
    size_t n = strlen(yaml);
    memset(yaml + n, 'a', 300);
    strcpy(yaml + n + 300, "\n");
    cr_assert_eq(parse(yaml), -EINVAL);
    assert_err_has("key 'net.devargs'", "a string of 1..255 bytes");
    cr_assert_str_eq(cfg.net_devargs, "net_af_xdp0,iface=sluice0");
}

Test(config, empty_devargs_is_refused_but_empty_arp_static_is_none)
{
    cr_assert_eq(parse("net:\n  devargs: ''\n"), -EINVAL);
    assert_err_has("key 'net.devargs'", "got ''");
    cr_assert_eq(parse("net:\n  arp_static: ''\n"), 0, "%s", err);
    cr_assert_str_eq(cfg.net_arp_static, "");
}

Test(config, fault_probability_above_one_million_is_refused)
{
    setenv("SLUICE_FAULT_RX_LOSS_PPM", "1000001", 1);
    cr_assert_eq(sluice_config_apply_env(&cfg, err, sizeof(err)), -EINVAL);
    assert_err_has("SLUICE_FAULT_RX_LOSS_PPM:", "an integer in 0..1000000");
}

Test(config, monitor_keys_default_parse_and_take_the_environment)
{
    cr_assert_str_eq(cfg.mon_mode, "off");
    cr_assert_str_empty(cfg.mon_port0);
    cr_assert_str_empty(cfg.mon_port1);
    cr_assert_eq(cfg.mon_max_flows, 65536);
    cr_assert_eq(cfg.mon_buf_bytes, 16384);
    cr_assert_eq(cfg.mon_reass_segs, 64);
    cr_assert_eq(cfg.mon_idle_timeout_ms, 30000);
    cr_assert_eq(parse("mon:\n"
                       "  mode: inline\n"
                       "  port0: net_af_packet0,iface=a\n"
                       "  port1: net_af_packet1,iface=b\n"
                       "  max_flows: 1000\n"
                       "  buf_bytes: 0\n"
                       "  reass_segs: 8\n"
                       "  idle_timeout_ms: 5000\n"),
                 0, "%s", err);
    cr_assert_str_eq(cfg.mon_mode, "inline");
    cr_assert_str_eq(cfg.mon_port0, "net_af_packet0,iface=a");
    cr_assert_str_eq(cfg.mon_port1, "net_af_packet1,iface=b");
    cr_assert_eq(cfg.mon_max_flows, 1000);
    cr_assert_eq(cfg.mon_buf_bytes, 0);
    cr_assert_eq(cfg.mon_reass_segs, 8);
    cr_assert_eq(cfg.mon_idle_timeout_ms, 5000);
    setenv("SLUICE_MON_MODE", "passive", 1);
    setenv("SLUICE_MON_REASS_SEGS", "16", 1);
    cr_assert_eq(sluice_config_apply_env(&cfg, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(cfg.mon_mode, "passive");
    cr_assert_eq(cfg.mon_reass_segs, 16);
    cr_assert_neq(parse("mon:\n  max_flows: 15\n"), 0, "below 16");
    cr_assert(strstr(err, "mon.max_flows") != NULL, "%s", err);
    cr_assert_neq(parse("mon:\n  reass_segs: 0\n"), 0);
}
