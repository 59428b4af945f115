/* Unit tests: the strict JSON scanner (jsonscan.c): what RFC 8259 allows
 * and refuses, member names given twice at any depth (after unescaping),
 * \u0000, the byte ranges of a top-level array's elements, the paths in
 * its answers, and the value count. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonscan.h"

static jsonscan_status_t scan(const char *s, jsonscan_result_t *r)
{
    return jsonscan(s, strlen(s), NULL, 0, r);
}

START_TEST(valid_texts)
{
    static const char *const ok[] = {
        "{}", " [ ] ", "0", "-0", "-0.5e+10", "1E-2", "3.10", "12345678901234567890123", "1e999",
        "\"\"", "\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "true", "false", "null",
        "{\"a\":[1,{\"b\":null}],\"c\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
        "\t\r\n{ \"a\" : 1 , \"b\" : [ true , false ] }\n",
        /* the same name in different objects, or as a value, is fine */
        "{\"a\":{\"a\":1},\"b\":{\"a\":2},\"c\":\"a\"}", "[{\"a\":1},{\"a\":1}]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        jsonscan_result_t r;
        ck_assert_msg(scan(ok[i], &r) == JSONSCAN_OK, "refused %s (%s at %zu)", ok[i],
                      jsonscan_strerror(r.status), r.offset);
    }
}
END_TEST

START_TEST(not_json_is_refused_at_its_byte)
{
    static const struct {
        const char *s;
        size_t at;
    } bad[] = {
        {"", 0},
        {"   ", 3},
        {"{", 1},
        {"{\"a\"}", 4},
        {"{\"a\":}", 5},
        {"{\"a\":1,}", 7},
        {"[1,]", 3},
        {"[1 2]", 3},
        {"01", 1},
        {"-", 1},
        {"1.", 2},
        {".5", 0},
        {"1e", 2},
        {"+1", 0},
        {"NaN", 0},
        {"Infinity", 0},
        {"tru", 0},
        {"nul", 0},
        {"'a'", 0},
        {"\"a", 2},
        {"\"\\x\"", 1},
        {"\"\\u12\"", 1},
        {"\"\\ud800\"", 1},        /* a high surrogate alone */
        {"\"\\ud800\\u0041\"", 1}, /* ... followed by something else */
        {"\"\\udc00\"", 1},        /* a low surrogate alone */
        {"\"a\tb\"", 2},           /* a raw control character */
        {"\"\xc3\"", 1},           /* a cut UTF-8 sequence */
        {"\"\xed\xa0\x80\"", 1},   /* a surrogate encoded in UTF-8 */
        {"\"\xc0\xaf\"", 1},       /* an overlong form */
        {"{} x", 3},
        {"{}\v", 2}, /* a blank JSON does not have */
        {"[1]]", 3},
        {"{\"a\" 1}", 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jsonscan_result_t r;
        ck_assert_msg(scan(bad[i].s, &r) == JSONSCAN_SYNTAX, "case %zu '%s': %s", i, bad[i].s,
                      jsonscan_strerror(r.status));
        ck_assert_msg(r.offset == bad[i].at, "case %zu '%s': at %zu, want %zu", i, bad[i].s,
                      r.offset, bad[i].at);
        ck_assert_uint_eq(r.status, JSONSCAN_SYNTAX);
    }
    /* the length is what counts, not a NUL terminator */
    jsonscan_result_t r;
    ck_assert_int_eq(jsonscan("{}{}", 2, NULL, 0, &r), JSONSCAN_OK);
    ck_assert_int_eq(jsonscan("[1,2]", 4, NULL, 0, &r), JSONSCAN_SYNTAX);
    ck_assert_int_eq(jsonscan("\"a\0b\"", 5, NULL, 0, &r), JSONSCAN_SYNTAX);
}
END_TEST

START_TEST(names_given_twice)
{
    static const struct {
        const char *s, *path, *name;
    } dup[] = {
        {"{\"a\":1,\"a\":2}", "a", "a"},
        {"{\"registry\":\"x\",\"name\":\"n\",\"registry\":\"y\"}", "registry", "registry"},
        /* unescaping first: these are the same name */
        {"{\"a\":1,\"\\u0061\":2}", "\\u0061", "\\u0061"},
        {"{\"\\u00e9\":1,\"\xc3\xa9\":2}", "\xc3\xa9", "\xc3\xa9"},
        {"{\"\\/\":1,\"/\":2}", "/", "/"},
        /* at any depth, the path says where */
        {"{\"builder_options\":{\"x\":1,\"x\":2}}", "builder_options.x", "x"},
        {"[{\"name\":\"a\"},{\"name\":\"b\",\"env\":{\"K\":1,\"K\":2}}]", "[1].env.K", "K"},
        {"{\"a\":[[{\"b\":{},\"b\":[]}]]}", "a[0][0].b", "b"},
        {"{\"\":1,\"\":2}", "", ""},
    };
    for (size_t i = 0; i < sizeof dup / sizeof dup[0]; i++) {
        jsonscan_result_t r;
        ck_assert_msg(scan(dup[i].s, &r) == JSONSCAN_DUPLICATE, "case %zu: %s", i,
                      jsonscan_strerror(r.status));
        ck_assert_str_eq(r.path, dup[i].path);
        ck_assert_str_eq(r.name, dup[i].name);
    }
    /* the later of the two is the one reported */
    jsonscan_result_t r;
    ck_assert_int_eq(scan("{\"a\":1,\"b\":2,\"a\":3}", &r), JSONSCAN_DUPLICATE);
    ck_assert_uint_eq(r.offset, 14);
    /* case matters: JSON names are case-sensitive */
    ck_assert_int_eq(scan("{\"a\":1,\"A\":2}", &r), JSONSCAN_OK);
}
END_TEST

START_TEST(nul_in_a_string)
{
    static const struct {
        const char *s, *path;
    } nul[] = {
        {"\"a\\u0000\"", ""},
        {"{\"name\":\"x\\u0000y\"}", "name"},
        {"{\"a\\u0000\":1}", "a\\u0000"},
        {"[{\"name\":\"a\"},{\"packages\":[\"p\",\"\\u0000\"]}]", "[1].packages[1]"},
    };
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
        jsonscan_result_t r;
        ck_assert_msg(scan(nul[i].s, &r) == JSONSCAN_NUL, "case %zu", i);
        ck_assert_str_eq(r.path, nul[i].path);
    }
    jsonscan_result_t r;
    /* an escaped backslash followed by u0000 is not NUL */
    ck_assert_int_eq(scan("\"\\\\u0000\"", &r), JSONSCAN_OK);
}
END_TEST

