/* Unit tests: the string set (strset.c): adding, finding, the number kept
 * with the first of equal strings, the change from the few strings kept
 * in the set to a hash table, and growth past many entries. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strset.h"

START_TEST(add_and_find)
{
    strset_t s = STRSET_INIT;
    size_t v = 99;
    ck_assert(!strset_find(&s, "a", &v));
    ck_assert_int_eq(strset_add(&s, "a", 1, NULL), 1);
    ck_assert_int_eq(strset_add(&s, "", 2, NULL), 1);
    /* equal strings at other addresses are the same entry; the first number stays */
    char copy[] = "a";
    ck_assert_int_eq(strset_add(&s, copy, 3, &v), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert(strset_find(&s, "", &v));
    ck_assert_uint_eq(v, 2);
    ck_assert(strset_find(&s, "a", NULL));
    ck_assert(!strset_find(&s, "b", NULL));
    ck_assert_uint_eq(s.count, 2);
    strset_free(&s);
    ck_assert_uint_eq(s.count, 0);
    ck_assert(!strset_find(&s, "a", NULL));
}
END_TEST

START_TEST(many_entries)
{
    enum { N = 50000 };
    char(*keys)[16] = malloc(N * sizeof *keys);
    ck_assert_ptr_nonnull(keys);
    strset_t s = STRSET_INIT;
    for (size_t i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "image:%zu", i);
        ck_assert_int_eq(strset_add(&s, keys[i], i, NULL), 1);
    }
    ck_assert_uint_eq(s.count, N);
    ck_assert_uint_le(2 * s.count, s.cap);
    for (size_t i = 0; i < N; i += 997) {
        size_t v;
        ck_assert(strset_find(&s, keys[i], &v));
        ck_assert_uint_eq(v, i);
    }
    ck_assert(!strset_find(&s, "image:-1", NULL));
    strset_free(&s);
    free(keys);
}
END_TEST

/* Across the change from the strings kept in the set to the hash table:
 * every string found with its first number, equal copies not added. */
START_TEST(small_then_table)
{
    for (size_t n = 1; n <= 3 * STRSET_SMALL; n++) {
        char keys[3 * STRSET_SMALL][24], copy[24]; /* room for any size_t */
        strset_t s = STRSET_INIT;
        for (size_t i = 0; i < n; i++) {
            snprintf(keys[i], sizeof keys[i], "k%zu", i);
            ck_assert_int_eq(strset_add(&s, keys[i], i, NULL), 1);
            size_t v = 99;
            snprintf(copy, sizeof copy, "k%zu", i / 2);
            ck_assert_int_eq(strset_add(&s, copy, 1000, &v), 0);
            ck_assert_uint_eq(v, i / 2);
        }
        ck_assert_uint_eq(s.count, n);
        for (size_t i = 0; i < n; i++) {
            size_t v = 99;
            snprintf(copy, sizeof copy, "k%zu", i);
            ck_assert(strset_find(&s, copy, &v));
            ck_assert_uint_eq(v, i);
        }
        ck_assert(!strset_find(&s, "k-1", NULL));
        ck_assert(!strset_find(&s, "", NULL));
        if (s.cap)
            ck_assert_uint_le(2 * s.count, s.cap);
        else
            ck_assert_uint_le(n, STRSET_SMALL);
        strset_free(&s);
    }
}
END_TEST

Suite *suite_strset(void)
{
    Suite *s = suite_create("strset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, add_and_find);
    tcase_add_test(tc, many_entries);
    tcase_add_test(tc, small_then_table);
    suite_add_tcase(s, tc);
    return s;
}
