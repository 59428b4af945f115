/* Tests for yamldoc: node positions, aliases kept as leaves (billion
 * laughs), depth and node limits, multi-document input, syntax errors and
 * the YAML-to-JSON typing rules. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "yamldoc.h"

static ynode_t *parse_ok(const char *s)
{
    ydoc_error_t err;
    ynode_t *n = ydoc_parse(s, strlen(s), NULL, &err);
    ck_assert_msg(n != NULL, "parse failed: %zu:%zu %s", err.line, err.col, err.msg);
    return n;
}

START_TEST(positions_of_keys_and_values)
{
    const char *doc = "a: 1\n"
                      "b:\n"
                      "  c: [x, \"y\"]\n"
                      "  d:\n"
                      "    - k: v\n";
    ynode_t *root = parse_ok(doc);
    ck_assert_int_eq(root->kind, YNODE_MAP);
    ck_assert_uint_eq(root->n, 2);
    ck_assert_uint_eq(root->line, 1);
    ck_assert_uint_eq(root->col, 1);

    const ynode_t *a = ydoc_get(root, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->str, "1");
    ck_assert(a->plain);
    ck_assert_uint_eq(a->line, 1);
    ck_assert_uint_eq(a->col, 4);

    const ynode_t *b = ydoc_get(root, "b");
    ck_assert_int_eq(b->kind, YNODE_MAP);
    ck_assert_uint_eq(b->line, 3);
    ck_assert_uint_eq(b->col, 3);

    const ynode_t *c = ydoc_get(b, "c");
    ck_assert_int_eq(c->kind, YNODE_SEQ);
    ck_assert_uint_eq(c->n, 2);
    ck_assert_uint_eq(c->line, 3);
    ck_assert_uint_eq(c->col, 6);
    ck_assert_str_eq(c->items[0]->str, "x");
    ck_assert_uint_eq(c->items[0]->col, 7);
    ck_assert(c->items[0]->plain);
    ck_assert_str_eq(c->items[1]->str, "y");
    ck_assert_uint_eq(c->items[1]->col, 10);
    ck_assert(!c->items[1]->plain);

    const ynode_t *d = ydoc_get(b, "d");
    ck_assert_int_eq(d->kind, YNODE_SEQ);
    ck_assert_uint_eq(d->line, 5);
    ck_assert_uint_eq(d->col, 5);
    const ynode_t *v = ydoc_get(d->items[0], "k");
    ck_assert_str_eq(v->str, "v");
    ck_assert_uint_eq(v->line, 5);
    ck_assert_uint_eq(v->col, 10);

    /* the key node itself also has a position */
    ck_assert_str_eq(b->items[0]->str, "c");
    ck_assert_uint_eq(b->items[0]->line, 3);
    ck_assert_uint_eq(b->items[0]->col, 3);
    ydoc_free(root);
}
END_TEST

START_TEST(get_last_key_wins_and_non_map)
{
    ynode_t *root = parse_ok("k: first\nk: second\n");
    ck_assert_str_eq(ydoc_get(root, "k")->str, "second");
    ck_assert_ptr_null(ydoc_get(root, "missing"));
    ck_assert_ptr_null(ydoc_get(ydoc_get(root, "k"), "k"));
    ck_assert_ptr_null(ydoc_get(NULL, "k"));
    ydoc_free(root);
}
END_TEST

START_TEST(empty_documents_are_empty_maps)
{
    const char *cases[] = {"", "# only a comment\n", "---\n", "\n\n", "--- # c\n...\n"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ydoc_error_t err;
        ynode_t *n = ydoc_parse(cases[i], strlen(cases[i]), NULL, &err);
        ck_assert_msg(n != NULL, "case %zu: %s", i, err.msg);
        ck_assert_int_eq(n->kind, YNODE_MAP);
        ck_assert_uint_eq(n->n, 0);
        ydoc_free(n);
    }
    /* a quoted empty string is a value, not an empty document */
    ynode_t *q = parse_ok("''\n");
    ck_assert_int_eq(q->kind, YNODE_SCALAR);
    ydoc_free(q);
}
END_TEST