START_TEST(element_ranges)
{
    const char *s = " [ {\"a\":1} ,\n\"x\",[1,[2]], 3.10 ,{}] ";
    jsonscan_range_t el[8];
    jsonscan_result_t r;
    ck_assert_int_eq(jsonscan(s, strlen(s), el, 8, &r), JSONSCAN_OK);
    ck_assert(r.is_array);
    ck_assert_uint_eq(r.n_elems, 5);
    const char *want[] = {"{\"a\":1}", "\"x\"", "[1,[2]]", "3.10", "{}"};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_uint_eq(el[i].len, strlen(want[i]));
        ck_assert_msg(memcmp(s + el[i].off, want[i], el[i].len) == 0, "element %zu: %.*s", i,
                      (int)el[i].len, s + el[i].off);
    }
    ck_assert_uint_eq(r.value.off, 1);
    ck_assert_uint_eq(r.value.len, strlen(s) - 2);
    /* fewer slots than elements: those filled, all counted */
    ck_assert_int_eq(jsonscan(s, strlen(s), el, 2, &r), JSONSCAN_OK);
    ck_assert_uint_eq(r.n_elems, 5);
    /* an object: its range, no elements */
    ck_assert_int_eq(jsonscan("\n{\"a\":[]}\t", 10, el, 8, &r), JSONSCAN_OK);
    ck_assert(!r.is_array);
    ck_assert_uint_eq(r.n_elems, 0);
    ck_assert_uint_eq(r.value.off, 1);
    ck_assert_uint_eq(r.value.len, 8);
    ck_assert_int_eq(jsonscan("[]", 2, el, 8, &r), JSONSCAN_OK);
    ck_assert(r.is_array);
    ck_assert_uint_eq(r.n_elems, 0);
}
END_TEST

