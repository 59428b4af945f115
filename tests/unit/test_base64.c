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

/* Writes data[0..n) cut at the offsets cuts[0..ncuts) (ascending), the
 * pieces marked in `as_const` spliced as constants, the others appended
 * as text; the base64 made. */
static char *stream(const unsigned char *data, size_t n, const size_t *cuts, size_t ncuts,
                    unsigned as_const)
{
    /* one assertion at the end: each one costs the test framework a write */
    buf_t text = BUF_INIT, out = BUF_INIT;
    size_t encoded = 0;
    size_t at = 0;
    bool ok = true;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (as_const & (1u << i)) {
            base64_const_t *c = base64_const_new((const char *)data + at, end - at);
            ok = ok && c && base64_const_len(c) == end - at &&
                 memcmp(base64_const_text(c), data + at, end - at) == 0 &&
                 base64_put_const(&text, &encoded, &out, c);
            base64_const_free(c);
        } else {
            ok = ok && buf_append(&text, data + at, end - at);
        }
        ok = ok && encoded % 3 == 0 && encoded <= text.len;
        at = end;
    }
    ok = ok && base64_put_rest(&text, &encoded, &out) && encoded == n && text.len == n &&
         (n == 0 || memcmp(text.data, data, n) == 0);
    ck_assert_msg(ok, "n=%zu cuts %zu,%zu constants %u", n, ncuts ? cuts[0] : 0,
                  ncuts > 1 ? cuts[1] : 0, as_const);
    buf_free(&text);
    return buf_steal(&out);
}

/* Whatever the pieces and whichever of them are constants, the stream
 * gives what one call to base64_encode gives for the whole. */
START_TEST(stream_matches_one_shot_over_every_split)
{
    unsigned char data[40];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof data; n++) {
        char *want = base64_encode(data, n);
        ck_assert_ptr_nonnull(want);
        /* every pair of cut points, every choice of constants among the
         * three pieces */
        for (size_t a = 0; a <= n; a++) {
            for (size_t b = a; b <= n; b++) {
                size_t cuts[2] = {a, b};
                for (unsigned mask = 0; mask < 8; mask++) {
                    char *got = stream(data, n, cuts, 2, mask);
                    ck_assert_msg(strcmp(got, want) == 0, "n=%zu cuts %zu,%zu mask %u", n, a, b,
                                  mask);
                    free(got);
                }
            }
        }
        free(want);
    }
}
END_TEST

/* Many pieces of random lengths (some empty, some long), constants among
 * them at every alignment. */
START_TEST(stream_matches_one_shot_over_many_pieces)
{
    enum { N = 4096, CUTS = 24 };
    unsigned char *data = malloc(N);
    ck_assert_ptr_nonnull(data);
    unsigned seed = 7;
    for (size_t i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        data[i] = (unsigned char)(seed >> 16);
    }
    for (int round = 0; round < 300; round++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 8) % N, cuts[CUTS];
        for (size_t i = 0; i < CUTS; i++) {
            seed = seed * 1103515245u + 12345u;
            cuts[i] = n ? (seed >> 8) % (n + 1) : 0;
        }
        for (size_t i = 1; i < CUTS; i++) /* insertion sort */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        seed = seed * 1103515245u + 12345u;
        char *want = base64_encode(data, n), *got = stream(data, n, cuts, CUTS, seed);
        ck_assert_str_eq(got, want);
        free(want);
        free(got);
    }
    free(data);
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
    tcase_add_test(tc, stream_matches_one_shot_over_every_split);
    tcase_add_test(tc, stream_matches_one_shot_over_many_pieces);
    suite_add_tcase(s, tc);
    return s;
}
