/* Unit tests: the admission decision (decide.c and its rules, rules.c),
 * the ImageSpec reader, and the convergence of every golden case: a
 * mutated pod, once patched, is allowed with no second patch. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "decide.h"
#include "imagespec.h"
#include "jsonpatch.h"
#include "rules_int.h"
#include "testutil.h"

#define TAG "wcYy93m6tBmlCz2veV4_4w"

static const char *LOCAL = TEST_LOCAL_YAML;
static const char *ECR = "imageBuilder:\n"
                         "  defaultRepository: 123456789012.dkr.ecr.us-east-2.amazonaws.com/union\n"
                         "  authenticationType: aws\n";

/* A labelled pod whose one container runs `image`, with `spec` as the annotation. */
static cJSON *make_pod(const char *spec, const char *image)
{
    cJSON *pod = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(pod, "metadata");
    cJSON_AddStringToObject(meta, "name", "p");
    cJSON *labels = cJSON_AddObjectToObject(meta, "labels");
    cJSON_AddStringToObject(labels, WH_LABEL_BUILDER, "union");
    if (spec)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "annotations"), WH_ANNOT_SPEC, spec);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", "main");
    cJSON_AddStringToObject(c, "image", image);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cJSON_AddObjectToObject(pod, "spec"), "containers"),
                         c);
    return pod;
}

static void run_decide(const char *cfg_yaml, cJSON *pod, const wh_checks_t *checks, decision_t *d)
{
    wh_config_t *cfg = test_config(cfg_yaml);
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    const decide_opts_t opts = {.reasons = true}; /* the tests read them */
    ck_assert(decide_with(p, pod, checks, &opts, d));
    policy_free(p);
    config_free(cfg);
}

static const char *target_of(const decision_t *d, const char *container)
{
    for (size_t i = 0; i < d->n_targets; i++)
        if (strcmp(d->targets[i].container, container) == 0)
            return d->targets[i].target;
    return NULL;
}

static bool has_op(const decision_t *d, const char *op, const char *path)
{
    cJSON *ops = cJSON_Parse(d->patch_json);
    ck_assert_ptr_nonnull(ops);
    const cJSON *o;
    bool found = false;
    cJSON_ArrayForEach(o, ops)
    {
        const cJSON *jo = cJSON_GetObjectItem(o, "op"), *jp = cJSON_GetObjectItem(o, "path");
        if (!strcmp(jo->valuestring, op) && !strcmp(jp->valuestring, path))
            found = true;
    }
    cJSON_Delete(ops);
    return found;
}

static bool warned(const decision_t *d, const char *needle)
{
    for (size_t i = 0; i < d->n_warnings; i++)
        if (strstr(d->warnings[i], needle))
            return true;
    return false;
}

