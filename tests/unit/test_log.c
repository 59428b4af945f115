/* Unit tests for log: JSON escaping of request text, levels, one line per call. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char *escaped(const char *s, size_t n, size_t max)
{
    buf_t b = BUF_INIT;
    ck_assert(log_json_string(&b, s, n, max));
    return buf_steal(&b);
}

START_TEST(escapes_quotes_controls_and_bad_utf8)
{
    char *e = escaped("a\"b\\c\n\x01\x7f", 8, 0);
    ck_assert_str_eq(e, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
    free(e);
    e = escaped("caf\xc3\xa9 \xff\xc0\xaf \xed\xa0\x80", 13, 0); /* valid é, then invalid bytes */
    ck_assert_str_eq(e, "\"caf\xc3\xa9 \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\"");
    free(e);
}
END_TEST

START_TEST(escapes_c1_bidi_and_separators)
{
    const char *in = "a\xc2\x85"
                     "b\xc2\x9b"
                     "c\xe2\x80\xae"
                     "d\xe2\x81\xa6"
                     "e\xe2\x80\xa8"
                     "f"
                     "\xe2\x80\xa9"
                     "g\xe2\x80\x8f"
                     "h\xd8\x9c"
                     "i\xc3\xa9";
    char *e = escaped(in, strlen(in), 0);
    ck_assert_str_eq(e, "\"a\\u0085b\\u009bc\\u202ed\\u2066e\\u2028f\\u2029g\\u200fh\\u061ci"
                        "\xc3\xa9\"");
    /* still JSON, and the value read back is the one given */
    cJSON *v = cJSON_Parse(e);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v->valuestring, in);
    cJSON_Delete(v);
    free(e);
}
END_TEST

START_TEST(cuts_long_values_without_splitting_utf8)
{
    char *e = escaped("abcdef", 6, 4);
    ck_assert_str_eq(e, "\"abcd...\"");
    free(e);
    e = escaped("ab\xc3\xa9", 4, 3); /* the cut falls inside é */
    ck_assert_str_eq(e, "\"ab...\"");
    free(e);
}
END_TEST

/* The escaper as it was first written, one append at a time: the
 * reference the faster one must match byte for byte. */
static bool reference_escape(buf_t *b, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    bool cut = false;
    if (max > 0 && n > max) {
        n = max;
        cut = true;
    }
    buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        /* copy plain runs in one append */
        while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            buf_append(b, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_append(b, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '\n':
                buf_append(b, "\\n", 2);
                break;
            case '\r':
                buf_append(b, "\\r", 2);
                break;
            case '\t':
                buf_append(b, "\\t", 2);
                break;
            default:
                buf_append(b, e, 6);
            }
            i++;
        } else {
            size_t len = utf8_seq_len(p + i, n - i);
            if (len == 0) {
                if (cut && n - i < 4 && n == max) {
                    /* a sequence split by the cut: drop its tail */
                    break;
                }
                buf_append(b, "\\ufffd", 6);
                i++;
            } else if (utf8_unsafe(p + i, len)) {
                /* C1, bidi and separators: escaped like the C0 controls */
                char e[7];
                snprintf(e, sizeof e, "\\u%04x", utf8_unsafe(p + i, len));
                buf_append(b, e, 6);
                i += len;
            } else {
                buf_append(b, p + i, len);
                i += len;
            }
        }
    }
    if (cut)
        buf_append(b, "...", 3);
    return buf_putc(b, '"');
}

START_TEST(escaping_matches_the_reference)
{
    /* pseudo-random text: printable runs with quotes, backslashes,
     * controls, DEL, multi-byte sequences (C1, bidi, separators among
     * them) and bad bytes, at every length and cut */
    static const char *const pieces[] = {
        "\"",           "\\",           "\n",           "\r",       "\t",
        "\x01",         "\x1f",         "\x7f",         "\xc3\xa9", "\xc2\x85",
        "\xe2\x80\xae", "\xe2\x81\xa6", "\xe2\x80\xa8", "\xd8\x9c", "\xf0\x9f\x98\x80",
        "\xff",         "\xc0\xaf",     "\xed\xa0\x80", "\xe2\x82", "\x80",
        "\x00"};
    uint32_t x = 4242;
    char s[200];
    for (int round = 0; round < 20000; round++) {
        size_t n = 0;
        size_t target = (size_t)(round % 150);
        while (n < target) {
            x = x * 1103515245u + 12345u;
            unsigned r = x >> 16;
            if (r % 5) {
                s[n++] = (char)(0x20 + r % 0x5f);
            } else {
                const char *pc = pieces[r % (sizeof pieces / sizeof pieces[0])];
                size_t k = pc[0] ? strlen(pc) : 1;
                if (n + k > sizeof s)
                    break;
                memcpy(s + n, pc, k);
                n += k;
            }
        }
        size_t max = round % 3 ? 0 : (size_t)(x >> 20) % (n + 2);
        buf_t got = BUF_INIT, want = BUF_INIT;
        ck_assert(log_json_string(&got, s, n, max));
        ck_assert(reference_escape(&want, s, n, max));
        ck_assert_uint_eq(got.len, want.len);
        ck_assert_msg(memcmp(got.data, want.data, got.len) == 0, "round %d: %s != %s", round,
                      got.data, want.data);
        buf_free(&got);
        buf_free(&want);
    }
}
END_TEST