START_TEST(alias_is_a_leaf)
{
    ynode_t *root = parse_ok("base: &b {x: 1}\ncopy: *b\nlist: [*b, 2]\n");
    const ynode_t *copy = ydoc_get(root, "copy");
    ck_assert_int_eq(copy->kind, YNODE_ALIAS);
    ck_assert_str_eq(copy->str, "b");
    ck_assert_uint_eq(copy->line, 2);
    ck_assert_uint_eq(copy->col, 7);
    /* the anchored node is an ordinary map */
    ck_assert_int_eq(ydoc_get(root, "base")->kind, YNODE_MAP);

    ydoc_error_t err;
    cJSON *j = ydoc_to_json(root, &err);
    ck_assert_ptr_null(j);
    ck_assert_uint_eq(err.line, 2);
    ck_assert_uint_eq(err.col, 7);
    ck_assert_ptr_nonnull(strstr(err.msg, "alias"));

    /* converting only the part without aliases works */
    j = ydoc_to_json(ydoc_get(root, "base"), &err);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "x")->valueint, 1);
    cJSON_Delete(j);

    const ynode_t *list = ydoc_get(root, "list");
    ck_assert_int_eq(list->items[0]->kind, YNODE_ALIAS);
    ck_assert_uint_eq(list->items[0]->col, 8);
    ydoc_free(root);
}
END_TEST

START_TEST(billion_laughs_is_not_expanded)
{
    buf_t b = BUF_INIT;
    buf_puts(&b,
             "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (int i = 1; i <= 9; i++) {
        buf_printf(&b, "a%d: &a%d [", i, i);
        for (int k = 0; k < 9; k++)
            buf_printf(&b, "%s*a%d", k ? "," : "", i - 1);
        buf_puts(&b, "]\n");
    }
    buf_puts(&b, "ok: true\n");
    ck_assert(!b.oom);

    /* 9^10 nodes if expanded; the tree holds only what the text holds */
    ydoc_limits_t lim = {0, 200};
    ydoc_error_t err;
    ynode_t *root = ydoc_parse(b.data, b.len, &lim, &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    const ynode_t *a9 = ydoc_get(root, "a9");
    ck_assert_int_eq(a9->kind, YNODE_SEQ);
    ck_assert_uint_eq(a9->n, 9);
    ck_assert_int_eq(a9->items[0]->kind, YNODE_ALIAS);
    ck_assert_str_eq(a9->items[0]->str, "a8");
    ck_assert_str_eq(ydoc_get(root, "ok")->str, "true");

    /* refused where read */
    cJSON *j = ydoc_to_json(a9, &err);
    ck_assert_ptr_null(j);
    ck_assert_uint_eq(err.line, 10);
    ydoc_free(root);
    buf_free(&b);
}
END_TEST

static char *nested(size_t depth)
{
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < depth; i++)
        buf_putc(&b, '[');
    for (size_t i = 0; i < depth; i++)
        buf_putc(&b, ']');
    return buf_steal(&b);
}

START_TEST(depth_limit)
{
    char *ok = nested(64), *deep = nested(65);
    ydoc_error_t err;
    ynode_t *n = ydoc_parse(ok, strlen(ok), NULL, &err);
    ck_assert_msg(n != NULL, "%s", err.msg);
    ydoc_free(n);

    n = ydoc_parse(deep, strlen(deep), NULL, &err);
    ck_assert_ptr_null(n);
    ck_assert_ptr_nonnull(strstr(err.msg, "deeper than 64"));
    ck_assert_uint_eq(err.line, 1);
    ck_assert_uint_eq(err.col, 65);

    ydoc_limits_t lim = {100, 0};
    n = ydoc_parse(deep, strlen(deep), &lim, &err);
    ck_assert_ptr_nonnull(n);
    ydoc_free(n);

    lim.max_depth = 3;
    const char *block = "a:\n  b:\n    c:\n      d: 1\n";
    n = ydoc_parse(block, strlen(block), &lim, &err);
    ck_assert_ptr_null(n);
    ck_assert_uint_eq(err.line, 4);
    ck_assert_uint_eq(err.col, 7);
    free(ok);
    free(deep);
}
END_TEST

START_TEST(node_limit)
{
    const char *doc = "[1, 2, 3, 4]"; /* 5 nodes */
    ydoc_limits_t lim = {0, 5};
    ydoc_error_t err;
    ynode_t *n = ydoc_parse(doc, strlen(doc), &lim, &err);
    ck_assert_msg(n != NULL, "%s", err.msg);
    ydoc_free(n);
    lim.max_nodes = 4;
    n = ydoc_parse(doc, strlen(doc), &lim, &err);
    ck_assert_ptr_null(n);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 4 nodes"));
    ck_assert_uint_eq(err.col, 11);

    /* the default limit: one million nodes */
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 0; i < 1000000; i++)
        buf_puts(&b, "1,");
    buf_puts(&b, "1]");
    ck_assert(!b.oom);
    n = ydoc_parse(b.data, b.len, NULL, &err);
    ck_assert_ptr_null(n);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 1000000 nodes"));
    buf_free(&b);
}
END_TEST