START_TEST(path_layout_rewrites_and_injects)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    decision_t d;
    run_decide(LOCAL, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_str_eq(target_of(&d, "main"), "localhost:5000/union/hello:" TAG);
    ck_assert(d.targets[0].build);
    ck_assert(has_op(&d, "replace", "/spec/containers/0/image"));
    /* parents absent in the pod: added whole */
    ck_assert(has_op(&d, "add", "/spec/initContainers"));
    ck_assert(has_op(&d, "add", "/spec/volumes"));
    ck_assert(has_op(&d, "add", "/metadata/annotations/imagebuilder.union.ai~1mutated"));
    /* the patch applies and injects the build first */
    ck_assert(jsonpatch_apply_text(pod, d.patch_json, (char[128]){0}, 128));
    const cJSON *init = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "initContainers");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(init, 0), "name")->valuestring,
                     WH_BUILD_CONTAINER);
    char *s = cJSON_PrintUnformatted(cJSON_GetArrayItem(init, 0));
    ck_assert_ptr_nonnull(
        strstr(s, "\"TARGET_IMAGE\",\"value\":\"localhost:5000/union/hello:" TAG));
    ck_assert_ptr_nonnull(strstr(s, "\"key\":\"buildkit-uri\""));
    ck_assert_ptr_nonnull(strstr(s, "metadata.labels['organization']"));
    free(s);
    s = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "volumes"));
    ck_assert_ptr_nonnull(strstr(s, "\"audience\":\"registry\",\"expirationSeconds\":7200"));
    free(s);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(ecr_auto_layout_is_tag)
{
    cJSON *pod = make_pod("{\"name\":\"team/hello\",\"builder\":\"unionai\"}", "team/hello:" TAG);
    decision_t d;
    run_decide(ECR, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_str_eq(target_of(&d, "main"),
                     "123456789012.dkr.ecr.us-east-2.amazonaws.com/union:team-hello-" TAG);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(existing_image_is_only_rewritten)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    image_answer_t a = {"localhost:5000/union/hello:" TAG, CHECK_PRESENT, NULL};
    wh_checks_t checks = {.images = &a, .n_images = 1};
    decision_t d;
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert(!d.targets[0].build);
    ck_assert(!has_op(&d, "add", "/spec/initContainers"));
    ck_assert(!has_op(&d, "add", "/spec/volumes"));
    ck_assert(has_op(&d, "replace", "/spec/containers/0/image"));
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(failed_check_still_builds_with_warning)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    image_answer_t a = {"localhost:5000/union/hello:" TAG, CHECK_FAILED, NULL};
    wh_checks_t checks = {.images = &a, .n_images = 1, .production_namespace = CHECK_FAILED};
    decision_t d;
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert(d.targets[0].build);
    ck_assert(warned(&d, "could not check"));
    ck_assert(warned(&d, "could not verify that namespace system-production"));
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(failed_checks_warn_with_their_reason)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    image_answer_t a = {"localhost:5000/union/hello:" TAG, CHECK_FAILED, "DNS lookup timed out"};
    wh_checks_t checks = {.images = &a,
                          .n_images = 1,
                          .production_namespace = CHECK_FAILED,
                          .namespace_reason = "API answered 403"};
    decision_t d;
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert(d.targets[0].build);
    ck_assert(warned(&d, "could not check whether localhost:5000/union/hello:" TAG
                         " exists (DNS lookup timed out); building it"));
    ck_assert(warned(&d, "could not verify that namespace system-production exists (API answered "
                         "403); allowed"));
    decision_free(&d);
    /* no reason, or an empty one: the plain warnings */
    a.reason = "";
    checks.namespace_reason = NULL;
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert(warned(&d, "could not check whether localhost:5000/union/hello:" TAG
                         " exists; building it"));
    ck_assert(warned(&d, "could not verify that namespace system-production exists; allowed"));
    decision_free(&d);
    /* a reason with an answer other than FAILED says nothing */
    a.answer = CHECK_PRESENT;
    a.reason = "registry timed out";
    checks.production_namespace = CHECK_PRESENT;
    checks.namespace_reason = "ignored";
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert_uint_eq(d.n_warnings, 0);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(terminating_production_namespace_warns)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    wh_checks_t checks = {.production_namespace = CHECK_PRESENT, .namespace_terminating = true};
    decision_t d;
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_uint_eq(d.n_warnings, 1);
    ck_assert(warned(&d, "namespace system-production is being deleted (Terminating)"));
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(absent_production_namespace_denies)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    wh_checks_t checks = {.production_namespace = CHECK_ABSENT};
    decision_t d;
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_DENIED);
    ck_assert_int_eq(d.code, 403);
    ck_assert_ptr_nonnull(strstr(d.message, "\"system-production\" does not exist"));
    ck_assert_ptr_null(d.patch_json);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(auth_mismatch_denies_and_pull_secret_warns)
{
    cJSON *pod =
        make_pod("{\"name\":\"hello\",\"builder\":\"union\",\"registry\":\"ghcr.io/acme\"}",
                 "ghcr.io/acme/hello:" TAG);
    decision_t d;
    run_decide(ECR, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_DENIED);
    ck_assert_int_eq(d.code, 403);
    ck_assert_ptr_nonnull(strstr(d.message, "authenticationType \"aws\""));
    ck_assert_ptr_null(strchr(d.message, '\n'));
    decision_free(&d);
    cJSON_Delete(pod);

    pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\",\"registry\":\"ghcr.io/acme\","
                   "\"builder_options\":{\"imagepull_secret_name\":\"creds\"}}",
                   "ghcr.io/acme/hello:" TAG);
    run_decide(ECR, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert(warned(&d, "creds"));
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(noop_reaches_any_host)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\",\"registry\":\"quay.io/x\"}",
                          "quay.io/x/hello:" TAG);
    decision_t d;
    run_decide(LOCAL, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_str_eq(target_of(&d, "main"), "quay.io/x/hello:" TAG);
    ck_assert_uint_eq(d.n_warnings, 0);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(control_characters_never_reach_warnings)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\",\"registry\":\"ghcr.io/acme\","
                          "\"builder_options\":{\"imagepull_secret_name\":\"a\\nb\\tc\"}}",
                          "hello:" TAG);
    decision_t d;
    run_decide(ECR, pod, NULL, &d);
    ck_assert_uint_ge(d.n_warnings, 1);
    for (size_t i = 0; i < d.n_warnings; i++)
        for (const char *p = d.warnings[i]; *p; p++)
            ck_assert_msg((unsigned char)*p >= 0x20, "control character in warning");
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(unlabelled_and_mutated_pods_untouched)
{
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    cJSON *labels = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "labels");
    cJSON_ReplaceItemInObject(labels, WH_LABEL_BUILDER, cJSON_CreateString("default"));
    decision_t d;
    run_decide(LOCAL, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_ALLOWED);
    ck_assert_ptr_null(d.patch_json);
    decision_free(&d);
    cJSON_Delete(pod);

    pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG);
    cJSON_AddStringToObject(
        cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "annotations"), WH_ANNOT_MUTATED,
        "true");
    run_decide(LOCAL, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_ALLOWED);
    ck_assert_ptr_null(d.patch_json);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(malformed_pods_are_denied_not_crashed)
{
    static const char *const bad[] = {
        "{\"metadata\":[]}",
        "{\"metadata\":{\"labels\":{\"imagebuilder.union.ai/builder\":\"union\"},"
        "\"annotations\":{\"imagebuilder.union.ai/image-spec\":7}},\"spec\":{}}",
        "{\"metadata\":{\"labels\":{\"imagebuilder.union.ai/builder\":\"union\"},"
        "\"annotations\":{\"imagebuilder.union.ai/image-spec\":\"{\\\"name\\\":\\\"a\\\","
        "\\\"builder\\\":\\\"union\\\"}\"}},\"spec\":{\"containers\":{}}}",
        "{\"metadata\":{\"labels\":{\"imagebuilder.union.ai/builder\":\"union\"},"
        "\"annotations\":{\"imagebuilder.union.ai/image-spec\":\"{\\\"name\\\":\\\"a\\\","
        "\\\"builder\\\":\\\"union\\\"}\"}},\"spec\":{\"containers\":[{\"name\":\"m\","
        "\"image\":null}]}}",
        "{\"metadata\":{\"labels\":{\"imagebuilder.union.ai/builder\":\"union\"},"
        "\"annotations\":{\"imagebuilder.union.ai/image-spec\":\"[]\"}},\"spec\":{}}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *pod = cJSON_Parse(bad[i]);
        ck_assert_ptr_nonnull(pod);
        decision_t d;
        run_decide(LOCAL, pod, NULL, &d);
        ck_assert_msg(d.outcome == OUTCOME_DENIED, "case %zu not denied", i);
        ck_assert_int_eq(d.code, 400);
        ck_assert_ptr_nonnull(d.message);
        decision_free(&d);
        cJSON_Delete(pod);
    }
}
END_TEST

