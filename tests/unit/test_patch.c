/* Unit tests: the JSON Patch steps (patch.c), each on its own and all of
 * them applied to a pod. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpatch.h"
#include "patch.h"

#define SPECS                                                                                      \
    "[{\"name\":\"hello\",\"builder\":\"union\"},{\"name\":\"other\",\"builder\":\"union\"}]"

/* A pod with its containers scanned and matched, and targets placed. */
typedef struct {
    wh_config_t *cfg;
    inject_t *inject;
    cJSON *pod;
    imagespec_list_t specs;
    podscan_t scan;
    target_t targets[8];
    size_t n_targets;
    patch_input_t in;
} fixture_t;

/* `pod_json` is a pod; every container whose image matches a spec goes to
 * "r.io/x/<image>" and needs a build unless `exists` names its container. */
static void setup(fixture_t *f, const char *pod_json, const char *exists)
{
    memset(f, 0, sizeof *f);
    f->cfg = config_defaults();
    ck_assert_ptr_nonnull(f->cfg);
    f->inject = inject_prepare(&f->cfg->policy);
    ck_assert_ptr_nonnull(f->inject);
    f->pod = cJSON_Parse(pod_json);
    ck_assert_ptr_nonnull(f->pod);
    char why[256];
    ck_assert(imagespec_parse(SPECS, strlen(SPECS), &f->specs, why, sizeof why));
    const cJSON *spec = cJSON_GetObjectItem(f->pod, "spec");
    ck_assert_int_eq(podscan_read(spec, &f->scan, why, sizeof why), PODSCAN_OK);
    podscan_match(&f->scan, &f->specs, &f->cfg->policy.logical_registries);
    for (size_t i = 0; i < f->scan.n; i++) {
        container_t *ct = &f->scan.cs[i];
        if (ct->spec < 0)
            continue;
        size_t n = strlen("r.io/x/") + strlen(ct->image) + 1;
        ct->target = malloc(n);
        ck_assert_ptr_nonnull(ct->target);
        snprintf(ct->target, n, "r.io/x/%s", ct->image);
        target_t *t = &f->targets[f->n_targets++];
        t->container = (char *)ct->name;
        t->original = (char *)ct->image;
        t->target = ct->target;
        t->init = ct->init;
        t->build = !exists || strcmp(exists, ct->name) != 0;
    }
    f->in = (patch_input_t){
        .meta = cJSON_GetObjectItem(f->pod, "metadata"),
        .spec = spec,
        .pod = &f->scan,
        .specs = &f->specs,
        .targets = f->targets,
        .n_targets = f->n_targets,
        .inject = f->inject,
    };
}

static void teardown(fixture_t *f)
{
    podscan_free(&f->scan);
    imagespec_list_free(&f->specs);
    cJSON_Delete(f->pod);
    inject_free(f->inject);
    config_free(f->cfg);
}

/* "op path" of each operation, one per line. */
static char *op_list(const cJSON *ops)
{
    static char out[2048];
    out[0] = '\0';
    const cJSON *o;
    cJSON_ArrayForEach(o, ops)
    {
        strncat(out, cJSON_GetObjectItem(o, "op")->valuestring, sizeof out - strlen(out) - 1);
        strncat(out, " ", sizeof out - strlen(out) - 1);
        strncat(out, cJSON_GetObjectItem(o, "path")->valuestring, sizeof out - strlen(out) - 1);
        strncat(out, "\n", sizeof out - strlen(out) - 1);
    }
    return out;
}

START_TEST(metadata_added_only_when_absent)
{
    cJSON *ops = cJSON_CreateArray();
    ck_assert(patch_metadata(ops, NULL));
    ck_assert_str_eq(op_list(ops), "add /metadata\n");
    cJSON *meta = cJSON_CreateObject();
    ck_assert(patch_metadata(ops, meta));
    ck_assert_int_eq(cJSON_GetArraySize(ops), 1);
    cJSON_Delete(meta);
    cJSON_Delete(ops);
}
END_TEST