START_TEST(multiple_documents_rejected)
{
    const char *doc = "a: 1\n---\nb: 2\n";
    ydoc_error_t err;
    ynode_t *n = ydoc_parse(doc, strlen(doc), NULL, &err);
    ck_assert_ptr_null(n);
    ck_assert_uint_eq(err.line, 2);
    ck_assert_uint_eq(err.col, 1);
    ck_assert_ptr_nonnull(strstr(err.msg, "second YAML document"));

    /* an explicit start and end of one document is fine */
    n = parse_ok("---\na: 1\n...\n");
    ck_assert_str_eq(ydoc_get(n, "a")->str, "1");
    ydoc_free(n);
}
END_TEST

START_TEST(syntax_errors_have_positions)
{
    const char *doc = "a: 1\nb: [1, 2\nc: 3\n";
    ydoc_error_t err;
    ynode_t *n = ydoc_parse(doc, strlen(doc), NULL, &err);
    ck_assert_ptr_null(n);
    ck_assert_uint_gt(err.line, 1);
    ck_assert_uint_gt(err.col, 0);
    ck_assert(err.msg[0] != '\0');

    const char *bad_indent = "a:\n  b: 1\n c: 2\n";
    n = ydoc_parse(bad_indent, strlen(bad_indent), NULL, &err);
    ck_assert_ptr_null(n);
    ck_assert_uint_eq(err.line, 3);

    const char *undefined_alias = "a: *nothing\n";
    n = ydoc_parse(undefined_alias, strlen(undefined_alias), NULL, &err);
    /* libyaml's parser does not resolve aliases: the leaf stays */
    if (n) {
        ck_assert_int_eq(ydoc_get(n, "a")->kind, YNODE_ALIAS);
        ydoc_free(n);
    }

    const char bin[] = "a: \xff\xfe\n";
    n = ydoc_parse(bin, sizeof bin - 1, NULL, &err);
    ck_assert_ptr_null(n);
    ck_assert(err.msg[0] != '\0');
}
END_TEST

static void expect_json(const char *yaml, const char *json)
{
    ynode_t *n = parse_ok(yaml);
    ydoc_error_t err;
    cJSON *j = ydoc_to_json(n, &err);
    ck_assert_msg(j != NULL, "%s: %s", yaml, err.msg);
    char *s = cJSON_PrintUnformatted(j);
    ck_assert_msg(strcmp(s, json) == 0, "%s: expected %s, got %s", yaml, json, s);
    free(s);
    cJSON_Delete(j);
    ydoc_free(n);
}

START_TEST(to_json_typing)
{
    expect_json("a: null", "{\"a\":null}");
    expect_json("a: ~", "{\"a\":null}");
    expect_json("a:", "{\"a\":null}");
    expect_json("a: Null", "{\"a\":null}");
    expect_json("a: 'null'", "{\"a\":\"null\"}");
    expect_json("[true, True, TRUE, false, False, FALSE]", "[true,true,true,false,false,false]");
    expect_json("[yes, no, on, off, y, n, tRUE]",
                "[\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\",\"tRUE\"]");
    expect_json("[\"true\", 'false']", "[\"true\",\"false\"]");
    expect_json("[0, 1, -5, +7, 42]", "[0,1,-5,7,42]");
    expect_json("[0x1F, 0o17]", "[31,15]");
    expect_json("[0755, -012]", "[\"0755\",\"-012\"]");
    expect_json(
        "[999999999999999, -999999999999999, 1000000000000000, 123456789012345678901]",
        "[999999999999999,-999999999999999,\"1000000000000000\",\"123456789012345678901\"]");
    expect_json("[1.5, -0.25, .5, 1e3, 2.5E-1]", "[1.5,-0.25,0.5,1000,0.25]");
    expect_json("[.inf, -.inf, .nan, 1e999]", "[\".inf\",\"-.inf\",\".nan\",\"1e999\"]");
    expect_json("[1_000, 1:30, 0x, 1e, '1']", "[\"1_000\",\"1:30\",\"0x\",\"1e\",\"1\"]");
    expect_json("[!!str 123, ! true, !!int 5]", "[\"123\",\"true\",5]");
    expect_json("{1: a, true: b}", "{\"1\":\"a\",\"true\":\"b\"}");
    expect_json("{k: 1, k: 2}", "{\"k\":2}");
    expect_json("a: |\n  two\n  lines\n", "{\"a\":\"two\\nlines\\n\"}");
    expect_json("a: &x 5", "{\"a\":5}");
}
END_TEST