START_TEST(imagespec_reader)
{
    imagespec_list_t l;
    char why[256];
    ck_assert(
        imagespec_parse("[{\"name\":\"Hello\",\"builder\":\"union\",\"registry\":"
                        "\"HTTPS://GHCR.IO/Org\",\"extra\":{\"k\":1}},{\"builder\":\"envd\"}]",
                        strlen("[{\"name\":\"Hello\",\"builder\":\"union\",\"registry\":"
                               "\"HTTPS://GHCR.IO/Org\",\"extra\":{\"k\":1}},{\"builder\":"
                               "\"envd\"}]"),
                        &l, why, sizeof why));
    ck_assert_uint_eq(l.n, 2);
    ck_assert(l.specs[0].is_union);
    ck_assert_str_eq(l.specs[0].name, "hello");
    ck_assert_str_eq(l.specs[0].registry, "ghcr.io/org");
    ck_assert(l.specs[0].scheme_stripped);
    ck_assert(!l.specs[1].is_union);
    imagespec_list_free(&l);

    static const char *const bad[] = {
        "",
        "{",
        "\"x\"",
        "[]",
        "[1]",
        "{\"builder\":\"union\"}",
        "{\"name\":\"a:b\",\"builder\":\"union\"}",
        "{\"name\":\"ghcr.io/a\",\"builder\":\"union\"}",
        "{\"name\":\"a\",\"builder\":\"union\",\"registry\":\"x/:1\"}",
        "{\"name\":\"a\",\"builder\":5}",
        "{} x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(!imagespec_parse(bad[i], strlen(bad[i]), &l, why, sizeof why),
                      "accepted '%s'", bad[i]);
        ck_assert(why[0] != '\0');
    }
}
END_TEST

