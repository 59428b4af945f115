/* fuzz_admission: whole AdmissionReview bytes in, through admission_parse
 * and admission_respond under three fixed configurations (built once).
 * Properties: a refusal has a reason; an answer is JSON that echoes the
 * uid; a mutation's patch applies to the pod and the patched pod is not
 * mutated again; answers from the live checks never make it fail. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "admission.h"
#include "buf.h"
#include "config.h"
#include "decide.h"
#include "fuzzutil.h"
#include "jsonpatch.h"

static const char *const yamls[] = {
    "imageBuilder:\n"
    "  defaultRepository: 123456789012.dkr.ecr.us-east-2.amazonaws.com/union/images\n"
    "  authenticationType: aws\n",
    "imageBuilder:\n"
    "  defaultRepository: us-central1-docker.pkg.dev/my-project/images\n"
    "  authenticationType: google\n"
    "  repositoryLayout: path\n"
    "  logicalRegistries: [cr.union.ai, cr.example.com]\n",
    "imageBuilder:\n"
    "  enabled: false\n"
    "  defaultRepository: localhost:5000/images\n",
};
#define NCFG (sizeof yamls / sizeof yamls[0])
static wh_config_t *cfgs[NCFG];
static policy_t *policies[NCFG];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < NCFG; i++) {
        config_errors_t errs;
        memset(&errs, 0, sizeof errs);
        cfgs[i] = config_load_buffer("fuzz.yaml", yamls[i], strlen(yamls[i]), &errs);
        if (!cfgs[i]) {
            buf_t b = BUF_INIT;
            config_errors_format(&errs, &b);
            fputs(b.data ? b.data : "", stderr);
            buf_free(&b);
            abort();
        }
        config_errors_free(&errs);
        if (!(policies[i] = policy_new(&cfgs[i]->policy)))
            abort();
    }
    return 0;
}

/* Decodes the response's patch, applies it to a copy of the pod and checks
 * that the result is left alone by a second decision. */
static void check_patch(const policy_t *cfg, const review_t *rv, const cJSON *resp)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(resp, "response");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "patch");
    FUZZ_CHECK(cJSON_IsString(p));
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(r, "patchType");
    FUZZ_CHECK(cJSON_IsString(pt) && strcmp(pt->valuestring, "JSONPatch") == 0);
    size_t n = strlen(p->valuestring);
    FUZZ_CHECK(n % 4 == 0);
    unsigned char *raw = malloc(n / 4 * 3 + 1);
    FUZZ_CHECK(raw != NULL);
    int got = EVP_DecodeBlock(raw, (const unsigned char *)p->valuestring, (int)n);
    FUZZ_CHECK(got >= 0);
    cJSON *ops = cJSON_ParseWithLength((const char *)raw, (size_t)got);
    if (!ops) {
        /* EVP_DecodeBlock keeps the padding's zero bytes: trim them. */
        while (got > 0 && raw[got - 1] == '\0')
            got--;
        ops = cJSON_ParseWithLength((const char *)raw, (size_t)got);
    }
    free(raw);
    FUZZ_CHECK(cJSON_IsArray(ops));
    cJSON *pod = cJSON_Duplicate(rv->pod, true);
    FUZZ_CHECK(pod != NULL);
    char why[256];
    FUZZ_CHECK(jsonpatch_apply(pod, ops, why, sizeof why));
    wh_checks_t none;
    memset(&none, 0, sizeof none);
    decision_t again;
    FUZZ_CHECK(decide(cfg, pod, &none, &again));
    FUZZ_CHECK(again.outcome != OUTCOME_MUTATED);
    decision_free(&again);
    cJSON_Delete(pod);
    cJSON_Delete(ops);
}

static void one(const policy_t *cfg, const review_t *rv)
{
    wh_checks_t checks;
    memset(&checks, 0, sizeof checks);
    admission_response_t out;
    FUZZ_CHECK(admission_respond(cfg, rv, &checks, &out));
    FUZZ_CHECK(out.body != NULL && out.len == strlen(out.body));
    cJSON *resp = cJSON_ParseWithLength(out.body, out.len);
    FUZZ_CHECK(resp != NULL);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(resp, "response");
    FUZZ_CHECK(cJSON_IsObject(r));
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(r, "uid");
    FUZZ_CHECK(cJSON_IsString(uid) && rv->uid && strcmp(uid->valuestring, rv->uid) == 0);
    const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(r, "allowed");
    FUZZ_CHECK(cJSON_IsBool(allowed));
    FUZZ_CHECK(cJSON_IsTrue(allowed) == (out.decision.outcome != OUTCOME_DENIED));
    if (out.decision.outcome == OUTCOME_DENIED) {
        FUZZ_CHECK(out.decision.message && out.decision.message[0]);
        FUZZ_CHECK(out.decision.code == 400 || out.decision.code == 403);
    }
    for (size_t i = 0; i < out.decision.n_warnings; i++)
        for (const char *c = out.decision.warnings[i]; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
    if (out.decision.outcome == OUTCOME_MUTATED && rv->pod)
        check_patch(cfg, rv, resp);
    cJSON_Delete(resp);

    /* The same pod with every target image reported present, then failed. */
    if (out.decision.n_targets > 0 && out.decision.n_targets <= 256) {
        image_answer_t ans[256];
        for (check_answer_t a = CHECK_PRESENT; a <= CHECK_FAILED; a++) {
            for (size_t i = 0; i < out.decision.n_targets; i++) {
                ans[i].image = out.decision.targets[i].target;
                ans[i].answer = a;
                ans[i].reason = a == CHECK_FAILED ? "registry timed out" : NULL;
            }
            checks.images = ans;
            checks.n_images = out.decision.n_targets;
            checks.production_namespace = a;
            checks.namespace_reason = a == CHECK_FAILED ? "API unreachable" : NULL;
            checks.namespace_terminating = a == CHECK_PRESENT;
            admission_response_t out2;
            FUZZ_CHECK(admission_respond(cfg, rv, &checks, &out2));
            admission_response_free(&out2);
        }
    }
    admission_response_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    review_t rv;
    char why[256];
    why[0] = '\0';
    if (!admission_parse(s, size, &rv, why, sizeof why)) {
        FUZZ_CHECK(why[0] != '\0');
        free(s);
        return 0;
    }
    for (size_t i = 0; i < NCFG; i++)
        one(policies[i], &rv);
    review_free(&rv);
    free(s);
    return 0;
}
