/* Unit tests: AdmissionReview parsing and response encoding. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "admission.h"
#include "testutil.h"

static const char *POD =
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":{\"imagebuilder.union.ai/"
    "builder\":\"union\"},\"annotations\":{\"imagebuilder.union.ai/image-spec\":\"{\\\"name\\\":"
    "\\\"hello\\\",\\\"builder\\\":\\\"union\\\"}\"}},\"spec\":{\"containers\":[{\"name\":\"m\","
    "\"image\":\"hello:abc\"}]}}";

static char *review_json(const char *api, const char *op, const char *object)
{
    size_t n = strlen(object) + 512;
    char *s = malloc(n);
    snprintf(s, n,
             "{\"apiVersion\":\"%s\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u-1\","
             "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"resource\":{"
             "\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},\"operation\":\"%s\","
             "\"object\":%s,\"dryRun\":true}}\n",
             api, op, object);
    return s;
}

static cJSON *respond(const char *body, review_t *rv, admission_response_t *resp)
{
    char why[128];
    wh_config_t *cfg = test_config(TEST_LOCAL_YAML);
    ck_assert_msg(admission_parse(body, strlen(body), rv, why, sizeof why), "%s", why);
    wh_checks_t checks = {0};
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    ck_assert(admission_respond(p, rv, &checks, resp));
    policy_free(p);
    config_free(cfg);
    cJSON *out = cJSON_Parse(resp->body);
    ck_assert_ptr_nonnull(out);
    return out;
}

START_TEST(v1_mutation_answer)
{
    char *body = review_json("admission.k8s.io/v1", "CREATE", POD);
    review_t rv;
    admission_response_t resp;
    cJSON *out = respond(body, &rv, &resp);
    ck_assert(rv.dry_run);
    ck_assert_str_eq(rv.namespace_, "ns");
    ck_assert_str_eq(rv.name, "p");
    ck_assert_str_eq(cJSON_GetObjectItem(out, "apiVersion")->valuestring, "admission.k8s.io/v1");
    ck_assert_str_eq(cJSON_GetObjectItem(out, "kind")->valuestring, "AdmissionReview");
    cJSON *r = cJSON_GetObjectItem(out, "response");
    ck_assert_str_eq(cJSON_GetObjectItem(r, "uid")->valuestring, "u-1");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "allowed")));
    ck_assert_str_eq(cJSON_GetObjectItem(r, "patchType")->valuestring, "JSONPatch");
    /* standard base64 of a JSON array */
    const char *b64 = cJSON_GetObjectItem(r, "patch")->valuestring;
    unsigned char *raw = malloc(strlen(b64));
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strlen(b64));
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(raw[0], '[');
    ck_assert_ptr_null(strpbrk(b64, "-_"));
    free(raw);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(r, "auditAnnotations"));
    cJSON_Delete(out);
    admission_response_free(&resp);
    review_free(&rv);
    free(body);
}
END_TEST

START_TEST(v1beta1_answered_in_kind)
{
    char *body = review_json("admission.k8s.io/v1beta1", "CREATE", POD);
    review_t rv;
    admission_response_t resp;
    cJSON *out = respond(body, &rv, &resp);
    ck_assert_str_eq(cJSON_GetObjectItem(out, "apiVersion")->valuestring,
                     "admission.k8s.io/v1beta1");
    cJSON_Delete(out);
    admission_response_free(&resp);
    review_free(&rv);
    free(body);
}
END_TEST

START_TEST(non_create_allowed_without_patch)
{
    static const char *const ops[] = {"UPDATE", "DELETE", "CONNECT"};
    for (size_t i = 0; i < 3; i++) {
        char *body = review_json("admission.k8s.io/v1", ops[i], i == 1 ? "null" : POD);
        review_t rv;
        admission_response_t resp;
        cJSON *out = respond(body, &rv, &resp);
        cJSON *r = cJSON_GetObjectItem(out, "response");
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "allowed")));
        ck_assert_ptr_null(cJSON_GetObjectItem(r, "patch"));
        ck_assert_ptr_null(cJSON_GetObjectItem(r, "patchType"));
        cJSON_Delete(out);
        admission_response_free(&resp);
        review_free(&rv);
        free(body);
    }
}
END_TEST

START_TEST(denial_has_status)
{
    const char *pod = "{\"metadata\":{\"labels\":{\"imagebuilder.union.ai/builder\":\"union\"}},"
                      "\"spec\":{\"containers\":[{\"name\":\"m\",\"image\":\"python:3\"}]}}";
    char *body = review_json("admission.k8s.io/v1", "CREATE", pod);
    review_t rv;
    admission_response_t resp;
    cJSON *out = respond(body, &rv, &resp);
    cJSON *r = cJSON_GetObjectItem(out, "response");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(r, "allowed")));
    cJSON *st = cJSON_GetObjectItem(r, "status");
    ck_assert_int_eq(cJSON_GetObjectItem(st, "code")->valueint, 400);
    ck_assert_str_eq(cJSON_GetObjectItem(st, "status")->valuestring, "Failure");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(st, "message"));
    ck_assert_ptr_null(cJSON_GetObjectItem(r, "patch"));
    cJSON_Delete(out);
    admission_response_free(&resp);
    review_free(&rv);
    free(body);
}
END_TEST

START_TEST(not_a_review_rejected)
{
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v2\",\"request\":{\"uid\":"
        "\"x\"}}",
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}",
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\"}",
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{}}",
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":"
        "7}}",
        "{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":"
        "\"x\"}} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        review_t rv;
        char why[128] = "";
        ck_assert_msg(!admission_parse(bad[i], strlen(bad[i]), &rv, why, sizeof why),
                      "accepted case %zu", i);
        ck_assert(why[0]);
        ck_assert_ptr_null(rv.root);
    }
}
END_TEST

START_TEST(wrap_pod_makes_create_review)
{
    cJSON *pod = cJSON_Parse(POD);
    cJSON *rv = admission_wrap_pod(pod, "abc", true);
    char *s = cJSON_PrintUnformatted(rv);
    review_t r;
    char why[128];
    ck_assert(admission_parse(s, strlen(s), &r, why, sizeof why));
    ck_assert(r.is_pod_create);
    ck_assert(r.dry_run);
    ck_assert_str_eq(r.uid, "abc");
    review_free(&r);
    free(s);
    cJSON_Delete(rv);
}
END_TEST

Suite *suite_admission(void)
{
    Suite *s = suite_create("admission");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, v1_mutation_answer);
    tcase_add_test(tc, v1beta1_answered_in_kind);
    tcase_add_test(tc, non_create_allowed_without_patch);
    tcase_add_test(tc, denial_has_status);
    tcase_add_test(tc, not_a_review_rejected);
    tcase_add_test(tc, wrap_pod_makes_create_review);
    suite_add_tcase(s, tc);
    return s;
}
