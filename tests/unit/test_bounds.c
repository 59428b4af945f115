/* Unit tests: what one pod may ask of the webhook (imageBuilder.limits and
 * the ImageSpec's own bounds), and the ImageSpec handed on exactly: the
 * denials past each bound name the bound and the value; a spec whose keys
 * are given twice or whose strings hold \u0000 is denied naming the key;
 * IMAGE_SPEC is the spec's text from the annotation, byte for byte; and
 * messages never carry C1 or bidi controls or line separators. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "buf.h"
#include "decide.h"
#include "imagespec.h"
#include "jsonpatch.h"
#include "testutil.h"

#define TAG "wcYy93m6tBmlCz2veV4_4w"

static const char *LOCAL = TEST_LOCAL_YAML;

/* A labelled pod with the annotation `spec` and `n` containers c0, c1, ...
 * whose images are image_fmt with the container's number (printf). */
static cJSON *pod_with(const char *spec, size_t n, const char *image_fmt)
{
    cJSON *pod = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(pod, "metadata");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "labels"), WH_LABEL_BUILDER, "union");
    if (spec)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "annotations"), WH_ANNOT_SPEC, spec);
    cJSON *cs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(pod, "spec"), "containers");
    for (size_t i = 0; i < n; i++) {
        char name[32], image[256];
        snprintf(name, sizeof name, "c%zu", i);
        snprintf(image, sizeof image, image_fmt, i);
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", name);
        cJSON_AddStringToObject(c, "image", image);
        cJSON_AddItemToArray(cs, c);
    }
    return pod;
}

static void decide_pod(const char *cfg_yaml, const cJSON *pod, decision_t *d)
{
    wh_config_t *cfg = test_config(cfg_yaml);
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    ck_assert(decide(p, pod, NULL, d));
    policy_free(p);
    config_free(cfg);
}

static void expect_denied(const char *cfg_yaml, const cJSON *pod, const char *const *parts)
{
    decision_t d;
    decide_pod(cfg_yaml, pod, &d);
    ck_assert_msg(d.outcome == OUTCOME_DENIED, "not denied (%s)", outcome_name(d.outcome));
    ck_assert_int_eq(d.code, 400);
    ck_assert_ptr_null(d.patch_json);
    ck_assert_ptr_null(d.audit_json);
    for (const char *const *p = parts; *p; p++)
        ck_assert_msg(strstr(d.message, *p), "'%s' not in: %s", *p, d.message);
    ck_assert_ptr_null(strchr(d.message, '\n'));
    decision_free(&d);
}

/* The IMAGE_SPEC values of the patched pod's build containers, in order. */
static size_t image_specs(cJSON *pod, const decision_t *d, char **out, size_t max)
{
    char err[128];
    ck_assert_msg(jsonpatch_apply_text(pod, d->patch_json, err, sizeof err), "%s", err);
    const cJSON *inits = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "initContainers"),
                *c;
    size_t n = 0;
    cJSON_ArrayForEach(c, inits)
    {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(c, "env"))
        {
            if (n < max && !strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "IMAGE_SPEC"))
                out[n++] = cJSON_GetObjectItem(e, "value")->valuestring;
        }
    }
    return n;
}

START_TEST(containers_past_the_limit)
{
    cJSON *pod = pod_with("{\"name\":\"img\",\"builder\":\"union\"}", 129, "img:t%zu");
    expect_denied(LOCAL, pod,
                  (const char *[]){"129 containers and init containers", "at most 128",
                                   "imageBuilder.limits.maxContainersPerPod", NULL});
    cJSON_Delete(pod);
    /* init containers count too */
    pod = pod_with("{\"name\":\"img\",\"builder\":\"union\"}", 2, "img:" TAG);
    cJSON *inits = cJSON_AddArrayToObject(cJSON_GetObjectItem(pod, "spec"), "initContainers");
    cJSON *ic = cJSON_CreateObject();
    cJSON_AddStringToObject(ic, "name", "i");
    cJSON_AddItemToArray(inits, ic);
    expect_denied("imageBuilder:\n  defaultRepository: localhost:5000/union\n  limits:\n"
                  "    maxContainersPerPod: 2\n",
                  pod, (const char *[]){"3 containers", "at most 2", NULL});
    cJSON_Delete(pod);
    /* an unlabelled pod is never looked at */
    pod = pod_with(NULL, 1000, "x:%zu");
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(pod, "metadata"), "labels");
    decision_t d;
    decide_pod(LOCAL, pod, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_ALLOWED);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(builds_past_the_limit)
{
    /* 9 distinct tags of the spec's image: 9 images to build */
    cJSON *pod = pod_with("{\"name\":\"img\",\"builder\":\"union\"}", 9, "img:t%zu");
    expect_denied(LOCAL, pod,
                  (const char *[]){"9 distinct images built from ImageSpecs", "at most 8",
                                   "imageBuilder.limits.maxBuildsPerPod", NULL});
    cJSON_Delete(pod);
    /* 128 containers sharing 8 tags: 8 builds, one per distinct target */
    pod = pod_with("{\"name\":\"img\",\"builder\":\"union\"}", 128, "img:t%zu");
    cJSON *c;
    size_t i = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers"))
    {
        char image[32];
        snprintf(image, sizeof image, "img:t%zu", i++ % 8);
        cJSON_ReplaceItemInObject(c, "image", cJSON_CreateString(image));
    }
    decision_t d;
    decide_pod(LOCAL, pod, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_uint_eq(d.n_targets, 128);
    char *specs[16];
    ck_assert_uint_eq(image_specs(pod, &d, specs, 16), 8);
    const cJSON *inits = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "initContainers");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(inits, 0), "name")->valuestring,
                     "build-image");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(inits, 7), "name")->valuestring,
                     "build-image-8");
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

