/* Unit tests: base64 decoding (exact lengths, padding, whitespace, bad input). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static unsigned char *dec(const char *s, int flags, size_t *len)
{
    return base64_decode(s, strlen(s), flags, len);
}

START_TEST(exact_length_for_every_padding)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"YWJj", "abc"},
        {"YWI=", "ab"},
        {"YQ==", "a"},
        {"aHViOnNlY3JldA==", "hub:secret"},
        {"dXNlcjpwYXNzOndvcmQ=", "user:pass:word"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 99;
        unsigned char *b = dec(cases[i].in, 0, &len);
        ck_assert_msg(b != NULL, "refused %s", cases[i].in);
        ck_assert_uint_eq(len, strlen(cases[i].out));
        ck_assert(memcmp(b, cases[i].out, len) == 0);
        ck_assert_int_eq(b[len], '\0');
        free(b);
    }
}
END_TEST

START_TEST(binary_bytes_kept)
{
    size_t len = 0;
    unsigned char *b = dec("AP8A", 0, &len); /* 00 ff 00 */
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(len, 3);
    ck_assert(b[0] == 0 && b[1] == 0xff && b[2] == 0);
    free(b);
}
END_TEST

START_TEST(whitespace_only_when_asked)
{
    const char *wrapped = "LS0tLS1C\n  RUdJTg==\r\n";
    size_t len = 0;
    ck_assert_ptr_null(dec(wrapped, 0, &len));
    unsigned char *b = dec(wrapped, BASE64_SKIP_SPACE, &len);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(len, 10);
    ck_assert(memcmp(b, "-----BEGIN", 10) == 0);
    free(b);
}
END_TEST

START_TEST(malformed_refused)
{
    static const char *bad[] = {
        "",         /* nothing */
        "====",     /* only padding */
        "YQ",       /* unpadded */
        "YQ=",      /* short padding */
        "Y",        /* one character */
        "YQ=a",     /* data after padding */
        "YQ==YQ==", /* two padded blocks */
        "***",      /* not the alphabet */
        "abc-def",  /* not the alphabet */
        "YW Jj",    /* a space without BASE64_SKIP_SPACE */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 99;
        ck_assert_msg(dec(bad[i], 0, &len) == NULL, "accepted '%s'", bad[i]);
        ck_assert_uint_eq(len, 0);
    }
}
END_TEST

START_TEST(encode_round_trip)
{
    static const char *plain[] = {"", "a", "ab", "abc", "user:pass:word"};
    static const char *coded[] = {"", "YQ==", "YWI=", "YWJj", "dXNlcjpwYXNzOndvcmQ="};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        char *e = base64_encode(plain[i], strlen(plain[i]));
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e, coded[i]);
        free(e);
    }
}
END_TEST

START_TEST(url_safe_round_trip)
{
    /* RFC 7515's example header, and bytes that use the two URL-safe letters */
    static const char hdr[] = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    char *e = base64url_encode(hdr, strlen(hdr));
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(e, "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
    size_t len = 0;
    unsigned char *d = base64url_decode(e, strlen(e), &len);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(len, strlen(hdr));
    ck_assert(memcmp(d, hdr, len) == 0);
    free(d);
    free(e);
    static const unsigned char bin[] = {0xfb, 0xff, 0xbf, 0xfe};
    e = base64url_encode(bin, sizeof bin);
    ck_assert_str_eq(e, "-_-__g");
    d = base64url_decode(e, strlen(e), &len);
    ck_assert_uint_eq(len, sizeof bin);
    ck_assert(memcmp(d, bin, len) == 0);
    free(d);
    free(e);
}
END_TEST

START_TEST(url_safe_malformed_refused)
{
    static const char *bad[] = {
        "",         /* nothing */
        "Y",        /* an impossible length */
        "YQ==",     /* padding */
        "+/8",      /* the standard alphabet's letters */
        "YW Jj",    /* a space */
        "YW\nJj",   /* a line break */
        "eyJ0.eXA", /* a dot */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = 99;
        ck_assert_msg(base64url_decode(bad[i], strlen(bad[i]), &len) == NULL, "accepted '%s'",
                      bad[i]);
        ck_assert_uint_eq(len, 0);
    }
}
END_TEST

Suite *suite_base64(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, exact_length_for_every_padding);
    tcase_add_test(tc, binary_bytes_kept);
    tcase_add_test(tc, whitespace_only_when_asked);
    tcase_add_test(tc, malformed_refused);
    tcase_add_test(tc, encode_round_trip);
    tcase_add_test(tc, url_safe_round_trip);
    tcase_add_test(tc, url_safe_malformed_refused);
    suite_add_tcase(s, tc);
    return s;
}
