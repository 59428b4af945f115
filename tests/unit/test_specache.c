/* Unit tests: the cache of parsed ImageSpec annotations (specache.c): a
 * miss and a hit both answer exactly what imagespec_parse answers (specs,
 * refusals and their reasons), the least recently used entry goes first,
 * the bounds on entries and bytes hold, even against many distinct large
 * annotations, and an annotation too long to keep is read every time.
 * Also: decide() with a cache decides as it does without one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "decide.h"
#include "imagespec.h"
#include "policy.h"
#include "specache.h"
#include "testutil.h"

/* Good and bad annotations: every field the decision reads, every kind of refusal. */
static const char *const TEXTS[] = {
    "{\"name\":\"hello\",\"builder\":\"union\"}",
    "[{\"name\":\"A\",\"builder\":\"unionai\",\"registry\":\"https://Quay.io/x\","
    "\"builder_options\":{\"imagepull_secret_name\":\"s1\"}},"
    "{\"name\":\"b\",\"builder\":\"envd\",\"python_version\":\"3.11\"},{\"builder\":null}]",
    " {\"name\":\"x\",\"builder\":\"union\",\"packages\":[\"a\",\"b\"]} \n",
    "{\"name\":\"x\",\"builder\":\"union\"",
    "{\"name\":\"x\",\"name\":\"y\",\"builder\":\"union\"}",
    "{\"builder\":\"union\"}",
    "[]",
    "{\"name\":\"x:1\",\"builder\":\"union\"}",
    "{\"name\":\"x\",\"builder\":\"union\",\"registry\":\"bad host/\"}",
    "{\"name\":\"a\\u0000b\",\"builder\":\"union\"}",
    "[{\"name\":\"ok\",\"builder\":\"union\"},3]",
};
#define N_TEXTS (sizeof TEXTS / sizeof TEXTS[0])

static void str_same(const char *a, const char *b)
{
    if (!a || !b)
        ck_assert_ptr_eq(a, b);
    else
        ck_assert_str_eq(a, b);
}

/* `got` (from the cache) is what `want` (from imagespec_parse) is. */
static void same_list(const imagespec_list_t *got, const imagespec_list_t *want)
{
    ck_assert_uint_eq(got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const imagespec_t *g = &got->specs[i], *w = &want->specs[i];
        ck_assert_uint_eq(g->text_len, w->text_len);
        ck_assert(memcmp(g->text, w->text, w->text_len) == 0);
        str_same(g->name, w->name);
        str_same(g->builder, w->builder);
        str_same(g->pull_secret, w->pull_secret);
        str_same(g->given_name, w->given_name);
        ck_assert_int_eq(g->is_union, w->is_union);
        ck_assert_int_eq(g->has_registry, w->has_registry);
        ck_assert_int_eq(g->scheme_stripped, w->scheme_stripped);
        ck_assert_str_eq(g->registry, w->registry);
    }
}

/* The cache answers `text` as imagespec_parse does, with a why of `whysz`. */
static void answers_as_parse(specache_t *c, const char *text, size_t whysz)
{
    char want_why[512] = "", got_why[512] = "";
    imagespec_list_t want, got;
    size_t len = strlen(text);
    bool want_ok = imagespec_parse(text, len, &want, want_why, whysz);
    /* the caller's copy is overwritten: the entry must not point into it */
    char *copy = strdup(text);
    ck_assert_ptr_nonnull(copy);
    bool got_ok = specache_parse(c, copy, len, &got, got_why, whysz);
    memset(copy, '#', len);
    free(copy);
    ck_assert_int_eq(got_ok, want_ok);
    ck_assert_str_eq(got_why, want_why);
    if (want_ok)
        same_list(&got, &want);
    imagespec_list_free(&got);
    imagespec_list_free(&want);
}

START_TEST(hits_and_misses_answer_as_parse)
{
    specache_t *c = specache_new(64, 1 << 20, 4096);
    ck_assert_ptr_nonnull(c);
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < N_TEXTS; i++)
            answers_as_parse(c, TEXTS[i], round == 2 ? 24 : 512);
    specache_stats_t st;
    specache_stats(c, &st);
    ck_assert_uint_eq(st.misses, N_TEXTS);
    ck_assert_uint_eq(st.hits, 2 * N_TEXTS);
    ck_assert_uint_eq(st.entries, N_TEXTS);
    /* a kept list is lent: the specs are the cache's */
    imagespec_list_t l;
    char why[64];
    ck_assert(specache_parse(c, TEXTS[0], strlen(TEXTS[0]), &l, why, sizeof why));
    ck_assert(l.borrowed);
    ck_assert_ptr_null(l.root);
    ck_assert_ptr_ne(l.specs[0].text, TEXTS[0]);
    imagespec_list_free(&l);
    ck_assert_ptr_null(l.specs);
    specache_free(c);
}
END_TEST

static void lookup(specache_t *c, const char *text)
{
    imagespec_list_t l;
    char why[128];
    (void)specache_parse(c, text, strlen(text), &l, why, sizeof why);
    imagespec_list_free(&l);
}

START_TEST(least_recently_used_goes_first)
{
    specache_t *c = specache_new(2, 1 << 20, 4096);
    ck_assert_ptr_nonnull(c);
    specache_stats_t st;
    lookup(c, TEXTS[0]); /* miss */
    lookup(c, TEXTS[1]); /* miss */
    lookup(c, TEXTS[0]); /* hit: 1 is now the oldest */
    lookup(c, TEXTS[2]); /* miss: evicts 1 */
    specache_stats(c, &st);
    ck_assert_uint_eq(st.entries, 2);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 3);
    lookup(c, TEXTS[0]); /* still there */
    lookup(c, TEXTS[2]); /* still there */
    specache_stats(c, &st);
    ck_assert_uint_eq(st.hits, 3);
    lookup(c, TEXTS[1]); /* gone: a miss */
    specache_stats(c, &st);
    ck_assert_uint_eq(st.misses, 4);
    ck_assert_uint_eq(st.entries, 2);
    specache_free(c);
}
END_TEST

