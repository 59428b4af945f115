/* Unit tests: Go durations, the `timeout` query parameter kube-apiserver
 * sends, and the live checks' time budget (deadline.c). */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "deadline.h"

static bool dur(const char *s, uint64_t *ms)
{
    *ms = 4242;
    return deadline_parse_duration(s, strlen(s), ms);
}

START_TEST(durations_as_go_writes_them)
{
    static const struct {
        const char *in;
        uint64_t ms;
    } cases[] = {
        {"10s", 10000},
        {"3s", 3000},
        {"500ms", 500},
        {"1m30s", 90000},
        {"1m0s", 60000},
        {"1.5s", 1500},
        {"2h45m", 9900000},
        {"1h2m3.5s", 3723500},
        {"0", 0},
        {"+0", 0},
        {"0s", 0},
        {"+2s", 2000},
        {"1.s", 1000},
        {".5s", 500},
        {"100us", 0},
        {"1500000us", 1500},
        {"2500000ns", 2},
        {"1500\xc2\xb5s", 1},
        {"1500\xce\xbcs", 1},
        {"1.0000000000000000000001s", 1000},
        {"0.999999s", 999},
        {"2562047h", 9223369200000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t ms;
        ck_assert_msg(dur(cases[i].in, &ms), "%s refused", cases[i].in);
        ck_assert_msg(ms == cases[i].ms, "%s: %llu ms", cases[i].in, (unsigned long long)ms);
    }
}
END_TEST

START_TEST(anything_else_is_refused)
{
    static const char *bad[] = {
        "",
        "s",
        "10",
        "10x",
        "-1s",
        "-0",
        "10S",
        "10 s",
        " 10s",
        "10s ",
        "1e3s",
        ".s",
        ".",
        "+",
        "1.2.3s",
        "ms10",
        "10sec",
        "1h-5m",
        "2562048h",
        "9223372036854775808ns",
        "99999999999999999999s",
        "5\xc2s",
        "0x10s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ms;
        ck_assert_msg(!dur(bad[i], &ms), "\"%s\" accepted (%llu ms)", bad[i],
                      (unsigned long long)ms);
    }
    /* exactly n bytes: an embedded NUL or a shorter length is not a number */
    uint64_t ms;
    ck_assert(!deadline_parse_duration("10s\0", 4, &ms));
    ck_assert(!deadline_parse_duration("10s", 2, &ms));
    ck_assert(deadline_parse_duration("10s junk", 3, &ms));
    ck_assert_uint_eq(ms, 10000);
}
END_TEST

static bool qt(const char *q, uint64_t *ms)
{
    *ms = 4242;
    return deadline_query_timeout(q, strlen(q), ms);
}

START_TEST(timeout_in_the_query)
{
    uint64_t ms;
    ck_assert(qt("timeout=10s", &ms));
    ck_assert_uint_eq(ms, 10000);
    ck_assert(qt("a=b&timeout=2s&c=d", &ms));
    ck_assert_uint_eq(ms, 2000);
    ck_assert(qt("timeout=1m30s", &ms));
    ck_assert_uint_eq(ms, 90000);
    ck_assert(qt("timeout=500%C2%B5s", &ms));
    ck_assert_uint_eq(ms, 0);
    ck_assert(qt("timeout=1%2E5s", &ms));
    ck_assert_uint_eq(ms, 1500);
    ck_assert(qt("timeout=3s&timeout=9s", &ms)); /* the first one counts */
    ck_assert_uint_eq(ms, 3000);

    ck_assert(!qt("", &ms));
    ck_assert(!qt("timeout", &ms));
    ck_assert(!qt("timeout=", &ms));
    ck_assert(!qt("timeout=abc", &ms));
    ck_assert(!qt("timeout=10", &ms));
    ck_assert(!qt("timeout=-3s", &ms));
    ck_assert(!qt("timeout=%zz", &ms));
    ck_assert(!qt("timeout=%4", &ms));
    ck_assert(!qt("xtimeout=3s", &ms));
    ck_assert(!qt("Timeout=3s", &ms));
    ck_assert(!qt("timeout=3s+", &ms));
    ck_assert(qt("timeout=3s&timeout=bad&", &ms));
    ck_assert_uint_eq(ms, 3000);
    ck_assert(!qt("timeout=bad&timeout=3s", &ms));
    char longq[200] = "timeout=";
    memset(longq + 8, '1', 150);
    strcat(longq, "s");
    ck_assert(!qt(longq, &ms));
}
END_TEST

START_TEST(the_share_of_the_api_timeout)
{
    ck_assert_uint_eq(deadline_api_share_ms(10000), 9000);
    ck_assert_uint_eq(deadline_api_share_ms(30000), 27000);
    ck_assert_uint_eq(deadline_api_share_ms(5000), 4500);
    ck_assert_uint_eq(deadline_api_share_ms(2000), 1500);
    ck_assert_uint_eq(deadline_api_share_ms(1000), 500);
    ck_assert_uint_eq(deadline_api_share_ms(800), 400);
    ck_assert_uint_eq(deadline_api_share_ms(1), 1);
    ck_assert_uint_eq(deadline_api_share_ms(0), 0);
}
END_TEST

START_TEST(the_budget_is_the_smallest_bound)
{
    /* the checks' own limit alone */
    ck_assert_uint_eq(deadline_budget_ms(1500, 0, 0), 1500);
    /* kube-apiserver's default 10 s leaves the checks' limit */
    ck_assert_uint_eq(deadline_budget_ms(1500, 10000, 10000), 1500);
    /* ?timeout=2s with timeoutMs 5000: 1.5 s */
    ck_assert_uint_eq(deadline_budget_ms(5000, 2000, 10000), 1500);
    /* the webhook's request bound */
    ck_assert_uint_eq(deadline_budget_ms(5000, 0, 3000), 3000);
    ck_assert_uint_eq(deadline_budget_ms(9000, 30000, 4000), 4000);
}
END_TEST

Suite *suite_deadline(void)
{
    Suite *s = suite_create("deadline");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, durations_as_go_writes_them);
    tcase_add_test(tc, anything_else_is_refused);
    tcase_add_test(tc, timeout_in_the_query);
    tcase_add_test(tc, the_share_of_the_api_timeout);
    tcase_add_test(tc, the_budget_is_the_smallest_bound);
    suite_add_tcase(s, tc);
    return s;
}
