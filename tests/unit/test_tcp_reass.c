/* test_tcp_reass.c - unit tests of stack/tcp_reass.c (being written) */
#include <criterion/criterion.h>

#include "tcp_reass.h"
