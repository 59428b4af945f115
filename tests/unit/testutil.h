/* Helpers shared by the unit tests. */
#ifndef WH_TESTUTIL_H
#define WH_TESTUTIL_H

#include <check.h>
#include <string.h>

#define ck_assert_strview_eq(v, s)                                                                 \
    do {                                                                                           \
        strview_t v_ = (v);                                                                        \
        const char *s_ = (s);                                                                      \
        ck_assert_msg(v_.n == strlen(s_) && memcmp(v_.p, s_, v_.n) == 0,                           \
                      "expected '%s', got '%.*s'", s_, (int)v_.n, v_.p ? v_.p : "");               \
    } while (0)

#endif
