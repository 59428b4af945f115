/* Unit tests: the registry check's image -> manifest URL mapping. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regcheck.h"

/* ---- image -> manifest URL ----------------------------------------------------- */

START_TEST(target_urls)
{
    regcheck_target_t t;
    const char *why = NULL;
    char *ins_items[] = {"localhost:5000", "reg.local"};
    strlist_t insecure = {ins_items, 2};

    ck_assert(regcheck_target("ghcr.io/org/app:abc123", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "https://ghcr.io/v2/org/app/manifests/abc123");
    ck_assert_str_eq(t.host, "ghcr.io");
    ck_assert_str_eq(t.repo, "org/app");

    ck_assert(regcheck_target("localhost:5000/union/foo:t1", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "http://localhost:5000/v2/union/foo/manifests/t1");

    ck_assert(regcheck_target("reg.local:8443/a/b:t", &insecure, &t, &why)); /* any port */
    ck_assert_str_eq(t.scheme, "http");
    ck_assert(regcheck_target("localhost:5001/a:t", &insecure, &t, &why)); /* port differs */
    ck_assert_str_eq(t.scheme, "https");

    ck_assert(regcheck_target("nginx:1.25", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "https://registry-1.docker.io/v2/library/nginx/manifests/1.25");
    ck_assert(regcheck_target("docker.io/org/app", &insecure, &t, &why));
    ck_assert_str_eq(t.url, "https://registry-1.docker.io/v2/org/app/manifests/latest");

    const char *dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char img[200];
    snprintf(img, sizeof img, "ghcr.io/org/app:tag@%s", dg);
    ck_assert(regcheck_target(img, NULL, &t, &why));
    ck_assert_str_eq(t.reference, dg); /* digest wins */

    ck_assert(!regcheck_target("ghcr.io/org/Upper:tag", NULL, &t, &why));
    ck_assert_ptr_nonnull(why);
    ck_assert(!regcheck_target("", NULL, &t, &why));
}
END_TEST

/* ---- the few words of a failed challenge --------------------------------------- */

static const char *auth_reason(const char *why, bool timed_out)
{
    static char out[96];
    regcheck_auth_reason(why, "reg.example", timed_out, out, sizeof out);
    return out;
}

START_TEST(auth_reasons)
{
    ck_assert_str_eq(auth_reason("token endpoint answered HTTP 401", false),
                     "registry answered 401 to the token request");
    ck_assert_str_eq(auth_reason("token endpoint answered HTTP 403; aws: no role", false),
                     "registry answered 403 to the token request");
    ck_assert_str_eq(
        auth_reason("token endpoint answered HTTP 401; credential helper: exit 1", false),
        "credential helper failed for reg.example");
    ck_assert_str_eq(auth_reason("registry asks for Basic credentials and none are configured "
                                 "for reg.example",
                                 false),
                     "no credentials for reg.example");
    ck_assert_str_eq(auth_reason("malformed WWW-Authenticate: unterminated quote", false),
                     "unusable challenge from the registry");
    ck_assert_str_eq(auth_reason("unsupported authentication scheme in 'Negotiate'", false),
                     "unusable challenge from the registry");
    ck_assert_str_eq(auth_reason("token endpoint: Failed to connect", false),
                     "token request failed");
    ck_assert_str_eq(auth_reason("token endpoint: Operation timed out", true),
                     "token request timed out");
    ck_assert_str_eq(auth_reason("out of memory", false), "authentication failed");
}
END_TEST

Suite *suite_regcheck(void)
{
    Suite *s = suite_create("regcheck");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, target_urls);
    tcase_add_test(tc, auth_reasons);
    suite_add_tcase(s, tc);
    return s;
}
