/* Tests for registry: cloud registry classification (every ECR partition,
 * GCR, Artifact Registry, ACR, look-alikes) and the authenticationType
 * reach matrix. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

typedef struct {
    const char *host;
    const char *path;
    registry_kind_t kind;
    const char *account; /* ECR */
    const char *region;  /* ECR region, GAR location */
    const char *project; /* GCR/GAR */
    const char *acr;     /* ACR name */
    bool fips;
} classify_case_t;

#define OTHER(h)                                                                                   \
    {                                                                                              \
        h, "", REGISTRY_OTHER, "", "", "", "", false                                               \
    }
#define ECR(h, acct, reg, fips)                                                                    \
    {                                                                                              \
        h, "repo", REGISTRY_ECR, acct, reg, "", "", fips                                           \
    }

static const classify_case_t classify_cases[] = {
    /* ECR: the credential provider's test hosts, every partition suffix. */
    ECR("123456789123.dkr.ecr.us-west-2.amazonaws.com", "123456789123", "us-west-2", false),
    ECR("123456789123.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789123", "cn-north-1", false),
    ECR("123456789123.dkr.ecr.us-gov-east-1.amazonaws.com", "123456789123", "us-gov-east-1", false),
    ECR("123456789123.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789123", "us-iso-east-1", false),
    ECR("123456789123.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789123", "us-isob-east-1",
        false),
    ECR("123456789123.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789123", "eu-isoe-west-1",
        false),
    ECR("123456789123.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "123456789123", "us-isof-south-1",
        false),
    ECR("123456789123.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789123", "eusc-de-east-1",
        false),
    /* Dual-stack and FIPS. */
    ECR("123456789123.dkr-ecr.us-west-2.on.aws", "123456789123", "us-west-2", false),
    ECR("123456789123.dkr-ecr-fips.us-west-2.on.aws", "123456789123", "us-west-2", true),
    ECR("123456789123.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "123456789123", "cn-north-1",
        false),
    ECR("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1",
        true),
    ECR("000000000000.dkr.ecr.us-east-1.amazonaws.com", "000000000000", "us-east-1", false),
    /* Port ignored, case-insensitive, region charset. */
    ECR("123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012", "us-east-1", false),
    ECR("123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM", "123456789012", "us-east-1", false),
    ECR("123456789012.dkr.ecr.a_b-1.amazonaws.com", "123456789012", "a_b-1", false),
    ECR("123456789012.dkr.ecr.9.amazonaws.com", "123456789012", "9", false),
    /* ECR look-alikes. */
    OTHER("1.dkr.ecr.evil.com"),
    OTHER("12345678901.dkr.ecr.us-east-1.amazonaws.com"),
    OTHER("1234567890123.dkr.ecr.us-east-1.amazonaws.com"),
    OTHER("12345678901a.dkr.ecr.us-east-1.amazonaws.com"),
    OTHER("x123456789012.dkr.ecr.us-east-1.amazonaws.com"),
    OTHER("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com"),
    OTHER("123456789012.dkr.ecr.us-east-1.evil.amazonaws.com"),
    OTHER("123456789012.dkr.ecr.us-east-1.amazonaws.co"),
    OTHER("123456789012.dkr.ecr.us-east-1.amazonaws.com."),
    OTHER("123456789012.dkr.ecr.us-east-1.amazonaws.com.cn.evil"),
    OTHER("123456789012.dkr.ecr..amazonaws.com"),
    OTHER("123456789012.dkr.ecr.-us-east-1.amazonaws.com"),
    OTHER("123456789012.dkr.ecr.amazonaws.com"),
    OTHER("123456789012.dkr_ecr.us-east-1.amazonaws.com"),
    OTHER("123456789012.dkr.ecr-fip.us-east-1.amazonaws.com"),
    OTHER("123456789012.dkr.ecr-fipsx.us-east-1.amazonaws.com"),
    OTHER("123456789012.dkr.ecr.fips.us-east-1.amazonaws.com"),
    OTHER("123456789012.ecr.us-east-1.amazonaws.com"),
    OTHER("123456789012.dkr.ecr.us-east-1.on.aws.evil.com"),
    OTHER("123456789012.dkr.ecr.us-east-1"),
    OTHER("123456789012.dkr.ecr"),
    OTHER("123456789012"),
    OTHER("evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com"),
    OTHER("public.ecr.aws"),
    /* Google Container Registry. */
    {"gcr.io", "my-project/img", REGISTRY_GCR, "", "", "my-project", "", false},
    {"us.gcr.io", "p1/a/b", REGISTRY_GCR, "", "", "p1", "", false},
    {"eu.gcr.io:443", "p2", REGISTRY_GCR, "", "", "p2", "", false},
    {"ASIA.GCR.IO", "p3/x", REGISTRY_GCR, "", "", "p3", "", false},
    {"gcr.io", "", REGISTRY_GCR, "", "", "", "", false},
    OTHER("evilgcr.io"),
    OTHER("gcr.io.evil.com"),
    OTHER("a.b.gcr.io"),
    OTHER(".gcr.io"),
    OTHER("gcr.iox"),
    OTHER("gcr.io."),
    /* Artifact Registry. */
    {"us-docker.pkg.dev", "proj/repo/img", REGISTRY_GAR, "", "us", "proj", "", false},
    {"europe-west1-docker.pkg.dev", "p/r", REGISTRY_GAR, "", "europe-west1", "p", "", false},
    {"US-CENTRAL1-DOCKER.PKG.DEV:443", "Proj", REGISTRY_GAR, "", "us-central1", "Proj", "", false},
    OTHER("pkg.dev"),
    OTHER("docker.pkg.dev"),
    OTHER("-docker.pkg.dev"),
    OTHER("us-python.pkg.dev"),
    OTHER("a.us-docker.pkg.dev"),
    OTHER("us-docker.pkg.dev.evil.com"),
    OTHER("us-docker.pkg.devx"),
    /* Azure Container Registry. */
    {"myreg.azurecr.io", "img", REGISTRY_ACR, "", "", "", "myreg", false},
    {"x.azurecr.cn", "", REGISTRY_ACR, "", "", "", "x", false},
    {"x.azurecr.de", "", REGISTRY_ACR, "", "", "", "x", false},
    {"x.azurecr.us", "", REGISTRY_ACR, "", "", "", "x", false},
    {"MyReg.AzureCR.io:443", "", REGISTRY_ACR, "", "", "", "myreg", false},
    OTHER("x.azurecr.io.attacker.com"),
    OTHER("evil.azurecr.io.attacker.com"),
    OTHER("azurecr.io"),
    OTHER(".azurecr.io"),
    OTHER("a.b.azurecr.io"),
    OTHER("x.azurecr.com"),
    OTHER("xazurecr.io"),
    OTHER("x.azurecr.iox"),
    /* Everything else. */
    OTHER("ghcr.io"),
    OTHER("docker.io"),
    OTHER("registry-1.docker.io"),
    OTHER("localhost:5000"),
    OTHER("localhost"),
    OTHER("[::1]:5000"),
    OTHER("127.0.0.1:5000"),
    OTHER("cr.union.ai"),
    OTHER(""),
    OTHER(":443"),
};

