/* Unit tests: the repository layout and the target image reference
 * (target.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static strview_t sv(const char *s)
{
    return (strview_t){s, strlen(s)};
}

/* target_make() for the container image `image`, expecting `want`. */
static void expect_target(const char *registry, const char *repo, repo_layout_t layout,
                          const char *name, const char *image, const char *want)
{
    imageref_t ref;
    ck_assert_int_eq(imageref_parse(image, strlen(image), &ref), IMAGEREF_OK);
    char *out;
    imageref_err_t e;
    imageref_t parsed, again;
    ck_assert_int_eq(target_make(registry, repo, layout, sv(name), &ref, &out, &parsed, &e),
                     TARGET_OK);
    ck_assert_int_eq(e, IMAGEREF_OK);
    ck_assert_str_eq(out, want);
    /* the target comes parsed, its parts in `out` */
    ck_assert_int_eq(imageref_parse(out, strlen(out), &again), IMAGEREF_OK);
    ck_assert(memcmp(&parsed, &again, sizeof again) == 0);
    free(out);
}

START_TEST(auto_layout_is_tag_only_for_ecr)
{
    ck_assert_int_eq(target_layout(LAYOUT_AUTO, REGISTRY_ECR), LAYOUT_TAG);
    ck_assert_int_eq(target_layout(LAYOUT_AUTO, REGISTRY_GAR), LAYOUT_PATH);
    ck_assert_int_eq(target_layout(LAYOUT_AUTO, REGISTRY_OTHER), LAYOUT_PATH);
    ck_assert_int_eq(target_layout(LAYOUT_PATH, REGISTRY_ECR), LAYOUT_PATH);
    ck_assert_int_eq(target_layout(LAYOUT_TAG, REGISTRY_ACR), LAYOUT_TAG);
}
END_TEST

START_TEST(targets_by_layout)
{
    expect_target(NULL, "localhost:5000/union", LAYOUT_PATH, "team/hello", "team/hello:abc",
                  "localhost:5000/union/team/hello:abc");
    expect_target(NULL, "1.dkr.ecr.us-east-2.amazonaws.com/union", LAYOUT_TAG, "team/hello",
                  "cr.union.ai/team/hello:abc",
                  "1.dkr.ecr.us-east-2.amazonaws.com/union:team-hello-abc");
    /* a registry of its own ignores the layout and the repository */
    expect_target("ghcr.io/acme", "r.io/x", LAYOUT_TAG, "hello", "hello:abc",
                  "ghcr.io/acme/hello:abc");
    /* the digest stays */
    expect_target(NULL, "r.io/x", LAYOUT_PATH, "hello", "hello:abc@" DIGEST,
                  "r.io/x/hello:abc@" DIGEST);
    expect_target(NULL, "r.io/x", LAYOUT_TAG, "hello", "hello:abc@" DIGEST,
                  "r.io/x:hello-abc@" DIGEST);
}
END_TEST

START_TEST(invalid_target_is_returned_with_its_reason)
{
    char name[120];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char image[160];
    snprintf(image, sizeof image, "%s:0123456789", name);
    imageref_t ref;
    ck_assert_int_eq(imageref_parse(image, strlen(image), &ref), IMAGEREF_OK);
    char *out;
    imageref_err_t e;
    /* tag layout: the name goes into the tag, which passes 128 characters */
    ck_assert_int_eq(target_make(NULL, "r.io/x", LAYOUT_TAG, sv(name), &ref, &out, NULL, &e),
                     TARGET_INVALID);
    ck_assert_int_eq(e, IMAGEREF_BAD_TAG);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(strlen(out), strlen("r.io/x:") + sizeof name - 1 + strlen("-0123456789"));
    free(out);
    /* path layout: the same name fits */
    ck_assert_int_eq(target_make(NULL, "r.io/x", LAYOUT_PATH, sv(name), &ref, &out, NULL, &e),
                     TARGET_OK);
    free(out);
    /* a repository that makes the name too long */
    char repo[200];
    memset(repo, 'r', sizeof repo - 1);
    memcpy(repo, "r.io/", 5);
    repo[sizeof repo - 1] = '\0';
    ck_assert_int_eq(target_make(NULL, repo, LAYOUT_PATH, sv(name), &ref, &out, NULL, &e),
                     TARGET_INVALID);
    ck_assert_int_eq(e, IMAGEREF_NAME_TOO_LONG);
    free(out);
}
END_TEST

Suite *suite_target(void)
{
    Suite *s = suite_create("target");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, auto_layout_is_tag_only_for_ecr);
    tcase_add_test(tc, targets_by_layout);
    tcase_add_test(tc, invalid_target_is_returned_with_its_reason);
    suite_add_tcase(s, tc);
    return s;
}