START_TEST(rewrites_only_changed_images)
{
    fixture_t f;
    setup(&f,
          "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"busybox:1\"},"
          "{\"name\":\"j\",\"image\":\"other:2\"}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"hello:1\"},"
          "{\"name\":\"b\",\"image\":\"r.io/x/hello:1\"}]}}",
          NULL);
    /* container b already runs its target */
    free(f.scan.cs[3].target);
    f.scan.cs[3].target = strdup("r.io/x/hello:1");
    cJSON *ops = cJSON_CreateArray();
    ck_assert(patch_rewrites(ops, &f.scan));
    ck_assert_str_eq(op_list(ops), "replace /spec/initContainers/1/image\n"
                                   "replace /spec/containers/0/image\n");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ops, 1), "value")->valuestring,
                     "r.io/x/hello:1");
    cJSON_Delete(ops);
    teardown(&f);
}
END_TEST

START_TEST(one_build_per_distinct_target_placed_first)
{
    fixture_t f;
    setup(&f,
          "{\"spec\":{\"initContainers\":[{\"name\":\"setup\",\"image\":\"busybox:1\"}],"
          "\"volumes\":[{\"name\":\"data\"}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"hello:1\"},"
          "{\"name\":\"b\",\"image\":\"hello:1\"},{\"name\":\"c\",\"image\":\"other:2\"},"
          "{\"name\":\"d\",\"image\":\"other:3\"}]}}",
          "d");
    cJSON *ops = cJSON_CreateArray();
    size_t n_builds = 99;
    char why[256];
    ck_assert_int_eq(patch_builds(ops, &f.in, &n_builds, why, sizeof why), PATCH_OK);
    ck_assert_uint_eq(n_builds, 2);
    ck_assert_str_eq(op_list(ops), "add /spec/volumes/-\n"
                                   "add /spec/volumes/-\n"
                                   "add /spec/initContainers/0\n"
                                   "add /spec/initContainers/1\n");
    /* the patched pod: builds first, in target order, then the existing one */
    ck_assert_msg(jsonpatch_apply(f.pod, ops, why, sizeof why), "%s", why);
    const cJSON *inits = cJSON_GetObjectItem(cJSON_GetObjectItem(f.pod, "spec"), "initContainers");
    ck_assert_int_eq(cJSON_GetArraySize(inits), 3);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(inits, 0), "name")->valuestring,
                     "build-image");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(inits, 1), "name")->valuestring,
                     "build-image-2");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(inits, 2), "name")->valuestring,
                     "setup");
    char *s = cJSON_PrintUnformatted(cJSON_GetArrayItem(inits, 1));
    ck_assert_ptr_nonnull(strstr(s, "\"TARGET_IMAGE\",\"value\":\"r.io/x/other:2\""));
    cJSON_free(s);
    const cJSON *vols = cJSON_GetObjectItem(cJSON_GetObjectItem(f.pod, "spec"), "volumes");
    ck_assert_int_eq(cJSON_GetArraySize(vols), 3);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(vols, 1), "name")->valuestring,
                     WH_VOL_TOKEN);
    cJSON_Delete(ops);
    teardown(&f);
}
END_TEST

START_TEST(no_build_no_ops)
{
    fixture_t f;
    setup(&f, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"hello:1\"}]}}", "a");
    cJSON *ops = cJSON_CreateArray();
    size_t n_builds = 99;
    char why[256];
    ck_assert_int_eq(patch_builds(ops, &f.in, &n_builds, why, sizeof why), PATCH_OK);
    ck_assert_uint_eq(n_builds, 0);
    ck_assert_int_eq(cJSON_GetArraySize(ops), 0);
    cJSON_Delete(ops);
    teardown(&f);
}
END_TEST

