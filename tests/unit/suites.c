/*
 * suites.c - every suite of the unit tests, with the default time limit
 * of its tests: a test that waits for something that never comes (a
 * pending wait with no timeout, a peer that never answers) fails after
 * T_SUITE_TIMEOUT_S seconds instead of hanging the whole run. A test that
 * needs longer says so itself (.timeout in its Test(); Criterion then
 * enforces that and this limit is off).
 *
 * The limit is an alarm(2) armed by the suite's .init in the test's own
 * process: SIGALRM ends it, and Criterion reports the test as crashed with
 * the line below. (Criterion 2.4's own timeouts do not fit here:
 * --timeout applies only to tests that set one, and giving every test one
 * leaves its watchdog's bookkeeping for LeakSanitizer to report.)
 *
 * A new suite is declared here, or, with an .init of its own, calls
 * t_default_timeout() from it (test_config.c, test_tcp_reass.c).
 * tests/README.md says how to add a test.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static void timed_out(int sig)
{
    static const char msg[] = "unit test: no result after " STR(T_SUITE_TIMEOUT_S) " s: it hangs\n";

    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing more to say */
    }
    signal(SIGALRM, SIG_DFL);
    raise(SIGALRM);
}

/* The current test's own .timeout (s), 0 if none. Criterion keeps a test's
 * data packed in a section of its own, where the struct may sit
 * misaligned: copied out, not read through a member access (UBSan). */
static double own_timeout(void)
{
    double t = 0;

    if (criterion_current_test != NULL && criterion_current_test->data != NULL)
        memcpy(&t,
               (const char *)criterion_current_test->data + offsetof(struct criterion_test_extra_data, timeout),
               sizeof(t));
    return t;
}

void t_default_timeout(void)
{
    if (own_timeout() > 0)
        return; /* the test's own .timeout rules */
    signal(SIGALRM, timed_out);
    alarm(T_SUITE_TIMEOUT_S);
}

TestSuite(abi, .init = t_default_timeout);
TestSuite(arp, .init = t_default_timeout);
TestSuite(dmtr, .init = t_default_timeout);
TestSuite(engine, .init = t_default_timeout);
TestSuite(errors, .init = t_default_timeout);
TestSuite(eth, .init = t_default_timeout);
TestSuite(fault, .init = t_default_timeout);
TestSuite(icmp, .init = t_default_timeout);
TestSuite(ipv4, .init = t_default_timeout);
TestSuite(leak, .init = t_default_timeout);
TestSuite(memq, .init = t_default_timeout);
TestSuite(mos_flow, .init = t_default_timeout);
TestSuite(netdev_hint, .init = t_default_timeout);
TestSuite(pipe, .init = t_default_timeout);
TestSuite(process, .init = t_default_timeout);
TestSuite(sga, .init = t_default_timeout);
TestSuite(steer, .init = t_default_timeout);
TestSuite(shm_pipe, .init = t_default_timeout);
TestSuite(tcp_cc, .init = t_default_timeout);
TestSuite(tcp_conn, .init = t_default_timeout);
TestSuite(tcp_input, .init = t_default_timeout);
TestSuite(tcp_isn, .init = t_default_timeout);
TestSuite(tcp_loss, .init = t_default_timeout);
TestSuite(tcp_options, .init = t_default_timeout);
TestSuite(tcp_rtt, .init = t_default_timeout);
TestSuite(tcp_rules, .init = t_default_timeout);
TestSuite(tcp_sack, .init = t_default_timeout);
TestSuite(tcp_seq, .init = t_default_timeout);
TestSuite(tcp_socket, .init = t_default_timeout);
TestSuite(tcp_syncookie, .init = t_default_timeout);
TestSuite(timer, .init = t_default_timeout);
TestSuite(udp, .init = t_default_timeout);
TestSuite(wait, .init = t_default_timeout);