START_TEST(depth_and_long_paths)
{
    buf_t b = BUF_INIT;
    for (int i = 0; i < JSONSCAN_MAX_DEPTH; i++)
        buf_putc(&b, '[');
    for (int i = 0; i < JSONSCAN_MAX_DEPTH; i++)
        buf_putc(&b, ']');
    jsonscan_result_t r;
    ck_assert_int_eq(jsonscan(b.data, b.len, NULL, 0, &r), JSONSCAN_OK);
    buf_reset(&b);
    for (int i = 0; i <= JSONSCAN_MAX_DEPTH; i++)
        buf_putc(&b, '[');
    ck_assert_int_eq(jsonscan(b.data, b.len, NULL, 0, &r), JSONSCAN_DEPTH);
    ck_assert_uint_eq(r.offset, JSONSCAN_MAX_DEPTH);
    ck_assert_uint_lt(strlen(r.path), JSONSCAN_PATH_MAX);
    /* a deep duplicate with long names: the path is cut, one line */
    buf_reset(&b);
    for (int i = 0; i < 50; i++)
        buf_printf(&b, "{\"%s%d\":", "a-rather-long-member-name-for-the-path-", i);
    buf_puts(&b, "{\"k\":1,\"k\":2}");
    for (int i = 0; i < 50; i++)
        buf_putc(&b, '}');
    ck_assert_int_eq(jsonscan(b.data, b.len, NULL, 0, &r), JSONSCAN_DUPLICATE);
    ck_assert_uint_lt(strlen(r.path), JSONSCAN_PATH_MAX);
    ck_assert_ptr_nonnull(strstr(r.path, "..."));
    ck_assert_str_eq(r.name, "k");
    buf_free(&b);
}
END_TEST

START_TEST(many_names_in_one_object)
{
    /* 20000 names: sorted once when the object closes, not compared pairwise */
    buf_t b = BUF_INIT;
    buf_putc(&b, '{');
    for (int i = 0; i < 20000; i++)
        buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    buf_puts(&b, "}");
    jsonscan_result_t r;
    ck_assert_int_eq(jsonscan(b.data, b.len, NULL, 0, &r), JSONSCAN_OK);
    b.data[b.len - 1] = ',';
    buf_puts(&b, "\"k19999\":0}");
    ck_assert_int_eq(jsonscan(b.data, b.len, NULL, 0, &r), JSONSCAN_DUPLICATE);
    ck_assert_str_eq(r.path, "k19999");
    buf_free(&b);
}
END_TEST

START_TEST(value_count)
{
    ck_assert_uint_eq(json_count_values("1", 1), 1);
    ck_assert_uint_eq(json_count_values("{\"a\":1,\"b\":[1,2]}", 17), 5);
    /* brackets and commas inside strings do not count, escaped quotes do not end them */
    const char *s = "[\"a,[{\\\"\",\"}]\"]";
    ck_assert_uint_eq(json_count_values(s, strlen(s)), 3);
    /* any bytes: a number, nothing read past the end */
    ck_assert_uint_ge(json_count_values("\"\\", 2), 1);
    ck_assert_uint_eq(json_count_values(",,,", 3), 4);
}
END_TEST

Suite *suite_jsonscan(void)
{
    Suite *s = suite_create("jsonscan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, valid_texts);
    tcase_add_test(tc, not_json_is_refused_at_its_byte);
    tcase_add_test(tc, names_given_twice);
    tcase_add_test(tc, nul_in_a_string);
    tcase_add_test(tc, element_ranges);
    tcase_add_test(tc, depth_and_long_paths);
    tcase_add_test(tc, many_names_in_one_object);
    tcase_add_test(tc, value_count);
    suite_add_tcase(s, tc);
    return s;
}