START_TEST(injected_container_is_spliced_json)
{
    wh_config_t *cfg = test_config("imageBuilder:\n  targetConfigMapName: \"odd-name\"\n");
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    /* the spec's own text, byte for byte: blanks, 3.10, a big integer, escapes */
    static const char spec[] = "{ \"name\": \"q\\\"uote\",\n\t\"builder\":\"union\", "
                               "\"python_version\": 3.10, \"n\": 12345678901234567890123, "
                               "\"e\": 1e999, \"u\": \"\\u00e9\\/\" }";
    buf_t raw = BUF_INIT;
    ck_assert(
        inject_container(p->inject, &raw, "build-image-2", spec, strlen(spec), "r.io/q:t", NULL));
    cJSON *c = cJSON_Parse(raw.data);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "name")->valuestring, "build-image-2");
    const cJSON *env = cJSON_GetObjectItem(c, "env"), *e;
    const char *spec_value = NULL, *target = NULL, *cm = NULL;
    cJSON_ArrayForEach(e, env)
    {
        const char *n = cJSON_GetObjectItem(e, "name")->valuestring;
        const cJSON *v = cJSON_GetObjectItem(e, "value");
        if (!strcmp(n, "IMAGE_SPEC"))
            spec_value = v->valuestring;
        else if (!strcmp(n, "TARGET_IMAGE"))
            target = v->valuestring;
        else if (!strcmp(n, "UNION_BUILDKIT_URI"))
            cm = cJSON_GetObjectItem(
                     cJSON_GetObjectItem(cJSON_GetObjectItem(e, "valueFrom"), "configMapKeyRef"),
                     "name")
                     ->valuestring;
    }
    ck_assert_str_eq(spec_value, spec);
    ck_assert_str_eq(target, "r.io/q:t");
    ck_assert_str_eq(cm, "odd-name");
    ck_assert_ptr_null(inject_volume(p->inject, INJECT_N_VOLUMES));
    char printed[1024];
    snprintf(printed, sizeof printed, "[%s,%s]", inject_volume(p->inject, 0),
             inject_volume(p->inject, 1));
    cJSON *parsed = cJSON_Parse(printed);
    ck_assert_int_eq(cJSON_GetArraySize(parsed), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(parsed, 0), "name")->valuestring,
                     WH_VOL_TOKEN);
    cJSON_Delete(parsed);
    cJSON_Delete(c);
    buf_free(&raw);
    policy_free(p);
    config_free(cfg);
}
END_TEST