START_TEST(name_clashes_deny)
{
    static const struct {
        const char *pod, *why;
    } cases[] = {
        {"{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"hello:1\"},"
         "{\"name\":\"b\",\"image\":\"other:1\"},{\"name\":\"build-image-2\",\"image\":\"x:1\"}]}}",
         "the pod already has a container named \"build-image-2\"; rename it so the image build "
         "can be injected"},
        {"{\"spec\":{\"volumes\":{},\"containers\":[{\"name\":\"a\",\"image\":\"hello:1\"}]}}",
         "spec.volumes must be an array"},
        {"{\"spec\":{\"volumes\":[{\"name\":\"" WH_VOL_STORAGE "\"}],"
         "\"containers\":[{\"name\":\"a\",\"image\":\"hello:1\"}]}}",
         "the pod already has a volume named \"" WH_VOL_STORAGE
         "\"; rename it so the image build can be injected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fixture_t f;
        setup(&f, cases[i].pod, NULL);
        cJSON *ops = NULL, *audit = NULL;
        char why[256] = "";
        ck_assert_int_eq(patch_build(&f.in, &ops, &audit, why, sizeof why), PATCH_DENIED);
        ck_assert_str_eq(why, cases[i].why);
        ck_assert_ptr_null(ops);
        ck_assert_ptr_null(audit);
        teardown(&f);
    }
}
END_TEST

START_TEST(identity_label_added_member_by_member)
{
    cJSON *ops = cJSON_CreateArray();
    cJSON *meta = cJSON_Parse("{\"labels\":{\"a\":\"b\"}}");
    ck_assert(patch_identity(ops, meta));
    ck_assert_str_eq(op_list(ops), "add /metadata/labels/azure.workload.identity~1use\n");
    cJSON_Delete(meta);
    cJSON_Delete(ops);
    ops = cJSON_CreateArray();
    meta = cJSON_Parse("{}");
    ck_assert(patch_identity(ops, meta));
    ck_assert_str_eq(op_list(ops), "add /metadata/labels\n");
    cJSON_Delete(meta);
    cJSON_Delete(ops);
}
END_TEST

START_TEST(annotations_and_their_audit_twins)
{
    fixture_t f;
    setup(&f,
          "{\"metadata\":{\"annotations\":{\"k\":\"v\"}},\"spec\":{\"containers\":["
          "{\"name\":\"a\",\"image\":\"hello:1\"},{\"name\":\"b\",\"image\":\"other:2\"}]}}",
          NULL);
    cJSON *ops = cJSON_CreateArray(), *audit = NULL;
    ck_assert(patch_annotations(ops, &f.in, 2, &audit));
    ck_assert_str_eq(op_list(ops),
                     "add /metadata/annotations/imagebuilder.union.ai~1mutated\n"
                     "add /metadata/annotations/imagebuilder.union.ai~1target-images\n");
    const char *targets = "{\"a\":\"r.io/x/hello:1\",\"b\":\"r.io/x/other:2\"}";
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ops, 1), "value")->valuestring,
                     targets);
    ck_assert_str_eq(cJSON_GetObjectItem(audit, "mutated")->valuestring, "true");
    ck_assert_str_eq(cJSON_GetObjectItem(audit, "target-images")->valuestring, targets);
    ck_assert_str_eq(cJSON_GetObjectItem(audit, "builds")->valuestring, "2");
    cJSON_Delete(audit);
    cJSON_Delete(ops);
    teardown(&f);
}
END_TEST

START_TEST(every_step_in_order)
{
    fixture_t f;
    setup(&f, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"hello:1\"}]}}", NULL);
    f.in.azure = true;
    cJSON *ops = NULL, *audit = NULL;
    char why[256];
    ck_assert_int_eq(patch_build(&f.in, &ops, &audit, why, sizeof why), PATCH_OK);
    ck_assert_str_eq(op_list(ops), "add /metadata\n"
                                   "replace /spec/containers/0/image\n"
                                   "add /spec/volumes\n"
                                   "add /spec/initContainers\n"
                                   "add /metadata/labels\n"
                                   "add /metadata/annotations\n");
    ck_assert_str_eq(cJSON_GetObjectItem(audit, "builds")->valuestring, "1");
    ck_assert(jsonpatch_apply(f.pod, ops, why, sizeof why));
    const cJSON *meta = cJSON_GetObjectItem(f.pod, "metadata");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "annotations"), WH_ANNOT_MUTATED)
                         ->valuestring,
                     "true");
    cJSON_Delete(ops);
    cJSON_Delete(audit);
    teardown(&f);
}
END_TEST

Suite *suite_patch(void)
{
    Suite *s = suite_create("patch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, metadata_added_only_when_absent);
    tcase_add_test(tc, rewrites_only_changed_images);
    tcase_add_test(tc, one_build_per_distinct_target_placed_first);
    tcase_add_test(tc, no_build_no_ops);
    tcase_add_test(tc, name_clashes_deny);
    tcase_add_test(tc, identity_label_added_member_by_member);
    tcase_add_test(tc, annotations_and_their_audit_twins);
    tcase_add_test(tc, every_step_in_order);
    suite_add_tcase(s, tc);
    return s;
}
