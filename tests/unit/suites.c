/*
 * suites.c - every suite of the unit tests, with the default timeout of
 * its tests: a test that waits for something that never comes (a pending
 * wait with no timeout, a peer that never answers) fails after
 * T_SUITE_TIMEOUT_S seconds instead of hanging the whole run. A test that
 * needs longer says so itself (.timeout in its Test(): a test's own
 * timeout wins over its suite's). Criterion 2.4's --timeout does not
 * apply to tests without their own, hence one declaration per suite here.
 *
 * A new suite is declared here (or, with .init/.fini, beside its tests,
 * with .timeout = T_SUITE_TIMEOUT_S as test_config.c and test_tcp_reass.c
 * do). tests/README.md says how to add a test.
 */
#include <criterion/criterion.h>

#include "harness.h"

TestSuite(abi, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(arp, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(dmtr, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(errors, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(eth, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(fault, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(icmp, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(ipv4, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(leak, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(memq, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(pipe, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(sga, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(shm_pipe, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_cc, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_conn, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_input, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_isn, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_loss, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_options, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_rtt, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_rules, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_sack, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_seq, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_socket, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(tcp_syncookie, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(timer, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(udp, .timeout = T_SUITE_TIMEOUT_S);
TestSuite(wait, .timeout = T_SUITE_TIMEOUT_S);