START_TEST(reasons_only_when_asked)
{
    /* a mutated pod and an unlabelled one, decided with and without reasons:
     * the same answer, the reasons only when the caller asked for them */
    cJSON *pods[2] = {make_pod("{\"name\":\"hello\",\"builder\":\"union\"}", "hello:" TAG),
                      cJSON_Parse("{\"metadata\":{},\"spec\":{\"containers\":"
                                  "[{\"name\":\"a\",\"image\":\"x:1\"}]}}")};
    const char *want[2] = {"container \"main\": hello:" TAG " -> localhost:5000/union/hello:" TAG
                           " (build injected)",
                           "the pod is not labelled imagebuilder.union.ai/builder=union: nothing "
                           "to do"};
    wh_config_t *cfg = test_config(LOCAL);
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_ptr_nonnull(pods[i]);
        decision_t quiet, told, dflt;
        const decide_opts_t off = {0}, on = {.reasons = true};
        ck_assert(decide_with(p, pods[i], NULL, &off, &quiet));
        ck_assert(decide_with(p, pods[i], NULL, &on, &told));
        ck_assert(decide(p, pods[i], NULL, &dflt));
        ck_assert_uint_eq(quiet.n_reasons, 0);
        ck_assert_ptr_null(quiet.reasons);
        ck_assert_uint_eq(dflt.n_reasons, 0);
        ck_assert_uint_eq(told.n_reasons, 1);
        ck_assert_str_eq(told.reasons[0], want[i]);
        ck_assert_int_eq(quiet.outcome, told.outcome);
        ck_assert_uint_eq(quiet.n_targets, told.n_targets);
        ck_assert_uint_eq(quiet.n_warnings, told.n_warnings);
        if (told.patch_json)
            ck_assert_str_eq(quiet.patch_json, told.patch_json);
        decision_free(&quiet);
        decision_free(&told);
        decision_free(&dflt);
        cJSON_Delete(pods[i]);
    }
    policy_free(p);
    config_free(cfg);
}
END_TEST

START_TEST(nothing_to_change_is_allowed_without_patch)
{
    /* the image already is its target, and the registry check found it */
    cJSON *pod = make_pod("{\"name\":\"hello\",\"builder\":\"union\",\"registry\":\"quay.io/x\"}",
                          "quay.io/x/hello:" TAG);
    image_answer_t a = {"quay.io/x/hello:" TAG, CHECK_PRESENT, NULL};
    wh_checks_t checks = {.images = &a, .n_images = 1};
    decision_t d;
    run_decide(LOCAL, pod, &checks, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_ALLOWED);
    ck_assert_ptr_null(d.patch_json);
    ck_assert_ptr_null(d.audit_json);
    ck_assert_uint_eq(d.n_targets, 1);
    ck_assert(!d.targets[0].build);
    ck_assert_str_eq(d.reasons[d.n_reasons - 1],
                     "every image is already its target and exists: no patch");
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

START_TEST(logical_image_without_tag_denied)
{
    cJSON *pod = make_pod(NULL, "cr.union.ai/team/tool");
    decision_t d;
    run_decide(LOCAL, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_DENIED);
    ck_assert_int_eq(d.code, 400);
    ck_assert_str_eq(d.message, "container \"main\": image \"cr.union.ai/team/tool\" under a "
                                "logical registry needs a tag");
    decision_free(&d);
    cJSON_Delete(pod);

    pod = make_pod(NULL, "cr.union.ai/team/tool:" TAG);
    run_decide(LOCAL, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_str_eq(target_of(&d, "main"), "localhost:5000/union/team/tool:" TAG);
    ck_assert(!d.targets[0].build);
    decision_free(&d);
    cJSON_Delete(pod);
}
END_TEST

/* ---- convergence of the golden cases ------------------------------------ */

#define GOLDEN_DIR "tests/golden" /* the tests run from the repository root */

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            ck_assert_ptr_nonnull(nb);
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    ck_assert_msg(!ferror(f), "reading %s", path);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Decides one golden case; when mutated, applies the patch and decides
 * again. Returns whether the case was mutated. */
static bool converges(const char *dir)
{
    char path[1024];
    size_t len;
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    char *yaml = slurp(path, &len);
    ck_assert_msg(yaml != NULL, "%s: cannot read", path);
    config_errors_t errs = {0};
    wh_config_t *cfg = config_load_buffer(path, yaml, len, &errs);
    ck_assert_msg(cfg != NULL, "%s: invalid", path);
    config_errors_free(&errs);
    free(yaml);
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);

    snprintf(path, sizeof path, "%s/review.json", dir);
    char *body = slurp(path, &len);
    ck_assert_msg(body != NULL, "%s: cannot read", path);
    review_t rv;
    char why[256] = "";
    ck_assert_msg(admission_parse(body, len, &rv, why, sizeof why), "%s: %s", path, why);
    free(body);

    bool mutated = false;
    decision_t d;
    if (rv.pod) {
        ck_assert(decide(p, rv.pod, NULL, &d));
        mutated = d.outcome == OUTCOME_MUTATED;
        if (mutated) {
            cJSON *pod = cJSON_Duplicate(rv.pod, true);
            ck_assert_msg(jsonpatch_apply_text(pod, d.patch_json, why, sizeof why), "%s: %s", dir,
                          why);
            decision_t again;
            ck_assert(decide(p, pod, NULL, &again));
            ck_assert_msg(again.outcome == OUTCOME_ALLOWED, "%s: patched pod %s", dir,
                          outcome_name(again.outcome));
            ck_assert_msg(again.patch_json == NULL && again.n_ops == 0, "%s: second patch", dir);
            ck_assert_uint_eq(again.n_warnings, 0);
            decision_free(&again);
            cJSON_Delete(pod);
        }
        decision_free(&d);
    }
    review_free(&rv);
    policy_free(p);
    config_free(cfg);
    return mutated;
}

START_TEST(every_golden_mutation_converges)
{
    DIR *dir = opendir(GOLDEN_DIR);
    ck_assert_msg(dir != NULL, "%s not found: run the unit tests from the repository root",
                  GOLDEN_DIR);
    size_t cases = 0, mutated = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s/review.json", GOLDEN_DIR, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue; /* not a case, or a case given as a bare pod */
        fclose(f);
        snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, e->d_name);
        cases++;
        mutated += converges(path);
    }
    closedir(dir);
    /* every case with a review.json was read, and most of them mutate */
    ck_assert_uint_ge(cases, 30);
    ck_assert_uint_ge(mutated, 15);
}
END_TEST