START_TEST(test_classify)
{
    const classify_case_t *c = &classify_cases[_i];
    size_t hn = strlen(c->host), pn = strlen(c->path);
    /* Exact-size copies: no terminating NUL to lean on. */
    char *host = malloc(hn ? hn : 1), *path = malloc(pn ? pn : 1);
    ck_assert_ptr_nonnull(host);
    ck_assert_ptr_nonnull(path);
    memcpy(host, c->host, hn);
    memcpy(path, c->path, pn);
    registry_info_t info;
    memset(&info, 0x5a, sizeof info);
    registry_classify(host, hn, path, pn, &info);
    ck_assert_msg(info.kind == c->kind, "'%s': kind %s, want %s", c->host,
                  registry_kind_name(info.kind), registry_kind_name(c->kind));
    ck_assert_str_eq(info.account, c->account);
    ck_assert_str_eq(info.region, c->region);
    ck_assert_str_eq(info.project, c->project);
    ck_assert_str_eq(info.acr_name, c->acr);
    ck_assert(info.fips == c->fips);
    free(host);
    free(path);
}
END_TEST

START_TEST(test_classify_bounds)
{
    registry_info_t info;
    /* A project that does not fit is left empty rather than truncated. */
    char path[100];
    memset(path, 'p', sizeof path);
    registry_classify("gcr.io", 6, path, 63, &info);
    ck_assert_int_eq(info.kind, REGISTRY_GCR);
    ck_assert_uint_eq(strlen(info.project), 63);
    registry_classify("gcr.io", 6, path, 64, &info);
    ck_assert_int_eq(info.kind, REGISTRY_GCR);
    ck_assert_str_eq(info.project, "");
    /* A NULL path is an empty path. */
    registry_classify("us-docker.pkg.dev", 17, NULL, 0, &info);
    ck_assert_int_eq(info.kind, REGISTRY_GAR);
    ck_assert_str_eq(info.project, "");
    /* Host names longer than DNS allows are not cloud registries. */
    char big[400];
    memset(big, 'a', sizeof big);
    memcpy(big + sizeof big - 11, ".azurecr.io", 11);
    registry_classify(big, sizeof big, "", 0, &info);
    ck_assert_int_eq(info.kind, REGISTRY_OTHER);
    /* Only host_n bytes are the host. */
    registry_classify("gcr.io.evil.com", 6, "", 0, &info);
    ck_assert_int_eq(info.kind, REGISTRY_GCR);
    registry_classify(NULL, 0, NULL, 0, &info);
    ck_assert_int_eq(info.kind, REGISTRY_OTHER);
    registry_classify("gcr.io", 6, "", 0, NULL); /* must not crash */
}
END_TEST

