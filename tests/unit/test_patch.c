/* Unit tests: the JSON Patch steps (patch.c), each on its own and all of
 * them applied to a pod. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
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

/* The ops written so far, read back as a tree (caller deletes). */
static cJSON *tree_of(const jsonpatch_t *ops)
{
    buf_t b = BUF_INIT;
    ck_assert(buf_puts(&b, ops->n_ops ? ops->text.data : "["));
    ck_assert(buf_putc(&b, ']'));
    cJSON *t = cJSON_Parse(b.data);
    ck_assert_msg(t != NULL, "not JSON: %s", b.data);
    ck_assert_int_eq(cJSON_GetArraySize(t), (int)ops->n_ops);
    buf_free(&b);
    return t;
}

/* "op path" of each operation, one per line. */
static char *op_list_of(const cJSON *ops)
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

static char *op_list(const jsonpatch_t *ops)
{
    cJSON *t = tree_of(ops);
    char *out = op_list_of(t);
    cJSON_Delete(t);
    return out;
}

START_TEST(metadata_added_only_when_absent)
{
    jsonpatch_t ops = JSONPATCH_INIT;
    ck_assert(patch_metadata(&ops, NULL));
    ck_assert_str_eq(op_list(&ops), "add /metadata\n");
    cJSON *meta = cJSON_CreateObject();
    ck_assert(patch_metadata(&ops, meta));
    ck_assert_int_eq(ops.n_ops, 1);
    size_t len;
    char *text = jsonpatch_finish(&ops, &len, NULL);
    ck_assert_str_eq(text, "[{\"op\":\"add\",\"path\":\"/metadata\",\"value\":{}}]");
    free(text);
    cJSON_Delete(meta);
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
    jsonpatch_t w = JSONPATCH_INIT;
    ck_assert(patch_rewrites(&w, &f.scan));
    ck_assert_str_eq(op_list(&w), "replace /spec/initContainers/1/image\n"
                                  "replace /spec/containers/0/image\n");
    cJSON *ops = tree_of(&w);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(ops, 1), "value")->valuestring,
                     "r.io/x/hello:1");
    cJSON_Delete(ops);
    jsonpatch_free(&w);
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
    jsonpatch_t w = JSONPATCH_INIT;
    size_t n_builds = 99;
    char why[256];
    ck_assert_int_eq(patch_builds(&w, &f.in, &n_builds, why, sizeof why), PATCH_OK);
    ck_assert_uint_eq(n_builds, 2);
    cJSON *ops = tree_of(&w);
    jsonpatch_free(&w);
    ck_assert_str_eq(op_list_of(ops), "add /spec/volumes/-\n"
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
    jsonpatch_t ops = JSONPATCH_INIT;
    size_t n_builds = 99;
    char why[256];
    ck_assert_int_eq(patch_builds(&ops, &f.in, &n_builds, why, sizeof why), PATCH_OK);
    ck_assert_uint_eq(n_builds, 0);
    ck_assert_uint_eq(ops.n_ops, 0);
    ck_assert_uint_eq(ops.text.len, 0);
    jsonpatch_free(&ops);
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
        patch_out_t out;
        char why[256] = "";
        ck_assert_int_eq(patch_build(&f.in, &out, why, sizeof why), PATCH_DENIED);
        ck_assert_str_eq(why, cases[i].why);
        ck_assert_ptr_null(out.ops);
        ck_assert_ptr_null(out.audit);
        ck_assert_uint_eq(out.n_ops, 0);
        teardown(&f);
    }
}
END_TEST

START_TEST(identity_label_added_member_by_member)
{
    jsonpatch_t ops = JSONPATCH_INIT;
    cJSON *meta = cJSON_Parse("{\"labels\":{\"a\":\"b\"}}");
    ck_assert(patch_identity(&ops, meta));
    ck_assert_str_eq(op_list(&ops), "add /metadata/labels/azure.workload.identity~1use\n");
    cJSON_Delete(meta);
    jsonpatch_free(&ops);
    meta = cJSON_Parse("{}");
    ck_assert(patch_identity(&ops, meta));
    ck_assert_str_eq(op_list(&ops), "add /metadata/labels\n");
    size_t len;
    char *text = jsonpatch_finish(&ops, &len, NULL);
    ck_assert_str_eq(text, "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":"
                           "{\"azure.workload.identity/use\":\"true\"}}]");
    free(text);
    cJSON_Delete(meta);
}
END_TEST

START_TEST(annotations_and_their_audit_twins)
{
    fixture_t f;
    setup(&f,
          "{\"metadata\":{\"annotations\":{\"k\":\"v\"}},\"spec\":{\"containers\":["
          "{\"name\":\"a\",\"image\":\"hello:1\"},{\"name\":\"b\",\"image\":\"other:2\"}]}}",
          NULL);
    jsonpatch_t w = JSONPATCH_INIT;
    char *audit_text = NULL;
    ck_assert(patch_annotations(&w, &f.in, 2, &audit_text));
    cJSON *ops = tree_of(&w), *audit = cJSON_Parse(audit_text);
    jsonpatch_free(&w);
    ck_assert_str_eq(audit_text,
                     "{\"mutated\":\"true\",\"target-images\":"
                     "\"{\\\"a\\\":\\\"r.io/x/hello:1\\\",\\\"b\\\":\\\"r.io/x/other:2\\\"}\","
                     "\"builds\":\"2\"}");
    free(audit_text);
    ck_assert_str_eq(op_list_of(ops),
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
    patch_out_t out;
    char why[256];
    ck_assert_int_eq(patch_build(&f.in, &out, why, sizeof why), PATCH_OK);
    ck_assert_uint_eq(out.ops_len, strlen(out.ops));
    ck_assert_uint_eq(out.n_ops, 6);
    cJSON *ops = cJSON_Parse(out.ops), *audit = cJSON_Parse(out.audit);
    ck_assert_ptr_nonnull(ops);
    /* byte for byte what cJSON prints for the same values */
    char *printed = cJSON_PrintUnformatted(ops);
    ck_assert_str_eq(out.ops, printed);
    cJSON_free(printed);
    printed = cJSON_PrintUnformatted(audit);
    ck_assert_str_eq(out.audit, printed);
    cJSON_free(printed);
    /* its base64, constants spliced, is the one-shot encoding */
    char *b64 = base64_encode(out.ops, out.ops_len);
    ck_assert_str_eq(out.ops_b64, b64);
    free(b64);
    free(out.ops);
    free(out.ops_b64);
    free(out.audit);
    ck_assert_str_eq(op_list_of(ops), "add /metadata\n"
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
