/* Helpers shared by the unit tests. */
#ifndef WH_TESTUTIL_H
#define WH_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "config.h"

/* The smallest configuration most tests start from. */
#define TEST_LOCAL_YAML "imageBuilder:\n  defaultRepository: localhost:5000/union\n"

/* The configuration of a YAML text, which must load: the errors are
 * printed and the test fails when it does not. */
static inline wh_config_t *test_config(const char *yaml)
{
    config_errors_t errs = {0};
    wh_config_t *c = config_load_buffer("test.yaml", yaml, strlen(yaml), &errs);
    if (!c) {
        buf_t b = BUF_INIT;
        config_errors_format(&errs, &b);
        fputs(b.data ? b.data : "", stderr);
        buf_free(&b);
    }
    config_errors_free(&errs);
    ck_assert_msg(c != NULL, "the test's configuration was refused");
    return c;
}

#define ck_assert_strview_eq(v, s)                                                                 \
    do {                                                                                           \
        strview_t v_ = (v);                                                                        \
        const char *s_ = (s);                                                                      \
        ck_assert_msg(v_.n == strlen(s_) && memcmp(v_.p, s_, v_.n) == 0,                           \
                      "expected '%s', got '%.*s'", s_, (int)v_.n, v_.p ? v_.p : "");               \
    } while (0)

#endif