/* The spec's name for messages is what snprintf would write, cut alike. */
START_TEST(spec_name_for_messages_as_printf_writes_it)
{
    char name[120];
    for (size_t len = 0; len < sizeof name; len += 7) {
        memset(name, 'a', len);
        name[len] = '\0';
        if (len > 3)
            name[len - 2] = '\xc3', name[len - 1] = '\xa9'; /* a UTF-8 sequence cut alike */
        imagespec_t sp = {.name = name};
        for (size_t n = 1; n < 110; n++) {
            char got[110], want[110];
            memset(got, '#', sizeof got);
            verdict_spec_what(&sp, got, n);
            snprintf(want, n, "ImageSpec \"%.*s\"", CLIP(name, 80));
            ck_assert_str_eq(got, want);
        }
    }
}
END_TEST

Suite *suite_decide(void)
{
    Suite *s = suite_create("decide");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, path_layout_rewrites_and_injects);
    tcase_add_test(tc, spec_name_for_messages_as_printf_writes_it);
    tcase_add_test(tc, ecr_auto_layout_is_tag);
    tcase_add_test(tc, existing_image_is_only_rewritten);
    tcase_add_test(tc, failed_check_still_builds_with_warning);
    tcase_add_test(tc, absent_production_namespace_denies);
    tcase_add_test(tc, failed_checks_warn_with_their_reason);
    tcase_add_test(tc, terminating_production_namespace_warns);
    tcase_add_test(tc, auth_mismatch_denies_and_pull_secret_warns);
    tcase_add_test(tc, noop_reaches_any_host);
    tcase_add_test(tc, control_characters_never_reach_warnings);
    tcase_add_test(tc, unlabelled_and_mutated_pods_untouched);
    tcase_add_test(tc, malformed_pods_are_denied_not_crashed);
    tcase_add_test(tc, imagespec_reader);
    tcase_add_test(tc, injected_container_is_spliced_json);
    tcase_add_test(tc, nothing_to_change_is_allowed_without_patch);
    tcase_add_test(tc, reasons_only_when_asked);
    tcase_add_test(tc, logical_image_without_tag_denied);
    suite_add_tcase(s, tc);
    TCase *golden = tcase_create("golden");
    tcase_add_test(golden, every_golden_mutation_converges);
    suite_add_tcase(s, golden);
    return s;
}
