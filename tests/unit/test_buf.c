/* Unit tests: the byte buffer, UTF-8 sequences and the JSON text check. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/textref.h"
#include "buf.h"

START_TEST(appends_and_steals)
{
    buf_t b = BUF_INIT;
    ck_assert(buf_puts(&b, "ab"));
    ck_assert(buf_printf(&b, "-%d-", 42));
    ck_assert(buf_putc(&b, 'z'));
    ck_assert_uint_eq(b.len, 7);
    char *s = buf_steal(&b);
    ck_assert_str_eq(s, "ab-42-z");
    ck_assert_ptr_null(b.data);
    free(s);
    /* an empty buffer still hands over a string */
    s = buf_steal(&b);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(utf8_sequences)
{
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"a", 1), 1);
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    /* truncated, overlong, surrogate, beyond U+10FFFF, stray continuation */
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xe2\x82", 2), 0);
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0);
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0);
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
    ck_assert_uint_eq(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
}
END_TEST

START_TEST(json_text_check)
{
    size_t bad = 99;
    const char ok[] = "{\"a\": \"caf\xc3\xa9\",\n\t\"b\": [1, 2]}\r\n plus a long ascii tail!!";
    ck_assert(json_text_ok(ok, sizeof ok - 1, &bad));
    static const struct {
        const char *s;
        size_t n, at;
    } refused[] = {
        {"{\"a\":1}\0", 8, 7}, {"0123456789abcdef\x01xyz", 20, 16}, {"01234567\xff", 9, 8},
        {"\x1b[31m", 5, 0},    {"0123456789\xc3", 11, 10},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(!json_text_ok(refused[i].s, refused[i].n, &bad), "case %zu accepted", i);
        ck_assert_uint_eq(bad, refused[i].at);
    }
}
END_TEST

/* json_text_ok and the byte-by-byte reference give the same answer and offset. */
static void text_check_matches_reference(const unsigned char *s, size_t n)
{
    size_t bad = (size_t)-1, ref_bad = (size_t)-2;
    bool ok = json_text_ok((const char *)s, n, &bad);
    bool ref = textref_json_text_ok(s, n, &ref_bad);
    ck_assert_msg(ok == ref, "length %zu: %d, reference %d", n, ok, ref);
    if (!ok)
        ck_assert_uint_eq(bad, ref_bad);
}

START_TEST(json_text_check_matches_reference)
{
    unsigned char s[160];
    /* every byte value, alone and as the start of a sequence, at every
     * offset of an ASCII run past two blocks of 32, and at the end of runs
     * of every length up to that */
    for (unsigned v = 0; v < 256; v++) {
        for (size_t at = 0; at < 80; at++) {
            memset(s, 'x', 80);
            s[at] = (unsigned char)v;
            if (at + 1 < 80)
                s[at + 1] = 0x80 + (unsigned char)(v % 64);
            text_check_matches_reference(s, 80);
            text_check_matches_reference(s, at + 1);
        }
    }
    /* pseudo-random text, mostly printable with sparse other bytes
     * (multi-byte sequences, controls, tab and newline among them) */
    uint32_t x = 12345;
    for (int round = 0; round < 50000; round++) {
        size_t n = (size_t)(round % (int)sizeof s);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            unsigned r = x >> 16;
            s[i] = r % 23 ? (unsigned char)(0x20 + r % 0x5f) : (unsigned char)(r >> 8);
        }
        text_check_matches_reference(s, n);
    }
    static const char edges[] = "\x7f \x1f\t\n\r";
    text_check_matches_reference((const unsigned char *)edges, sizeof edges - 1);
}
END_TEST

START_TEST(oneline_replaces_controls_and_bad_utf8)
{
    buf_t b = BUF_INIT;
    ck_assert(buf_put_oneline(&b,
                              "a\nb\tc\x7f"
                              "d\xff\xc3\xa9",
                              10));
    ck_assert_str_eq(b.data, "a b c d?\xc3\xa9");
    buf_free(&b);
}
END_TEST

/* C1 controls, bidi controls and the Unicode line separators: each one a
 * space; their neighbours (and other characters of the same blocks) kept. */
START_TEST(oneline_replaces_c1_bidi_and_separators)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a\xc2\x85"
         "b",
         "a b"}, /* U+0085 NEL */
        {"a\xc2\x9b"
         "b",
         "a b"}, /* U+009B CSI */
        {"a\xc2\x80\xc2\x9f"
         "b",
         "a  b"},                                 /* the ends of C1 */
        {"\xc2\xa0\xc2\x7f", "\xc2\xa0? "},       /* U+00A0 stays; a broken pair, DEL */
        {"x\xe2\x80\xa8y\xe2\x80\xa9z", "x y z"}, /* U+2028, U+2029 */
        {"\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae", "     "},
        {"\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "    "}, /* U+2066-U+2069 */
        {"\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "   "},                  /* LRM, RLM, ALM */
        {"\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b",
         "\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\xd8\x9b"}, /* neighbours kept */
        {"evil\xe2\x80\xae"
         "gnp.exe",
         "evil gnp.exe"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t b = BUF_INIT;
        ck_assert(buf_put_oneline(&b, cases[i].in, strlen(cases[i].in)));
        ck_assert_msg(strcmp(b.data, cases[i].out) == 0, "case %zu: got '%s'", i, b.data);
        buf_free(&b);
    }
    ck_assert_uint_eq(utf8_unsafe((const unsigned char *)"\xe2\x80\xae", 3), 0x202E);
    ck_assert_uint_eq(utf8_unsafe((const unsigned char *)"\xc3\xa9", 2), 0);
    ck_assert_uint_eq(utf8_unsafe((const unsigned char *)"a", 1), 0);
}
END_TEST

Suite *suite_buf(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, appends_and_steals);
    tcase_add_test(tc, utf8_sequences);
    tcase_add_test(tc, json_text_check);
    tcase_add_test(tc, json_text_check_matches_reference);
    tcase_add_test(tc, oneline_replaces_controls_and_bad_utf8);
    tcase_add_test(tc, oneline_replaces_c1_bidi_and_separators);
    suite_add_tcase(s, tc);
    return s;
}
