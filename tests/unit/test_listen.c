/* Unit tests: listen addresses (listen.h) - the forms accepted, the
 * messages for the others, and the bound address reported for port 0. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

static void parses(const char *addr, const char *want_host, const char *want_port)
{
    char host[LISTEN_HOST_MAX], port[LISTEN_PORT_MAX], err[256] = "";
    ck_assert_msg(listen_parse(addr, host, port, err, sizeof err), "%s: %s", addr, err);
    ck_assert_str_eq(host, want_host);
    ck_assert_str_eq(port, want_port);
}

static void refused(const char *addr, const char *want_err)
{
    char host[LISTEN_HOST_MAX], port[LISTEN_PORT_MAX], err[512] = "";
    ck_assert_msg(!listen_parse(addr, host, port, err, sizeof err), "%s accepted", addr);
    ck_assert_str_eq(err, want_err);
}

START_TEST(the_accepted_forms)
{
    parses(":8443", "", "8443");               /* every address */
    parses("0.0.0.0:8443", "0.0.0.0", "8443"); /* IPv4 */
    parses("127.0.0.1:0", "127.0.0.1", "0");   /* a free port */
    parses("[::]:8443", "::", "8443");         /* IPv6 in brackets */
    parses("[::1]:65535", "::1", "65535");
    parses("::1:8443", "::1", "8443"); /* the last ':' separates the port */
    parses("localhost:8443", "localhost", "8443");
    parses("[]:8443", "", "8443");
}
END_TEST

START_TEST(the_refused_forms_and_their_messages)
{
    refused("8443", "listen address '8443' is not HOST:PORT");
    refused("127.0.0.1:", "listen address '127.0.0.1:' is not HOST:PORT");
    refused(":1234567890123456", "listen address ':1234567890123456' is not HOST:PORT");
    char longhost[400];
    memset(longhost, 'h', 300);
    strcpy(longhost + 300, ":8443");
    char want[600];
    snprintf(want, sizeof want, "listen address '%s': host too long", longhost);
    refused(longhost, want);
}
END_TEST

START_TEST(port_zero_reports_the_port_bound)
{
    char bound[LISTEN_BOUND_MAX], err[256] = "";
    unsigned port = 0;
    int fd = listen_open("127.0.0.1:0", bound, &port, err, sizeof err);
    ck_assert_msg(fd >= 0, "%s", err);
    ck_assert_uint_gt(port, 0);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%u", port);
    ck_assert_str_eq(bound, want);

    /* the same port again: refused with the address and the reason */
    char again[64];
    snprintf(again, sizeof again, "127.0.0.1:%u", port);
    int fd2 = listen_open(again, bound, &port, err, sizeof err);
    ck_assert_int_lt(fd2, 0);
    char want_err[128];
    snprintf(want_err, sizeof want_err, "cannot listen on %s: Address already in use", again);
    ck_assert_str_eq(err, want_err);
    close(fd);

    /* a port that is not a number */
    ck_assert_int_lt(listen_open("127.0.0.1:https", bound, &port, err, sizeof err), 0);
    ck_assert_msg(strncmp(err, "listen address '127.0.0.1:https': ", 34) == 0, "%s", err);
}
END_TEST

Suite *suite_listen(void)
{
    Suite *s = suite_create("listen");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, the_accepted_forms);
    tcase_add_test(tc, the_refused_forms_and_their_messages);
    tcase_add_test(tc, port_zero_reports_the_port_bound);
    suite_add_tcase(s, tc);
    return s;
}