/* ---- authenticationType -------------------------------------------------- */

START_TEST(test_auth_type_parse)
{
    static const struct {
        const char *s;
        auth_type_t t;
    } ok[] = {{"noop", AUTH_NOOP},
              {"google", AUTH_GOOGLE},
              {"aws", AUTH_AWS},
              {"azure", AUTH_AZURE},
              {"basic", AUTH_BASIC}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        auth_type_t t = (auth_type_t)99;
        ck_assert(auth_type_parse(ok[i].s, &t));
        ck_assert_int_eq(t, ok[i].t);
        ck_assert_str_eq(auth_type_name(t), ok[i].s);
    }
    static const char *const bad[] = {"",    "AWS",  "Aws",    "aws ",      " aws", "gcp",
                                      "ecr", "none", "noop\n", "basicauth", "azur"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        auth_type_t t = AUTH_BASIC;
        ck_assert_msg(!auth_type_parse(bad[i], &t), "'%s' accepted", bad[i]);
        ck_assert_int_eq(t, AUTH_BASIC);
    }
    ck_assert(!auth_type_parse(NULL, NULL));
    ck_assert_str_eq(auth_type_name((auth_type_t)42), "unknown");
}
END_TEST

START_TEST(test_auth_reach_matrix)
{
    static const registry_kind_t kinds[] = {REGISTRY_OTHER, REGISTRY_ECR, REGISTRY_GCR,
                                            REGISTRY_GAR, REGISTRY_ACR};
    /* Rows: noop, google, aws, azure, basic (with credentials), basic (without). */
    static const bool want[6][5] = {
        /*            OTHER  ECR    GCR    GAR    ACR */
        /* noop   */ {true, true, true, true, true},
        /* google */ {false, false, true, true, false},
        /* aws    */ {false, true, false, false, false},
        /* azure  */ {false, false, false, false, true},
        /* basic+ */ {true, true, true, true, true},
        /* basic- */ {false, false, false, false, false},
    };
    static const auth_type_t types[6] = {AUTH_NOOP,  AUTH_GOOGLE, AUTH_AWS,
                                         AUTH_AZURE, AUTH_BASIC,  AUTH_BASIC};
    for (size_t r = 0; r < 6; r++) {
        for (size_t k = 0; k < 5; k++) {
            registry_info_t info;
            memset(&info, 0, sizeof info);
            info.kind = kinds[k];
            bool creds = r != 5;
            ck_assert_msg(registry_auth_reaches(types[r], &info, creds) == want[r][k], "%s -> %s",
                          auth_type_name(types[r]), registry_kind_name(kinds[k]));
            /* Credentials only matter to basic. */
            if (types[r] != AUTH_BASIC)
                ck_assert(registry_auth_reaches(types[r], &info, !creds) == want[r][k]);
        }
    }
    ck_assert(registry_auth_reaches(AUTH_NOOP, NULL, false));
    ck_assert(!registry_auth_reaches(AUTH_AWS, NULL, true));
    ck_assert(!registry_auth_reaches((auth_type_t)42, NULL, true));
}
END_TEST

