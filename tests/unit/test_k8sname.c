/* Tests for k8sname: DNS labels and subdomains, resource names and
 * quantities, at their edges (lengths, first and last characters,
 * suffixes and exponents). */
#include <check.h>
#include <string.h>

#include "k8sname.h"

#define LABEL(s)  k8s_dns_label((s), strlen(s))
#define SUBDOM(s) k8s_dns_subdomain((s), strlen(s))
#define RNAME(s)  k8s_resource_name((s), strlen(s))
#define QTY(s)    k8s_quantity((s), strlen(s))

START_TEST(dns_labels)
{
    ck_assert(LABEL("a"));
    ck_assert(LABEL("system-production"));
    ck_assert(LABEL("0abc9"));
    ck_assert(!LABEL(""));
    ck_assert(!LABEL("-a"));
    ck_assert(!LABEL("a-"));
    ck_assert(!LABEL("Prod"));
    ck_assert(!LABEL("a.b"));
    ck_assert(!LABEL("a_b"));
    char s[80];
    memset(s, 'a', sizeof s);
    ck_assert(k8s_dns_label(s, 63));
    ck_assert(!k8s_dns_label(s, 64));
}
END_TEST

START_TEST(dns_subdomains)
{
    ck_assert(SUBDOM("build-image-config"));
    ck_assert(SUBDOM("a.b-c.d"));
    ck_assert(!SUBDOM(""));
    ck_assert(!SUBDOM("a..b"));
    ck_assert(!SUBDOM(".a"));
    ck_assert(!SUBDOM("a."));
    ck_assert(!SUBDOM("a.-b"));
    ck_assert(!SUBDOM("A.b"));
    char s[260];
    memset(s, 'a', sizeof s);
    for (size_t i = 50; i < sizeof s; i += 51)
        s[i] = '.';
    ck_assert(k8s_dns_subdomain(s, 253));
    ck_assert(!k8s_dns_subdomain(s, 254));
}
END_TEST

START_TEST(resource_names)
{
    ck_assert(RNAME("cpu"));
    ck_assert(RNAME("ephemeral-storage"));
    ck_assert(RNAME("example.com/gpu"));
    ck_assert(RNAME("hugepages_2Mi"));
    ck_assert(!RNAME(""));
    ck_assert(!RNAME("cpu count"));
    ck_assert(!RNAME("gpu:1"));
    char s[260];
    memset(s, 'a', sizeof s);
    ck_assert(k8s_resource_name(s, 253));
    ck_assert(!k8s_resource_name(s, 254));
}
END_TEST

START_TEST(quantities)
{
    static const char *const good[] = {"1",   "500m", "2",    "1.5",  ".5",   "+1", "512Mi",
                                       "4Gi", "1Ki",  "1Ei",  "3n",   "100u", "1k", "1E",
                                       "1e3", "1E3",  "1e+3", "1e-3", "0"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(QTY(good[i]), "%s refused", good[i]);
    static const char *const bad[] = {"",    "m",  "-1",  "1.5.5", "1mi", "1KB",  "1 Gi", "1e",
                                      "1e+", "Gi", "1iB", "1Mii",  ".",   "1.m5", "1e3m", "two"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!QTY(bad[i]), "%s accepted", bad[i]);
}
END_TEST

Suite *suite_k8sname(void)
{
    Suite *s = suite_create("k8sname");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, dns_labels);
    tcase_add_test(tc, dns_subdomains);
    tcase_add_test(tc, resource_names);
    tcase_add_test(tc, quantities);
    suite_add_tcase(s, tc);
    return s;
}