START_TEST(to_json_rejects_complex_keys)
{
    ynode_t *n = parse_ok("? [a, b]\n: v\n");
    ydoc_error_t err;
    ck_assert_ptr_null(ydoc_to_json(n, &err));
    ck_assert_uint_eq(err.line, 1);
    ck_assert_uint_eq(err.col, 3);
    ck_assert_ptr_nonnull(strstr(err.msg, "keys must be scalars"));
    ydoc_free(n);

    n = parse_ok("k: &k key\n*k : v\n");
    ck_assert_ptr_null(ydoc_to_json(n, &err));
    ck_assert_uint_eq(err.line, 2);
    ck_assert_uint_eq(err.col, 1);
    ydoc_free(n);
}
END_TEST

START_TEST(scalar_kind_values)
{
    ynode_t *n = parse_ok("[0x10, 2.5, false, x, '7']");
    long long i = 0;
    double d = 0;
    bool b = true;
    ck_assert_int_eq(ydoc_scalar_kind(n->items[0], NULL, &i, &d), YSCALAR_INT);
    ck_assert_int_eq(i, 16);
    ck_assert(fabs(d - 16.0) < 1e-9);
    ck_assert_int_eq(ydoc_scalar_kind(n->items[1], NULL, NULL, &d), YSCALAR_FLOAT);
    ck_assert(fabs(d - 2.5) < 1e-9);
    ck_assert_int_eq(ydoc_scalar_kind(n->items[2], &b, NULL, NULL), YSCALAR_BOOL);
    ck_assert(!b);
    ck_assert_int_eq(ydoc_scalar_kind(n->items[3], NULL, NULL, NULL), YSCALAR_STR);
    ck_assert_int_eq(ydoc_scalar_kind(n->items[4], NULL, NULL, NULL), YSCALAR_STR);
    ck_assert_int_eq(ydoc_scalar_kind(n, NULL, NULL, NULL), YSCALAR_STR);
    ydoc_free(n);
}
END_TEST

START_TEST(unterminated_input_never_crashes)
{
    /* every prefix of a document either parses or fails cleanly */
    const char *doc = "a: &x {b: [1, \"two\", 'three'], c: *x}\nd: |\n  text\ne: !!str 5\n";
    size_t len = strlen(doc);
    for (size_t i = 0; i <= len; i++) {
        ydoc_error_t err;
        ynode_t *n = ydoc_parse(doc, i, NULL, &err);
        if (n) {
            cJSON *j = ydoc_to_json(n, &err);
            cJSON_Delete(j);
            ydoc_free(n);
        } else {
            ck_assert(err.msg[0] != '\0');
        }
    }
}
END_TEST

START_TEST(json_or_yaml_input)
{
    char why[200] = "";
    const char *json = " \n{\"kind\": \"Pod\", \"n\": 3.10}";
    cJSON *v = ydoc_read_json_or_yaml(json, strlen(json), why, sizeof why);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(cJSON_GetObjectItem(v, "kind")->valuestring, "Pod");
    cJSON_Delete(v);
    const char *yaml = "kind: Pod\nversion: \"3.10\"\n";
    v = ydoc_read_json_or_yaml(yaml, strlen(yaml), why, sizeof why);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(cJSON_GetObjectItem(v, "version")->valuestring, "3.10");
    cJSON_Delete(v);
    v = ydoc_read_json_or_yaml("[1, 2]", 6, why, sizeof why);
    ck_assert(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2);
    cJSON_Delete(v);
    ck_assert_ptr_null(ydoc_read_json_or_yaml("{\"kind\": ", 9, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "not valid JSON (near byte "));
    ck_assert_ptr_null(ydoc_read_json_or_yaml("a: [\n", 5, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "line 2, column 1: "));
}
END_TEST

Suite *suite_yamldoc(void)
{
    Suite *s = suite_create("yamldoc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, positions_of_keys_and_values);
    tcase_add_test(tc, get_last_key_wins_and_non_map);
    tcase_add_test(tc, empty_documents_are_empty_maps);
    tcase_add_test(tc, alias_is_a_leaf);
    tcase_add_test(tc, billion_laughs_is_not_expanded);
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, node_limit);
    tcase_add_test(tc, multiple_documents_rejected);
    tcase_add_test(tc, syntax_errors_have_positions);
    tcase_add_test(tc, to_json_typing);
    tcase_add_test(tc, to_json_rejects_complex_keys);
    tcase_add_test(tc, scalar_kind_values);
    tcase_add_test(tc, unterminated_input_never_crashes);
    tcase_add_test(tc, json_or_yaml_input);
    suite_add_tcase(s, tc);
    return s;
}
