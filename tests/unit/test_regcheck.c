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

Suite *suite_regcheck(void)
{
    Suite *s = suite_create("regcheck");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, target_urls);
    suite_add_tcase(s, tc);
    return s;
}