/* A distinct annotation of about `size` bytes: one spec, a long field. */
static char *annotation(size_t i, size_t size)
{
    buf_t b = BUF_INIT;
    buf_printf(&b, "{\"name\":\"img%zu\",\"builder\":\"union\",\"pad\":\"", i);
    while (b.len + 2 < size)
        buf_putc(&b, 'a' + (char)(i % 26));
    buf_puts(&b, "\"}");
    ck_assert(!b.oom);
    return buf_steal(&b);
}

START_TEST(bounds_hold_against_many_large_annotations)
{
    /* the server's bounds, and a tenant sending hundreds of distinct
     * annotations just under and over the largest kept */
    specache_t *c = specache_new(SPECACHE_MAX_ENTRIES, SPECACHE_MAX_BYTES, SPECACHE_MAX_TEXT);
    ck_assert_ptr_nonnull(c);
    specache_stats_t st;
    for (size_t i = 0; i < 600; i++) {
        char *t = annotation(i, i % 3 == 2 ? SPECACHE_MAX_TEXT + 100 : SPECACHE_MAX_TEXT - 10);
        imagespec_list_t l;
        char why[128];
        ck_assert(specache_parse(c, t, strlen(t), &l, why, sizeof why));
        /* too long to keep: read and handed over, not lent */
        ck_assert_int_eq(l.borrowed, strlen(t) <= SPECACHE_MAX_TEXT);
        ck_assert_uint_eq(l.n, 1);
        imagespec_list_free(&l);
        free(t);
        specache_stats(c, &st);
        ck_assert_uint_le(st.bytes, SPECACHE_MAX_BYTES);
        ck_assert_uint_le(st.entries, SPECACHE_MAX_ENTRIES);
    }
    ck_assert_uint_eq(st.hits, 0);
    ck_assert_uint_gt(st.entries, 0);
    specache_free(c);

    /* a small byte bound: entries go to make room; an entry larger than
     * the whole bound is not kept */
    c = specache_new(100, 4096, 4000);
    ck_assert_ptr_nonnull(c);
    for (size_t i = 0; i < 200; i++) {
        char *t = annotation(i, 100 + (i * 37) % 3900);
        lookup(c, t);
        free(t);
        specache_stats(c, &st);
        ck_assert_uint_le(st.bytes, 4096);
        ck_assert_uint_le(st.entries, 100);
    }
    specache_free(c);
    ck_assert_ptr_null(specache_new(0, 1, 1));
    specache_free(NULL);
}
END_TEST

/* Pods decided with a cache (first a miss, then a hit) and without one:
 * the same answer byte for byte. */
START_TEST(decide_with_a_cache_decides_the_same)
{
    wh_config_t *cfg = test_config(TEST_LOCAL_YAML);
    policy_t *p = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(p);
    specache_t *c = specache_new(16, 1 << 16, 4096);
    ck_assert_ptr_nonnull(c);
    const char *images[] = {"hello:t1", "a:t2", "x:t3", "hello:t1", "x:t3", "x:t3",
                            "x:t3",     "x:t3", "x:t3", "x:t3",     "ok:t4"};
    _Static_assert(sizeof images / sizeof images[0] == N_TEXTS, "one image per annotation");
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < N_TEXTS; i++) {
            cJSON *pod = cJSON_CreateObject();
            cJSON *md = cJSON_AddObjectToObject(pod, "metadata");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"),
                                    "imagebuilder.union.ai/builder", "union");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "annotations"),
                                    "imagebuilder.union.ai/image-spec", TEXTS[i]);
            cJSON *ct = cJSON_CreateObject();
            cJSON_AddStringToObject(ct, "name", "main");
            cJSON_AddStringToObject(ct, "image", images[i]);
            cJSON_AddItemToArray(
                cJSON_AddArrayToObject(cJSON_AddObjectToObject(pod, "spec"), "containers"), ct);
            decision_t plain, cached;
            ck_assert(decide(p, pod, NULL, &plain));
            ck_assert(decide_with(p, pod, NULL, &(decide_opts_t){.spec_cache = c}, &cached));
            ck_assert_int_eq(cached.outcome, plain.outcome);
            ck_assert_int_eq(cached.code, plain.code);
            str_same(cached.message, plain.message);
            str_same(cached.patch_json, plain.patch_json);
            ck_assert_uint_eq(cached.n_warnings, plain.n_warnings);
            for (size_t k = 0; k < plain.n_warnings; k++)
                ck_assert_str_eq(cached.warnings[k], plain.warnings[k]);
            ck_assert_uint_eq(cached.n_targets, plain.n_targets);
            decision_free(&plain);
            decision_free(&cached);
            cJSON_Delete(pod);
        }
    }
    specache_stats_t st;
    specache_stats(c, &st);
    ck_assert_uint_eq(st.misses, N_TEXTS);
    ck_assert_uint_eq(st.hits, N_TEXTS);
    specache_free(c);
    policy_free(p);
    config_free(cfg);
}
END_TEST

Suite *suite_specache(void)
{
    Suite *s = suite_create("specache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hits_and_misses_answer_as_parse);
    tcase_add_test(tc, least_recently_used_goes_first);
    tcase_add_test(tc, bounds_hold_against_many_large_annotations);
    tcase_add_test(tc, decide_with_a_cache_decides_the_same);
    suite_add_tcase(s, tc);
    return s;
}
