/* Unit tests: which pods the webhook acts on (imageBuilder.podSelection,
 * rule_selected) and the registry check of images under a logical
 * registry that no ImageSpec names (rule_logical_image_exists), in both
 * selection modes. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "testutil.h"

#define TAG "py3.11-abc123"

static const char *LABEL_MODE = TEST_LOCAL_YAML;
static const char *LOGICAL_MODE = "imageBuilder:\n"
                                  "  defaultRepository: localhost:5000/union\n"
                                  "  podSelection: logicalRegistry\n";
static const char *EXTRA_REGISTRY =
    "imageBuilder:\n"
    "  defaultRepository: localhost:5000/union\n"
    "  podSelection: logicalRegistry\n"
    "  logicalRegistries: [cr.union.ai, images.acme.internal/team]\n";

static void decide_pod(const char *yaml, const char *pod_json, const wh_checks_t *checks,
                       decision_t *d)
{
    wh_config_t *cfg = test_config(yaml);
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    cJSON *pod = cJSON_Parse(pod_json);
    ck_assert_msg(pod != NULL, "bad test pod: %s", pod_json);
    memset(d, 0, sizeof *d);
    const decide_opts_t opts = {.reasons = true}; /* the tests read them */
    ck_assert(decide_with(p, pod, checks, &opts, d));
    cJSON_Delete(pod);
    policy_free(p);
    config_free(cfg);
}

static bool warned(const decision_t *d, const char *needle)
{
    for (size_t i = 0; i < d->n_warnings; i++)
        if (strstr(d->warnings[i], needle))
            return true;
    return false;
}

static bool has_reason(const decision_t *d, const char *needle)
{
    for (size_t i = 0; i < d->n_reasons; i++)
        if (strstr(d->reasons[i], needle))
            return true;
    return false;
}

/* printf into a new string. */
__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

/* An unlabelled pod: one container running `image`, and an init container
 * running `init` when it is not NULL. */
static char *pod_with(const char *labels, const char *image, const char *init)
{
    char inits[256] = "";
    if (init)
        snprintf(inits, sizeof inits, "\"initContainers\":[{\"name\":\"setup\",\"image\":\"%s\"}],",
                 init);
    return fmt("{\"metadata\":{\"name\":\"p\",\"labels\":{%s}},\"spec\":{%s"
               "\"containers\":[{\"name\":\"primary\",\"image\":\"%s\"}]}}",
               labels, inits, image);
}

START_TEST(label_mode_leaves_unlabelled_logical_pods_alone)
{
    char *pod = pod_with("\"project\":\"p\"", "cr.union.ai/flyte:" TAG, NULL);
    decision_t d;
    decide_pod(LABEL_MODE, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_ALLOWED);
    ck_assert_ptr_null(d.patch_json);
    ck_assert(has_reason(&d, "not labelled imagebuilder.union.ai/builder=union: nothing to do"));
    decision_free(&d);
    free(pod);
}
END_TEST

