/* Unit tests: JSON Patch building (escaping) and applying. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpatch.h"

START_TEST(escapes_tilde_and_slash)
{
    buf_t b = BUF_INIT;
    ck_assert(jsonpatch_put_token(&b, "metadata"));
    ck_assert(jsonpatch_put_token(&b, "imagebuilder.union.ai/image~spec"));
    ck_assert_str_eq(b.data, "/metadata/imagebuilder.union.ai~1image~0spec");
    buf_free(&b);
}
END_TEST

START_TEST(append_builds_op_objects)
{
    jsonpatch_t ops = JSONPATCH_INIT;
    const char *t[] = {"metadata", "annotations", "a/b", NULL};
    ck_assert(jsonpatch_op_string(&ops, "add", t, "v"));
    const char *r[] = {"spec", "volumes", "0", NULL};
    ck_assert(jsonpatch_op(&ops, "remove", r, NULL, 0));
    ck_assert_uint_eq(ops.n_ops, 2);
    size_t len = 0;
    char *s = jsonpatch_finish(&ops, &len, NULL);
    ck_assert_str_eq(s, "[{\"op\":\"add\",\"path\":\"/metadata/annotations/a~1b\",\"value\":\"v\"},"
                        "{\"op\":\"remove\",\"path\":\"/spec/volumes/0\"}]");
    ck_assert_uint_eq(len, strlen(s));
    free(s);
}
END_TEST

/* The written ops are what cJSON prints for the same tree: raw values
 * spliced as they are, and paths and strings with every character that
 * needs it escaped (pointer escapes first, then JSON's). */
START_TEST(written_ops_match_cjson)
{
    const char *tokens[][5] = {
        {"metadata", "annotations", "x/y~z\"q\\\n\x01", NULL},
        {"spec", "containers", "12", "image", NULL},
        {"a~/b", "-", NULL},
        {"\xc3\xa9\x7f", NULL},
    };
    const char *values[] = {"tab\there \"quoted\" \\ \x1f", "r.io/x:1", NULL, ""};
    jsonpatch_t ops = JSONPATCH_INIT;
    cJSON *tree = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        buf_t path = BUF_INIT;
        for (size_t k = 0; tokens[i][k]; k++)
            ck_assert(jsonpatch_put_token(&path, tokens[i][k]));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "op", values[i] ? "add" : "remove");
        cJSON_AddStringToObject(o, "path", path.data);
        if (values[i]) {
            cJSON_AddStringToObject(o, "value", values[i]);
            ck_assert(jsonpatch_op_string(&ops, "add", tokens[i], values[i]));
        } else {
            ck_assert(jsonpatch_op(&ops, "remove", tokens[i], NULL, 0));
        }
        cJSON_AddItemToArray(tree, o);
        buf_free(&path);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", "add");
    cJSON_AddStringToObject(o, "path", "/spec/volumes");
    cJSON_AddRawToObject(o, "value", "[{\"name\":\"v\"}]");
    cJSON_AddItemToArray(tree, o);
    const char *t[] = {"spec", "volumes", NULL};
    ck_assert(jsonpatch_begin(&ops, "add", t, true));
    ck_assert(buf_puts(&ops.text, "[{\"name\":\"v\"}]"));
    ck_assert(jsonpatch_end(&ops));
    char *want = cJSON_PrintUnformatted(tree);
    size_t len;
    char *got = jsonpatch_finish(&ops, &len, NULL);
    ck_assert_str_eq(got, want);
    free(got);
    cJSON_free(want);
    cJSON_Delete(tree);
}
END_TEST

/* With base64 on, the patch comes with the base64 of its text, constants
 * spliced wherever they fall. */
START_TEST(base64_made_with_the_text)
{
    base64_const_t *c[3] = {base64_const_new("{\"k\":1}", 7), base64_const_new("[]", 2),
                            base64_const_new("\"x\"", 3)};
    for (size_t shift = 0; shift < 6; shift++) {
        jsonpatch_t ops = JSONPATCH_INIT;
        ops.base64 = true;
        char name[8] = "abcdef";
        name[shift] = '\0';
        for (size_t i = 0; i < 5; i++) {
            const char *t[] = {"metadata", name, NULL};
            ck_assert(jsonpatch_begin(&ops, "add", t, true));
            ck_assert(jsonpatch_put_const(&ops, c[i % 3]));
            ck_assert(jsonpatch_end(&ops));
        }
        size_t len;
        char *b64 = NULL, *text = jsonpatch_finish(&ops, &len, &b64);
        ck_assert_ptr_nonnull(text);
        ck_assert_ptr_nonnull(b64);
        char *want = base64_encode(text, len);
        ck_assert_str_eq(b64, want);
        free(want);
        free(b64);
        free(text);
    }
    for (size_t i = 0; i < 3; i++)
        base64_const_free(c[i]);
}
END_TEST