/* A spec of about `size` bytes (a long packages list). */
static char *big_spec(size_t size)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"name\":\"img\",\"builder\":\"union\",\"packages\":[");
    for (size_t i = 0; b.len < size - 32; i++)
        buf_printf(&b, "%s\"package-%zu==1.0\"", i ? "," : "", i);
    buf_puts(&b, "]}");
    return buf_steal(&b);
}

START_TEST(patch_past_the_limit)
{
    /* 200 KiB spec, 6 tags: each build carries it, about 1.4 MiB in all */
    char *spec = big_spec(200 * 1024);
    cJSON *pod = pod_with(spec, 6, "img:t%zu");
    expect_denied(
        LOCAL, pod,
        (const char *[]){"more than 1048576 bytes", "imageBuilder.limits.maxPatchBytes", NULL});
    /* a larger limit lets it through */
    decision_t d;
    decide_pod("imageBuilder:\n  defaultRepository: localhost:5000/union\n  limits:\n"
               "    maxPatchBytes: 4194304\n",
               pod, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_uint_gt(strlen(d.patch_json), 6 * 200 * 1024);
    decision_free(&d);
    cJSON_Delete(pod);
    free(spec);
}
END_TEST

START_TEST(annotation_past_the_limit)
{
    char *spec = big_spec(IMAGESPEC_MAX_BYTES + 100);
    ck_assert_uint_gt(strlen(spec), IMAGESPEC_MAX_BYTES);
    cJSON *pod = pod_with(spec, 1, "img:" TAG);
    char size[64];
    snprintf(size, sizeof size, "%zu bytes; at most 262144", strlen(spec));
    expect_denied(LOCAL, pod, (const char *[]){WH_ANNOT_SPEC, size, "256 KiB", NULL});
    cJSON_Delete(pod);
    free(spec);
    /* just under: read */
    spec = big_spec(IMAGESPEC_MAX_BYTES - 64);
    pod = pod_with(spec, 1, "img:" TAG);
    decision_t d;
    decide_pod(LOCAL, pod, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    decision_free(&d);
    cJSON_Delete(pod);
    free(spec);
}
END_TEST

START_TEST(keys_twice_and_nul_are_denied)
{
    static const struct {
        const char *spec, *part;
    } bad[] = {
        /* the webhook would read the first registry, Python and Go the last */
        {"{\"name\":\"img\",\"builder\":\"union\",\"registry\":\"123456789012.dkr.ecr.us-east-2."
         "amazonaws.com/x\",\"registry\":\"ghcr.io/acme\"}",
         "key \"registry\" is given twice in one object (at registry)"},
        {"{\"name\":\"img\",\"builder\":\"union\",\"builder_options\":{\"imagepull_secret_name\":"
         "\"a\",\"imagepull_secret_name\":\"b\"}}",
         "(at builder_options.imagepull_secret_name)"},
        {"[{\"name\":\"other\",\"builder\":\"envd\"},{\"name\":\"img\",\"builder\":\"union\","
         "\"env\":{\"A\":\"1\",\"\\u0041\":\"2\"}}]",
         "key \"\\u0041\" is given twice in one object (at [1].env.\\u0041)"},
        {"{\"name\":\"img\\u0000x\",\"builder\":\"union\"}", "holds \\u0000 (at name)"},
        {"{\"name\":\"img\",\"builder\":\"union\",\"packages\":[\"a\",\"b\\u0000\"]}",
         "(at packages[1])"},
        /* what cJSON reads and RFC 8259 does not allow */
        {"{\"name\":\"img\",\"builder\":\"union\",\"python_version\":03.1}", "not valid JSON"},
        {"{\"name\":\"img\",\"builder\":\"union\",\"x\":\"\\ud800\"}", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *pod = pod_with(bad[i].spec, 1, "img:" TAG);
        expect_denied(LOCAL, pod, (const char *[]){WH_ANNOT_SPEC, bad[i].part, NULL});
        cJSON_Delete(pod);
    }
}
END_TEST

START_TEST(image_spec_is_the_annotation_text)
{
    /* blanks, 3.10, a large integer, 1e999 and escapes, as written */
    const char *a = "{ \"name\" : \"img\", \"builder\": \"union\",\n  \"python_version\": 3.10, "
                    "\"n\": 12345678901234567890123, \"big\": 1e999, \"s\": \"\\u00e9\\/\\\"\" }";
    const char *b = "{\"name\":\"two\",\"builder\":\"unionai\",\"packages\":[\"x==1\"]}";
    char *ann = malloc(strlen(a) + strlen(b) + 16);
    ck_assert_ptr_nonnull(ann);
    sprintf(ann, "[ %s ,\n\t%s ]", a, b);
    cJSON *pod = pod_with(ann, 3, "img:t%zu");
    cJSON *cs = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers");
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cs, 1), "image", cJSON_CreateString("two:" TAG));
    decision_t d;
    decide_pod(LOCAL, pod, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    char *specs[4];
    ck_assert_uint_eq(image_specs(pod, &d, specs, 4), 3);
    ck_assert_str_eq(specs[0], a);
    ck_assert_str_eq(specs[1], b);
    ck_assert_str_eq(specs[2], a);
    decision_free(&d);
    cJSON_Delete(pod);
    free(ann);
}
END_TEST

START_TEST(review_with_too_many_values)
{
    /* 3 MiB of "[0,0,...]" would be 1.5 million tree nodes */
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
                 "\"request\":{\"uid\":\"u\",\"x\":[0");
    for (size_t i = 0; i < ADMISSION_MAX_VALUES; i++)
        buf_puts(&b, ",0");
    buf_puts(&b, "]}}");
    review_t rv;
    char why[256];
    ck_assert(!admission_parse(b.data, b.len, &rv, why, sizeof why));
    ck_assert_msg(strstr(why, "at most 262144"), "%s", why);
    /* a few values fewer: read */
    b.len -= 2 * 8 + 3;
    buf_puts(&b, "]}}");
    ck_assert_msg(admission_parse(b.data, b.len, &rv, why, sizeof why), "%s", why);
    review_free(&rv);
    buf_free(&b);
}
END_TEST

/* No control character (C0, DEL, C1), bidi control or line separator. */
static void assert_clean(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, n = strlen(s); i < n;) {
        size_t k = utf8_seq_len(u + i, n - i);
        ck_assert_msg(k > 0 && u[i] >= 0x20 && u[i] != 0x7f && !utf8_unsafe(u + i, k),
                      "unsafe text at byte %zu of: %s", i, s);
        i += k;
    }
}

