/* Unit tests: an ImageSpec turned into the label and annotation to paste
 * (specannot.c): the YAML snippet reads back, through the webhook's own
 * reader, as the label and the very spec given; the Python dict holds the
 * same JSON; invalid specs are refused with the reason. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "imagespec.h"
#include "specannot.h"
#include "yamldoc.h"

static char *render(const char *in, unsigned parts)
{
    buf_t out = BUF_INIT;
    char why[512] = "";
    ck_assert_msg(specannot_render(in, strlen(in), parts, &out, why, sizeof why), "%s", why);
    return buf_steal(&out);
}

static void refused(const char *in, const char *reason)
{
    buf_t out = BUF_INIT;
    char why[512] = "";
    ck_assert(!specannot_render(in, strlen(in), SPECANNOT_YAML, &out, why, sizeof why));
    ck_assert_msg(strstr(why, reason) != NULL, "reason \"%s\", wanted \"%s\"", why, reason);
    buf_free(&out);
}

/* The annotation of a rendered YAML snippet, as JSON. */
static cJSON *annotation_of(const char *yaml)
{
    ydoc_error_t err = {0};
    ynode_t *doc = ydoc_parse(yaml, strlen(yaml), NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    cJSON *j = ydoc_to_json(doc, &err);
    ydoc_free(doc);
    ck_assert_ptr_nonnull(j);
    const cJSON *meta = cJSON_GetObjectItem(j, "metadata");
    const cJSON *labels = cJSON_GetObjectItem(meta, "labels");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(labels, WH_LABEL_BUILDER)), "union");
    const char *ann = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "annotations"), WH_ANNOT_SPEC));
    ck_assert_ptr_nonnull(ann);
    imagespec_list_t specs;
    char why[256];
    ck_assert_msg(imagespec_parse(ann, strlen(ann), &specs, why, sizeof why), "%s", why);
    imagespec_list_free(&specs);
    cJSON *spec = cJSON_Parse(ann);
    cJSON_Delete(j);
    return spec;
}

START_TEST(yaml_spec_to_yaml_snippet)
{
    const char *in = "# flytekit fields\n"
                     "name: say-hello-image\n"
                     "builder: union\n"
                     "python_version: \"3.11\"\n"
                     "packages: [pandas==2.2.2, 'scikit-learn>=1.5']\n"
                     "env: {GREETING: 'it''s \"quoted\"'}\n";
    char *out = render(in, SPECANNOT_YAML);
    ck_assert_ptr_nonnull(strstr(out, "# ImageSpec \"say-hello-image\": run it as "
                                      "say-hello-image:<tag> or under a logical registry"));
    ck_assert_ptr_null(strstr(out, "LABELS ="));
    cJSON *got = annotation_of(out);
    cJSON *want =
        cJSON_Parse("{\"name\":\"say-hello-image\",\"builder\":\"union\","
                    "\"python_version\":\"3.11\",\"packages\":[\"pandas==2.2.2\","
                    "\"scikit-learn>=1.5\"],\"env\":{\"GREETING\":\"it's \\\"quoted\\\"\"}}");
    ck_assert(cJSON_Compare(got, want, true));
    /* the order of the fields is kept */
    char *a = cJSON_PrintUnformatted(got), *b = cJSON_PrintUnformatted(want);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    cJSON_Delete(got);
    cJSON_Delete(want);
    free(out);
}
END_TEST

START_TEST(json_array_to_both_parts)
{
    const char *in =
        "[{\"name\":\"trainer\",\"builder\":\"union\",\"packages\":[\"torch\"]},"
        " {\"name\":\"Sidecar\",\"builder\":\"unionai\",\"registry\":\"ghcr.io/acme\"}]";
    char *out = render(in, SPECANNOT_YAML | SPECANNOT_PYTHON);
    ck_assert_ptr_nonnull(strstr(out, "# ImageSpec \"sidecar\": run it as sidecar:<tag> or "
                                      "ghcr.io/acme/sidecar:<tag>"));
    ck_assert_ptr_nonnull(
        strstr(out, "\nLABELS = {\"imagebuilder.union.ai/builder\": \"union\"}\n"));
    ck_assert_ptr_nonnull(strstr(
        out, "\nANNOTATIONS = {\"imagebuilder.union.ai/image-spec\": "
             "\"[{\\\"name\\\":\\\"trainer\\\",\\\"builder\\\":\\\"union\\\",\\\"packages\\\":"
             "[\\\"torch\\\"]},{\\\"name\\\":\\\"Sidecar\\\",\\\"builder\\\":\\\"unionai\\\","
             "\\\"registry\\\":\\\"ghcr.io/acme\\\"}]\"}\n"));
    /* the YAML part alone, up to the blank line, reads back */
    char *py = strstr(out, "\n\n");
    ck_assert_ptr_nonnull(py);
    py[1] = '\0';
    cJSON *got = annotation_of(out);
    ck_assert_int_eq(cJSON_GetArraySize(got), 2);
    cJSON_Delete(got);
    free(out);
}
END_TEST

START_TEST(python_only)
{
    char *out = render("name: x\nbuilder: union\n", SPECANNOT_PYTHON);
    ck_assert_ptr_null(strstr(out, "metadata:"));
    ck_assert_ptr_nonnull(strstr(out,
                                 "ANNOTATIONS = {\"imagebuilder.union.ai/image-spec\": "
                                 "\"{\\\"name\\\":\\\"x\\\",\\\"builder\\\":\\\"union\\\"}\"}\n"));
    free(out);
}
END_TEST

START_TEST(invalid_specs_are_refused)
{
    refused("name: x\n", "no ImageSpec has builder union");
    refused("name: x\nbuilder: envd\n", "no ImageSpec has builder union");
    refused("builder: union\n", "has no \"name\"");
    refused("name: x\nbuilder: union\nregistry: \"ghcr.io/x:latest\"\n", "registry");
    refused("name: x\nbuilder: union\npython_version: 3.10\n",
            "python_version must be a string; write it in quotes");
    refused("[]", "an empty array");
    refused("just text\n", "not an ImageSpec");
    refused("{\"name\": ", "not valid JSON");
    refused("name: [x\n", "line ");
}
END_TEST

Suite *suite_specannot(void)
{
    Suite *s = suite_create("specannot");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, yaml_spec_to_yaml_snippet);
    tcase_add_test(tc, json_array_to_both_parts);
    tcase_add_test(tc, python_only);
    tcase_add_test(tc, invalid_specs_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
