/* Unit tests: the per-request JSON arena. */
#include <check.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admission.h"
#include "jsonarena.h"
#include "testutil.h"

START_TEST(trees_inside_come_and_go_with_the_arena)
{
    jsonarena_install();
    /* outside: ordinary heap memory, freed normally */
    cJSON *outside = cJSON_Parse("{\"keep\":[1,2,3]}");
    ck_assert_ptr_nonnull(outside);
    for (int round = 0; round < 3; round++) {
        jsonarena_begin();
        cJSON *big = cJSON_CreateArray();
        for (int i = 0; i < 20000; i++) /* more than one chunk */
            ck_assert(cJSON_AddItemToArray(big, cJSON_CreateString("a string of some length")));
        char *printed = cJSON_PrintUnformatted(big);
        ck_assert_ptr_nonnull(printed);
        ck_assert_int_eq(printed[0], '[');
        cJSON_free(printed);
        cJSON_Delete(big);
        /* freeing a heap tree while the arena is on still frees it */
        cJSON *heap_inside = cJSON_GetObjectItem(outside, "keep");
        ck_assert_int_eq(cJSON_GetArraySize(heap_inside), 3);
        jsonarena_end();
    }
    char *s = cJSON_PrintUnformatted(outside);
    ck_assert_str_eq(s, "{\"keep\":[1,2,3]}");
    cJSON_free(s);
    cJSON_Delete(outside);
    jsonarena_release();
}
END_TEST

START_TEST(allocations_are_aligned_distinct_and_any_size)
{
    jsonarena_install();
    for (int round = 0; round < 2; round++) {
        jsonarena_begin();
        static const size_t sizes[] = {1, 0, 17, 16, 300000, 5, 128 * 1024, 3};
        char *p[sizeof sizes / sizeof sizes[0]];
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            p[i] = cJSON_malloc(sizes[i]);
            ck_assert_ptr_nonnull(p[i]);
            ck_assert_uint_eq((uintptr_t)p[i] % 16, 0);
            memset(p[i], (int)i, sizes[i]);
        }
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            for (size_t j = 0; j < sizes[i]; j++)
                ck_assert_int_eq(p[i][j], (char)i); /* nothing overlaps */
            cJSON_free(p[i]);                       /* a no-op in the arena */
        }
        jsonarena_end();
    }
    /* outside: plain heap memory again */
    char *q = cJSON_malloc(10);
    ck_assert_ptr_nonnull(q);
    memcpy(q, "123456789", 10);
    cJSON_free(q);
    jsonarena_release();
}
END_TEST

/* A review of a pod with `image`, answered in the arena and let go with the
 * drop variants (as the server does): returns the outcome. */
static outcome_t answer_in_arena(const policy_t *p, const char *image)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
             "\"uid\":\"u-1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
             "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"
             "\"operation\":\"CREATE\",\"object\":{\"metadata\":{\"name\":\"p\",\"namespace\":"
             "\"ns\",\"labels\":{\"imagebuilder.union.ai/builder\":\"union\"},\"annotations\":{"
             "\"imagebuilder.union.ai/image-spec\":\"{\\\"name\\\":\\\"hello\\\",\\\"builder\\\":"
             "\\\"union\\\"}\"}},\"spec\":{\"containers\":[{\"name\":\"m\",\"image\":\"%s\"}]}}}}",
             image);
    char why[128] = "";
    review_t rv;
    admission_response_t resp;
    jsonarena_begin();
    ck_assert_msg(admission_parse(body, strlen(body), &rv, why, sizeof why), "%s", why);
    wh_checks_t none = {0};
    ck_assert(admission_respond(p, &rv, &none, &resp));
    outcome_t o = resp.decision.outcome;
    admission_response_free(&resp);
    review_drop(&rv);
    jsonarena_end();
    return o;
}

START_TEST(dropped_answers_leave_nothing_behind)
{
    jsonarena_install();
    wh_config_t *cfg = test_config(TEST_LOCAL_YAML);
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    /* A mutation (targets, reasons, patch, audit) and a denial (message).
     * The first rounds make the chunk the arena keeps and fill malloc's
     * caches of freed blocks (counted as in use); after them, every round
     * gives back all it takes: what is not in the arena (the decision's
     * strings) is freed. */
    size_t before = 0;
    for (int i = 0; i < 40; i++) {
        if (i == 8)
            before = mallinfo2().uordblks;
        ck_assert_int_eq(answer_in_arena(p, "hello:abc"), OUTCOME_MUTATED);
        ck_assert_int_eq(answer_in_arena(p, "python:3"), OUTCOME_DENIED);
    }
    ck_assert_uint_eq(mallinfo2().uordblks, before);
    policy_free(p);
    config_free(cfg);
    jsonarena_release();
}
END_TEST

Suite *suite_jsonarena(void)
{
    Suite *s = suite_create("jsonarena");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, trees_inside_come_and_go_with_the_arena);
    tcase_add_test(tc, allocations_are_aligned_distinct_and_any_size);
    tcase_add_test(tc, dropped_answers_leave_nothing_behind);
    suite_add_tcase(s, tc);
    return s;
}