START_TEST(messages_carry_no_c1_bidi_or_separators)
{
    static const char *const evil = "x\xc2\x85y\xc2\x9bz\xe2\x80\xae\xe2\x81\xa6\xe2\x80\xa8"
                                    "\xe2\x80\xa9\xe2\x80\x8f\xd8\x9cw";
    char spec[512];
    /* a warning: the image pull secret's name is quoted */
    snprintf(spec, sizeof spec,
             "{\"name\":\"img\",\"builder\":\"union\",\"registry\":\"ghcr.io/acme\","
             "\"builder_options\":{\"imagepull_secret_name\":\"%s\"}}",
             evil);
    cJSON *pod = pod_with(spec, 1, "img:" TAG);
    decision_t d;
    decide_pod("imageBuilder:\n  defaultRepository: 123456789012.dkr.ecr.us-east-2.amazonaws.com/"
               "union\n  authenticationType: aws\n",
               pod, &d);
    ck_assert_uint_ge(d.n_warnings, 1);
    ck_assert_msg(strstr(d.warnings[0], "x y z"), "%s", d.warnings[0]);
    for (size_t i = 0; i < d.n_warnings; i++)
        assert_clean(d.warnings[i]);
    decision_free(&d);
    cJSON_Delete(pod);
    /* denials: a container name, a registry */
    pod = pod_with("{\"name\":\"img\",\"builder\":\"union\"}", 1, "img");
    cJSON *c =
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers"), 0);
    cJSON_ReplaceItemInObject(c, "name", cJSON_CreateString(evil));
    decide_pod(LOCAL, pod, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_DENIED);
    ck_assert_msg(strstr(d.message, "x y z"), "%s", d.message);
    assert_clean(d.message);
    decision_free(&d);
    cJSON_Delete(pod);
    snprintf(spec, sizeof spec, "{\"name\":\"img\",\"builder\":\"union\",\"registry\":\"%s\"}",
             evil);
    pod = pod_with(spec, 1, "img:" TAG);
    decide_pod(LOCAL, pod, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_DENIED);
    assert_clean(d.message);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

Suite *suite_bounds(void)
{
    Suite *s = suite_create("bounds");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, containers_past_the_limit);
    tcase_add_test(tc, builds_past_the_limit);
    tcase_add_test(tc, patch_past_the_limit);
    tcase_add_test(tc, annotation_past_the_limit);
    tcase_add_test(tc, keys_twice_and_nul_are_denied);
    tcase_add_test(tc, image_spec_is_the_annotation_text);
    tcase_add_test(tc, review_with_too_many_values);
    tcase_add_test(tc, messages_carry_no_c1_bidi_or_separators);
    suite_add_tcase(s, tc);
    return s;
}