/* Reads what the log wrote to a pipe. */
static char *capture(void (*fn)(void))
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    log_set_fd(p[1]);
    fn();
    log_set_fd(2);
    close(p[1]);
    static char out[8192];
    ssize_t n = read(p[0], out, sizeof out - 1);
    close(p[0]);
    out[n < 0 ? 0 : n] = '\0';
    return out;
}

static void write_decision(void)
{
    log_set_level(LOG_INFO);
    log_line_t *l = log_begin(LOG_INFO, "admission");
    log_str(l, "uid", "x\"}\n{\"forged\":1");
    log_array_begin(l, "targets");
    log_array_str(l, "r/a:1");
    log_array_str(l, "r/b:2");
    log_array_end(l);
    log_uint(l, "ops", 7);
    log_bool(l, "dryRun", true);
    log_end(l);
    log_msg(LOG_DEBUG, "hidden", NULL); /* below the level: nothing written */
}

START_TEST(one_json_object_per_line)
{
    char *out = capture(write_decision);
    char *nl = strchr(out, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_str_eq(nl + 1, ""); /* exactly one line */
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "msg")->valuestring, "admission");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "level")->valuestring, "info");
    ck_assert_str_eq(cJSON_GetObjectItem(j, "uid")->valuestring, "x\"}\n{\"forged\":1");
    ck_assert_ptr_null(cJSON_GetObjectItem(j, "forged"));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "targets")), 2);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "ops")->valueint, 7);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "dryRun")));
    cJSON_Delete(j);
    log_thread_cleanup();
}
END_TEST

static void write_numbers_buffered(void)
{
    log_set_level(LOG_INFO);
    log_buffer_lines(true);
    log_line_t *l = log_begin(LOG_INFO, "n");
    log_int(l, "neg", -9876543210LL);
    log_int(l, "zero", 0);
    log_uint(l, "big", 18446744073709551615ull);
    log_end(l);
    log_msg(LOG_INFO, "second", NULL);
    log_buffer_lines(false); /* flushes both lines */
}

START_TEST(timestamps_numbers_and_buffered_lines)
{
    char *out = capture(write_numbers_buffered);
    char *second = strchr(out, '\n');
    ck_assert_ptr_nonnull(second);
    *second++ = '\0';
    ck_assert_ptr_nonnull(strstr(second, "\"msg\":\"second\""));
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    const char *ts = cJSON_GetObjectItem(j, "ts")->valuestring;
    /* 2026-11-27T04:10:25.662Z */
    ck_assert_uint_eq(strlen(ts), 24);
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < 24; i++)
        ck_assert_msg(shape[i] == 'd' ? (ts[i] >= '0' && ts[i] <= '9') : ts[i] == shape[i], "ts %s",
                      ts);
    ck_assert_ptr_nonnull(strstr(out, "\"neg\":-9876543210,"));
    ck_assert_ptr_nonnull(strstr(out, "\"zero\":0,"));
    ck_assert_ptr_nonnull(strstr(out, "\"big\":18446744073709551615}"));
    cJSON_Delete(j);
    log_thread_cleanup();
}
END_TEST

START_TEST(levels_filter)
{
    log_set_level(LOG_WARN);
    ck_assert(!log_enabled(LOG_INFO));
    ck_assert(log_enabled(LOG_ERROR));
    ck_assert_ptr_null(log_begin(LOG_DEBUG, "x"));
    log_str(NULL, "k", "v"); /* NULL lines are ignored */
    log_end(NULL);
    log_set_level(LOG_INFO);
}
END_TEST

Suite *suite_log(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, escapes_quotes_controls_and_bad_utf8);
    tcase_add_test(tc, escapes_c1_bidi_and_separators);
    tcase_add_test(tc, cuts_long_values_without_splitting_utf8);
    tcase_add_test(tc, escaping_matches_the_reference);
    tcase_add_test(tc, one_json_object_per_line);
    tcase_add_test(tc, timestamps_numbers_and_buffered_lines);
    tcase_add_test(tc, levels_filter);
    suite_add_tcase(s, tc);
    return s;
}
