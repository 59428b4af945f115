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
    cJSON *ops = cJSON_CreateArray();
    const char *t[] = {"metadata", "annotations", "a/b", NULL};
    ck_assert(jsonpatch_append(ops, "add", cJSON_CreateString("v"), t));
    const char *r[] = {"spec", "volumes", "0", NULL};
    ck_assert(jsonpatch_append(ops, "remove", NULL, r));
    char *s = cJSON_PrintUnformatted(ops);
    ck_assert_str_eq(s, "[{\"op\":\"add\",\"path\":\"/metadata/annotations/a~1b\",\"value\":\"v\"},"
                        "{\"op\":\"remove\",\"path\":\"/spec/volumes/0\"}]");
    free(s);
    cJSON_Delete(ops);
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
    tcase_add_test(tc, apply_add_replace_remove);
    tcase_add_test(tc, apply_inserts_anywhere_in_an_array);
    tcase_add_test(tc, apply_never_creates_parents);
    tcase_add_test(tc, apply_rejects_bad_index_and_op);
    suite_add_tcase(s, tc);
    return s;
}