START_TEST(logical_mode_rewrites_unlabelled_pods)
{
    char *pod = pod_with("\"project\":\"p\"", "cr.union.ai/flyte:" TAG, NULL);
    decision_t d;
    decide_pod(LOGICAL_MODE, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_uint_eq(d.n_targets, 1);
    ck_assert_str_eq(d.targets[0].target, "localhost:5000/union/flyte:" TAG);
    ck_assert(d.targets[0].logical);
    ck_assert(!d.targets[0].build);
    ck_assert(has_reason(&d, "selected by an image under a logical registry"));
    decision_free(&d);
    free(pod);

    /* only the init container's image is under the logical registry */
    pod = pod_with("", "python:3.11", "cr.union.ai/tools/setup:" TAG);
    decide_pod(LOGICAL_MODE, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_uint_eq(d.n_targets, 1);
    ck_assert(d.targets[0].init);
    ck_assert_str_eq(d.targets[0].target, "localhost:5000/union/tools/setup:" TAG);
    decision_free(&d);
    free(pod);
}
END_TEST

START_TEST(logical_mode_ignores_other_pods)
{
    static const char *const others[] = {
        "cr.union.ai.evil.com/x:1", /* a look-alike host */
        "cr.union.ai:5000/x:1",     /* another port: another registry */
        "ghcr.io/cr.union.ai/x:1",  /* the name further down the path */
        "python:3.11",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char *pod = pod_with("", others[i], NULL);
        decision_t d;
        decide_pod(LOGICAL_MODE, pod, NULL, &d);
        ck_assert_msg(d.outcome == OUTCOME_ALLOWED && !d.patch_json, "%s: %s", others[i],
                      outcome_name(d.outcome));
        ck_assert(has_reason(&d, "runs no image under a logical registry"));
        decision_free(&d);
        free(pod);
    }
    /* a pod with no spec at all is left alone too, not denied */
    decision_t d;
    decide_pod(LOGICAL_MODE, "{\"metadata\":{\"name\":\"p\"}}", NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_ALLOWED);
    decision_free(&d);
}
END_TEST

START_TEST(extra_logical_registries_select)
{
    char *pod = pod_with("", "images.acme.internal/team/etl:" TAG, NULL);
    decision_t d;
    decide_pod(EXTRA_REGISTRY, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_str_eq(d.targets[0].target, "localhost:5000/union/etl:" TAG);
    decision_free(&d);
    free(pod);
    pod = pod_with("", "images.acme.internal/other/etl:" TAG, NULL);
    decide_pod(EXTRA_REGISTRY, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_ALLOWED);
    decision_free(&d);
    free(pod);
}
END_TEST

START_TEST(annotation_without_label_is_not_built)
{
    char *pod = fmt("%s", "{\"metadata\":{\"name\":\"p\",\"annotations\":{\"" WH_ANNOT_SPEC
                          "\":\"{\\\"name\\\":\\\"flyte\\\",\\\"builder\\\":\\\"union\\\"}\"}},"
                          "\"spec\":{\"containers\":[{\"name\":\"primary\",\"image\":\"cr.union.ai/"
                          "flyte:" TAG "\"}]}}");
    decision_t d;
    decide_pod(LOGICAL_MODE, pod, NULL, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert(!d.targets[0].build);
    ck_assert(warned(&d, "is ignored without the label imagebuilder.union.ai/builder=union"));
    decision_free(&d);
    free(pod);
}
END_TEST

START_TEST(labelled_pods_decide_the_same_in_both_modes)
{
    char *pod = fmt("%s", "{\"metadata\":{\"name\":\"p\",\"labels\":{\"" WH_LABEL_BUILDER
                          "\":\"union\"},\"annotations\":{\"" WH_ANNOT_SPEC
                          "\":\"{\\\"name\\\":\\\"hello\\\",\\\"builder\\\":\\\"union\\\"}\"}},"
                          "\"spec\":{\"containers\":[{\"name\":\"primary\",\"image\":\"hello:" TAG
                          "\"},{\"name\":\"side\",\"image\":\"cr.union.ai/side:" TAG "\"}]}}");
    decision_t a, b;
    decide_pod(LABEL_MODE, pod, NULL, &a);
    decide_pod(LOGICAL_MODE, pod, NULL, &b);
    ck_assert_int_eq(a.outcome, OUTCOME_MUTATED);
    ck_assert_int_eq(b.outcome, OUTCOME_MUTATED);
    ck_assert_ptr_nonnull(a.patch_json);
    ck_assert_ptr_nonnull(b.patch_json);
    ck_assert_str_eq(a.patch_json, b.patch_json);
    decision_free(&a);
    decision_free(&b);
    free(pod);

    /* a labelled pod without spec or logical image: still the label's denial */
    pod = pod_with("\"" WH_LABEL_BUILDER "\":\"union\"", "python:3.11", NULL);
    decide_pod(LOGICAL_MODE, pod, NULL, &a);
    ck_assert_int_eq(a.outcome, OUTCOME_DENIED);
    ck_assert_int_eq(a.code, 400);
    decision_free(&a);
    free(pod);
}
END_TEST

/* The registry check's answer for the logical target decides. */
static void logical_with_answer(const char *cfg, const char *labels, check_answer_t ans,
                                decision_t *d)
{
    char *pod = pod_with(labels, "cr.union.ai/flyte:" TAG, NULL);
    image_answer_t a = {"localhost:5000/union/flyte:" TAG, ans, NULL};
    wh_checks_t checks = {.images = &a, .n_images = 1};
    decide_pod(cfg, pod, &checks, d);
    free(pod);
}

START_TEST(missing_logical_image_is_denied_with_the_fix)
{
    const char *labelled = "\"" WH_LABEL_BUILDER "\":\"union\"";
    for (int mode = 0; mode < 2; mode++) {
        decision_t d;
        logical_with_answer(mode ? LOGICAL_MODE : LABEL_MODE, mode ? "" : labelled, CHECK_ABSENT,
                            &d);
        ck_assert_int_eq(d.outcome, OUTCOME_DENIED);
        ck_assert_int_eq(d.code, 403);
        ck_assert_str_eq(
            d.message,
            "container \"primary\": image \"cr.union.ai/flyte:" TAG "\" does not exist in the "
            "default repository (localhost:5000/union/flyte:" TAG ") and nothing can build it, "
            "as no ImageSpec names it; push the image, or attach its ImageSpec: label the pod "
            "imagebuilder.union.ai/builder=union and put the ImageSpec JSON (flytekit field "
            "names, builder union) in the annotation imagebuilder.union.ai/image-spec "
            "(hack/imagespec-annotation.sh prints both)");
        ck_assert_ptr_null(d.patch_json);
        decision_free(&d);
    }
}
END_TEST

START_TEST(present_or_unknown_logical_image_is_rewritten)
{
    decision_t d;
    logical_with_answer(LOGICAL_MODE, "", CHECK_PRESENT, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert_uint_eq(d.n_warnings, 0);
    ck_assert_int_eq(d.targets[0].exists, CHECK_PRESENT);
    decision_free(&d);

    logical_with_answer(LOGICAL_MODE, "", CHECK_FAILED, &d);
    ck_assert_int_eq(d.outcome, OUTCOME_MUTATED);
    ck_assert(!d.targets[0].build);
    ck_assert(warned(&d, "could not check whether localhost:5000/union/flyte:" TAG
                         " exists; nothing builds it"));
    decision_free(&d);
}
END_TEST

START_TEST(config_pod_selection)
{
    config_errors_t errs = {0};
    const char *bad = "imageBuilder:\n  podSelection: image\n";
    ck_assert_ptr_null(config_load_buffer("c.yaml", bad, strlen(bad), &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.items[0].msg,
                     "imageBuilder.podSelection: \"image\" is not one of label, logicalRegistry");
    config_errors_free(&errs);

    const char *empty = "imageBuilder:\n  podSelection: logicalRegistry\n  logicalRegistries: []\n";
    ck_assert_ptr_null(config_load_buffer("c.yaml", empty, strlen(empty), &errs));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_uint_eq(errs.items[0].line, 2);
    ck_assert_ptr_nonnull(strstr(errs.items[0].msg, "imageBuilder.logicalRegistries is empty"));
    config_errors_free(&errs);

    wh_config_t *c = config_defaults();
    ck_assert_int_eq(c->policy.pod_select, POD_SELECT_LABEL);
    config_free(c);
    c = config_load_buffer("c.yaml", LOGICAL_MODE, strlen(LOGICAL_MODE), &errs);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->policy.pod_select, POD_SELECT_LOGICAL);
    ck_assert_str_eq(pod_select_name(c->policy.pod_select), "logicalRegistry");
    config_free(c);
    config_errors_free(&errs);
}
END_TEST

Suite *suite_podselect(void)
{
    Suite *s = suite_create("podselect");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, label_mode_leaves_unlabelled_logical_pods_alone);
    tcase_add_test(tc, logical_mode_rewrites_unlabelled_pods);
    tcase_add_test(tc, logical_mode_ignores_other_pods);
    tcase_add_test(tc, extra_logical_registries_select);
    tcase_add_test(tc, annotation_without_label_is_not_built);
    tcase_add_test(tc, labelled_pods_decide_the_same_in_both_modes);
    tcase_add_test(tc, missing_logical_image_is_denied_with_the_fix);
    tcase_add_test(tc, present_or_unknown_logical_image_is_rewritten);
    tcase_add_test(tc, config_pod_selection);
    suite_add_tcase(s, tc);
    return s;
}
