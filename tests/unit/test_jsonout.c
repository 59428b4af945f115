/* Unit tests: the JSON string escaper (jsonout.c) against a plain
 * byte-by-byte reference and against cJSON's printer, for every byte, every
 * pair of bytes, and random strings written at every buffer position. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonout.h"

/* The escape rules, one byte at a time, as cJSON's printer applies them. */
static void reference(buf_t *b, const unsigned char *s, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c == '\b')
            buf_puts(b, "\\b");
        else if (c == '\f')
            buf_puts(b, "\\f");
        else if (c == '\n')
            buf_puts(b, "\\n");
        else if (c == '\r')
            buf_puts(b, "\\r");
        else if (c == '\t')
            buf_puts(b, "\\t");
        else if (c < 0x20)
            buf_printf(b, "\\u%04x", c);
        else
            buf_putc(b, (char)c);
    }
    buf_putc(b, '"');
}

/* json_put_string(s) after `prefix` bytes already in the buffer equals the
 * reference; and so does cJSON when s has no NUL. */
static void check_one(const unsigned char *s, size_t n, size_t prefix)
{
    buf_t got = BUF_INIT, want = BUF_INIT;
    for (size_t i = 0; i < prefix; i++)
        buf_putc(&got, 'p');
    ck_assert(json_put_string(&got, (const char *)s, n));
    reference(&want, s, n);
    ck_assert_uint_eq(got.len, prefix + want.len);
    ck_assert(memcmp(got.data + prefix, want.data, want.len) == 0);
    ck_assert_int_eq(got.data[got.len], '\0');
    if (!memchr(s, '\0', n)) {
        char *z = malloc(n + 1);
        ck_assert_ptr_nonnull(z);
        memcpy(z, s, n);
        z[n] = '\0';
        cJSON *str = cJSON_CreateString(z);
        char *printed = cJSON_PrintUnformatted(str);
        ck_assert_str_eq(got.data + prefix, printed);
        cJSON_free(printed);
        cJSON_Delete(str);
        free(z);
    }
    buf_free(&got);
    buf_free(&want);
}

START_TEST(every_byte_and_pair)
{
    unsigned char s[2];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        check_one(s, 1, 0);
        for (unsigned c = 0; c < 256; c++) {
            s[1] = (unsigned char)c;
            check_one(s, 2, a % 9);
        }
    }
}
END_TEST

/* Strings of every length up to 80 from alphabets with more or fewer
 * bytes that need escapes, so that escapes fall at every offset of a word
 * and runs cross word boundaries. */
START_TEST(random_strings_at_every_position)
{
    static const char *const alphabets[] = {
        "abcdefghijklmnop",
        "a\"b\\c",
        "\x01\x1f\n\t\r\b\f\"\\",
        "x\xc3\xa9\x7f\x80\xff\x20",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
    };
    uint32_t seed = 12345;
    unsigned char s[80];
    for (size_t k = 0; k < sizeof alphabets / sizeof alphabets[0]; k++) {
        size_t an = strlen(alphabets[k]);
        for (size_t n = 0; n <= sizeof s; n++) {
            for (int rep = 0; rep < 8; rep++) {
                for (size_t i = 0; i < n; i++) {
                    seed = seed * 1103515245u + 12345u;
                    s[i] = (unsigned char)alphabets[k][(seed >> 16) % an];
                }
                check_one(s, n, (size_t)rep * 7);
            }
        }
    }
}
END_TEST

START_TEST(chars_without_quotes_and_nul)
{
    buf_t b = BUF_INIT;
    ck_assert(json_put_chars(&b, "a\0b\"", 4));
    ck_assert_str_eq(b.data, "a\\u0000b\\\"");
    buf_reset(&b);
    ck_assert(json_put_str(&b, ""));
    ck_assert_str_eq(b.data, "\"\"");
    ck_assert(json_put_chars(&b, "", 0));
    ck_assert_uint_eq(b.len, 2);
    buf_free(&b);
}
END_TEST

START_TEST(out_of_memory_is_sticky)
{
    buf_t b = BUF_INIT;
    b.oom = true;
    ck_assert(!json_put_string(&b, "x", 1));
    ck_assert(!json_put_chars(&b, "\"", 1));
    ck_assert_uint_eq(b.len, 0);
    buf_free(&b);
}
END_TEST

Suite *suite_jsonout(void)
{
    Suite *s = suite_create("jsonout");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_byte_and_pair);
    tcase_add_test(tc, random_strings_at_every_position);
    tcase_add_test(tc, chars_without_quotes_and_nul);
    tcase_add_test(tc, out_of_memory_is_sticky);
    suite_add_tcase(s, tc);
    return s;
}
