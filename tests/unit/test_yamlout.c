/* Unit tests: JSON written as YAML (yamlout.c), including JSON text
 * spliced in as raw items, as the injected build container is. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "yamlout.h"

START_TEST(raw_items_are_written_as_their_value)
{
    cJSON *ops = cJSON_CreateArray();
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "add");
    cJSON *value = cJSON_AddArrayToObject(op, "value");
    cJSON_AddItemToArray(value,
                         cJSON_CreateRaw("{\"name\":\"build-image\",\"args\":[\"a\",\"true\"]}"));
    cJSON_AddItemToArray(ops, op);
    buf_t out = BUF_INIT;
    ck_assert(yamlout_write(ops, &out));
    ck_assert_str_eq(out.data, "- op: add\n"
                               "  value:\n"
                               "  - name: build-image\n"
                               "    args:\n"
                               "    - a\n"
                               "    - \"true\"\n");
    buf_free(&out);
    cJSON_Delete(ops);
}
END_TEST

START_TEST(invalid_raw_text_fails)
{
    cJSON *raw = cJSON_CreateRaw("{not json");
    buf_t out = BUF_INIT;
    ck_assert(!yamlout_write(raw, &out));
    buf_free(&out);
    cJSON_Delete(raw);
}
END_TEST

Suite *suite_yamlout(void)
{
    Suite *s = suite_create("yamlout");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, raw_items_are_written_as_their_value);
    tcase_add_test(tc, invalid_raw_text_fails);
    suite_add_tcase(s, tc);
    return s;
}
