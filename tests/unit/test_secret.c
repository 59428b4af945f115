/* Unit tests: secret_free, secret_free_n and secret_buf_free (NULL and
 * empty inputs, a buffer left empty and usable again). Whether the bytes
 * are overwritten is OpenSSL's promise (OPENSSL_cleanse), not tested here:
 * freed memory cannot be read back without undefined behaviour. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

START_TEST(null_and_empty_are_no_ops)
{
    secret_free(NULL);
    secret_free_n(NULL, 10);
    secret_free(strdup(""));
    buf_t b = BUF_INIT;
    secret_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(buffer_left_empty_and_usable)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "Authorization: Bearer abc");
    ck_assert(!b.oom);
    secret_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    buf_puts(&b, "again");
    ck_assert_str_eq(b.data, "again");
    secret_buf_free(&b);
    char *t = malloc(15);
    ck_assert_ptr_nonnull(t);
    memcpy(t, "token-with\0nul", 15);
    secret_free_n(t, 15);
}
END_TEST

Suite *suite_secret(void)
{
    Suite *s = suite_create("secret");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, null_and_empty_are_no_ops);
    tcase_add_test(tc, buffer_left_empty_and_usable);
    suite_add_tcase(s, tc);
    return s;
}