START_TEST(test_auth_reach_real_hosts)
{
    /* End to end: classify, then ask. */
    static const struct {
        const char *host;
        auth_type_t t;
        bool reaches;
    } cases[] = {
        {"123456789012.dkr.ecr.eu-west-1.amazonaws.com", AUTH_AWS, true},
        {"123456789012.dkr.ecr.eu-west-1.amazonaws.com", AUTH_GOOGLE, false},
        {"1.dkr.ecr.evil.com", AUTH_AWS, false},
        {"us-docker.pkg.dev", AUTH_GOOGLE, true},
        {"gcr.io", AUTH_GOOGLE, true},
        {"gcr.io.evil.com", AUTH_GOOGLE, false},
        {"gcr.io", AUTH_AZURE, false},
        {"myreg.azurecr.io", AUTH_AZURE, true},
        {"x.azurecr.io.attacker.com", AUTH_AZURE, false},
        {"ghcr.io", AUTH_NOOP, true},
        {"ghcr.io", AUTH_AWS, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        registry_info_t info;
        registry_classify(cases[i].host, strlen(cases[i].host), "", 0, &info);
        ck_assert_msg(registry_auth_reaches(cases[i].t, &info, false) == cases[i].reaches,
                      "%s with %s", cases[i].host, auth_type_name(cases[i].t));
    }
}
END_TEST

START_TEST(test_names_and_phrases)
{
    const auth_type_t types[] = {AUTH_NOOP, AUTH_GOOGLE, AUTH_AWS, AUTH_AZURE, AUTH_BASIC};
    for (size_t i = 0; i < 5; i++) {
        const char *p = auth_type_reach(types[i]);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_gt(strlen(p), 5);
        for (const char *q = p; *q; q++)
            ck_assert_msg((unsigned char)*q >= 0x20, "control character in '%s'", p);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(p, auth_type_reach(types[j]));
    }
    ck_assert_ptr_nonnull(strstr(auth_type_reach(AUTH_AWS), "Amazon ECR"));
    ck_assert_ptr_nonnull(strstr(auth_type_reach(AUTH_AWS), "dkr.ecr"));
    ck_assert_ptr_nonnull(strstr(auth_type_reach(AUTH_GOOGLE), "gcr.io"));
    ck_assert_ptr_nonnull(strstr(auth_type_reach(AUTH_GOOGLE), "docker.pkg.dev"));
    ck_assert_ptr_nonnull(strstr(auth_type_reach(AUTH_AZURE), "azurecr.io"));
    ck_assert_ptr_nonnull(strstr(auth_type_reach(AUTH_BASIC), "credentials"));

    const registry_kind_t kinds[] = {REGISTRY_OTHER, REGISTRY_ECR, REGISTRY_GCR, REGISTRY_GAR,
                                     REGISTRY_ACR};
    for (size_t i = 0; i < 5; i++) {
        ck_assert_uint_gt(strlen(registry_kind_name(kinds[i])), 3);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(registry_kind_name(kinds[i]), registry_kind_name(kinds[j]));
    }
    ck_assert_str_eq(registry_kind_name(REGISTRY_ECR), "Amazon ECR");
    ck_assert_str_eq(registry_kind_name(REGISTRY_GAR), "Artifact Registry");
}
END_TEST

Suite *suite_registry(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("classify");
    tcase_add_loop_test(tc, test_classify, 0,
                        (int)(sizeof classify_cases / sizeof classify_cases[0]));
    tcase_add_test(tc, test_classify_bounds);
    suite_add_tcase(s, tc);
    TCase *auth = tcase_create("auth");
    tcase_add_test(auth, test_auth_type_parse);
    tcase_add_test(auth, test_auth_reach_matrix);
    tcase_add_test(auth, test_auth_reach_real_hosts);
    tcase_add_test(auth, test_names_and_phrases);
    suite_add_tcase(s, auth);
    return s;
}