START_TEST(no_ops_is_an_empty_array)
{
    jsonpatch_t ops = JSONPATCH_INIT;
    size_t len;
    char *s = jsonpatch_finish(&ops, &len, NULL);
    ck_assert_str_eq(s, "[]");
    free(s);
}
END_TEST

START_TEST(apply_text_reads_the_patch)
{
    cJSON *doc = cJSON_Parse("{\"a\":{}}");
    char why[128];
    ck_assert(jsonpatch_apply_text(doc, "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", why,
                                   sizeof why));
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "a"), "b")->valueint, 1);
    ck_assert(!jsonpatch_apply_text(doc, "[{", why, sizeof why));
    ck_assert_str_eq(why, "patch is not JSON text");
    cJSON_Delete(doc);
}
END_TEST

static char *apply(const char *doc, const char *patch, bool *ok, char *why, size_t whysz)
{
    cJSON *d = cJSON_Parse(doc), *p = cJSON_Parse(patch);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(p);
    *ok = jsonpatch_apply(d, p, why, whysz);
    char *s = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    cJSON_Delete(p);
    return s;
}

START_TEST(apply_add_replace_remove)
{
    bool ok;
    char why[128];
    char *s = apply("{\"a\":{\"x~y\":1},\"l\":[1,2]}",
                    "[{\"op\":\"add\",\"path\":\"/a/k~1v\",\"value\":true},"
                    "{\"op\":\"replace\",\"path\":\"/a/x~0y\",\"value\":2},"
                    "{\"op\":\"add\",\"path\":\"/l/0\",\"value\":0},"
                    "{\"op\":\"add\",\"path\":\"/l/-\",\"value\":3},"
                    "{\"op\":\"remove\",\"path\":\"/l/1\"}]",
                    &ok, why, sizeof why);
    ck_assert_msg(ok, "%s", why);
    ck_assert_str_eq(s, "{\"a\":{\"x~y\":2,\"k/v\":true},\"l\":[0,2,3]}");
    free(s);
}
END_TEST

START_TEST(apply_inserts_anywhere_in_an_array)
{
    bool ok;
    char why[128] = "";
    char *s = apply("{\"l\":[10,20,30]}",
                    "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":15},"
                    "{\"op\":\"add\",\"path\":\"/l/0\",\"value\":5},"
                    "{\"op\":\"add\",\"path\":\"/l/1\",\"value\":7},"
                    "{\"op\":\"add\",\"path\":\"/l/5\",\"value\":25},"
                    "{\"op\":\"add\",\"path\":\"/l/7\",\"value\":35}]",
                    &ok, why, sizeof why);
    ck_assert_msg(ok, "%s", why);
    ck_assert_str_eq(s, "{\"l\":[5,7,10,15,20,25,30,35]}");
    free(s);
}
END_TEST

START_TEST(apply_never_creates_parents)
{
    bool ok;
    char why[128] = "";
    char *s = apply("{\"metadata\":{}}",
                    "[{\"op\":\"add\",\"path\":\"/metadata/annotations/k\",\"value\":\"v\"}]", &ok,
                    why, sizeof why);
    ck_assert(!ok);
    ck_assert_ptr_nonnull(strstr(why, "missing parent"));
    free(s);
}
END_TEST

START_TEST(apply_rejects_bad_index_and_op)
{
    bool ok;
    char why[128];
    char *s = apply("{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/5\",\"value\":0}]", &ok, why,
                    sizeof why);
    ck_assert(!ok);
    free(s);
    s = apply("{\"l\":[1]}", "[{\"op\":\"move\",\"path\":\"/l/0\"}]", &ok, why, sizeof why);
    ck_assert(!ok);
    ck_assert_ptr_nonnull(strstr(why, "unsupported"));
    free(s);
    s = apply("{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/nope\"}]", &ok, why, sizeof why);
    ck_assert(!ok);
    free(s);
}
END_TEST

Suite *suite_jsonpatch(void)
{
    Suite *s = suite_create("jsonpatch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, escapes_tilde_and_slash);
    tcase_add_test(tc, append_builds_op_objects);
    tcase_add_test(tc, written_ops_match_cjson);
    tcase_add_test(tc, no_ops_is_an_empty_array);
    tcase_add_test(tc, base64_made_with_the_text);
    tcase_add_test(tc, apply_text_reads_the_patch);
    tcase_add_test(tc, apply_add_replace_remove);
    tcase_add_test(tc, apply_inserts_anywhere_in_an_array);
    tcase_add_test(tc, apply_never_creates_parents);
    tcase_add_test(tc, apply_rejects_bad_index_and_op);
    suite_add_tcase(s, tc);
    return s;
}
