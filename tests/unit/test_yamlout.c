/* Tests for yamlout: JSON values as block YAML, strings another type would
 * be read as quoted, and raw nodes (the injected objects of a patch)
 * written as the values they hold, exactly like their parsed form. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "inject.h"
#include "yamlout.h"

static char *yaml_of(const cJSON *v)
{
    buf_t b = BUF_INIT;
    ck_assert(yamlout_write(v, &b));
    char *s = buf_steal(&b);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(values_as_block_yaml)
{
    cJSON *v = cJSON_Parse("{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":true,\"d\":null},"
                           "\"q\":[\"true\",\"8443\",\"\",\"no\"]}");
    ck_assert_ptr_nonnull(v);
    char *s = yaml_of(v);
    ck_assert_str_eq(s, "a:\n- 1\n- 2.5\n- x\nb:\n  c: true\n  d: null\nq:\n- \"true\"\n"
                        "- \"8443\"\n- \"\"\n- \"no\"\n");
    free(s);
    cJSON_Delete(v);
}
END_TEST

START_TEST(raw_nodes_written_as_their_value)
{
    const char *text = "{\"name\":\"v\",\"projected\":{\"sources\":[{\"path\":\"token\"}]}}";
    cJSON *with_raw = cJSON_CreateArray();
    cJSON_AddItemToArray(with_raw, cJSON_CreateRaw(text));
    cJSON *parsed = cJSON_CreateArray();
    cJSON_AddItemToArray(parsed, cJSON_Parse(text));
    char *a = yaml_of(with_raw), *b = yaml_of(parsed);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_null(strstr(a, "null"));
    free(a);
    free(b);
    cJSON_Delete(with_raw);
    cJSON_Delete(parsed);
    /* a raw node that is not JSON is an error, not a silent null */
    cJSON *broken = cJSON_CreateRaw("{not json");
    buf_t out = BUF_INIT;
    ck_assert(!yamlout_write(broken, &out));
    buf_free(&out);
    cJSON_Delete(broken);
}
END_TEST

/* What review --explain prints for a patch adding the build container. */
START_TEST(injected_container_and_volumes)
{
    wh_config_t *c = config_defaults();
    ck_assert_ptr_nonnull(c);
    inject_t *inj = inject_prepare(&c->policy);
    ck_assert_ptr_nonnull(inj);
    const char *spec = "{\"name\":\"img\"}";
    buf_t container = BUF_INIT, vols = BUF_INIT;
    ck_assert(inject_container(inj, &container, "build-image", spec, strlen(spec), "r/x:1", NULL));
    ck_assert(buf_printf(&vols, "[%s,%s]", inject_volume(inj, 0), inject_volume(inj, 1)));
    cJSON *patch = cJSON_CreateObject();
    cJSON_AddItemToObject(patch, "container", cJSON_CreateRaw(container.data));
    cJSON_AddItemToObject(patch, "volumes", cJSON_CreateRaw(vols.data));
    buf_free(&container);
    buf_free(&vols);
    char *s = yaml_of(patch);
    ck_assert_ptr_null(strstr(s, "null"));
    ck_assert_ptr_nonnull(strstr(s, "container:\n  name: build-image\n"));
    ck_assert_ptr_nonnull(strstr(s, "  securityContext:\n    runAsNonRoot: true\n"));
    ck_assert_ptr_nonnull(strstr(s, "- name: TARGET_IMAGE\n    value: r/x:1\n"));
    ck_assert_ptr_nonnull(strstr(s, "volumes:\n- name: imagebuilder-registry-token\n"));
    free(s);
    cJSON_Delete(patch);
    inject_free(inj);
    config_free(c);
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
    tcase_add_test(tc, values_as_block_yaml);
    tcase_add_test(tc, raw_nodes_written_as_their_value);
    tcase_add_test(tc, injected_container_and_volumes);
    tcase_add_test(tc, invalid_raw_text_fails);
    suite_add_tcase(s, tc);
    return s;
}
