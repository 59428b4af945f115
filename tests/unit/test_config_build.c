/* Tests for config_build: imageBuilder.buildImage.securityContext (the
 * restricted default, every known field, replacing the default whole, each
 * error with its line and column) and the build container carrying it;
 * buildImage.resources keys given twice. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "config.h"
#include "inject.h"

#define RESTRICTED                                                                                 \
    "{\"runAsNonRoot\":true,\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":["       \
    "\"ALL\"]},\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}"

static wh_config_t *load(const char *yaml, config_errors_t *errs)
{
    return config_load_buffer("config.yaml", yaml, strlen(yaml), errs);
}

static char *errors_text(const config_errors_t *errs)
{
    buf_t out = BUF_INIT;
    ck_assert(config_errors_format(errs, &out));
    char *s = buf_steal(&out);
    return s ? s : strdup("");
}

/* The securityContext the YAML gives, as compact JSON (caller frees). */
static char *sc_of(const char *yaml)
{
    config_errors_t errs = {0};
    wh_config_t *c = load(yaml, &errs);
    char *all = errors_text(&errs);
    ck_assert_msg(c != NULL, "unexpected errors for:\n%s\n%s", yaml, all);
    free(all);
    config_errors_free(&errs);
    const cJSON *sc = c->policy.build_image.security_context;
    char *s = sc ? cJSON_PrintUnformatted(sc) : strdup("(none)");
    config_free(c);
    return s;
}

static void expect_sc(const char *yaml, const char *want)
{
    char *got = sc_of(yaml);
    ck_assert_str_eq(got, want);
    free(got);
}

/* Loading fails with exactly one error, at line:col, containing `text`. */
static void expect_error(const char *yaml, size_t line, size_t col, const char *text)
{
    config_errors_t errs = {0};
    wh_config_t *c = load(yaml, &errs);
    char *all = errors_text(&errs);
    ck_assert_msg(c == NULL, "loaded, expected %zu:%zu %s\n%s", line, col, text, yaml);
    ck_assert_msg(errs.n == 1 && errs.items[0].line == line && errs.items[0].col == col &&
                      strstr(errs.items[0].msg, text),
                  "expected one error %zu:%zu '%s' for\n%s\ngot:\n%s", line, col, text, yaml, all);
    free(all);
    config_errors_free(&errs);
}

#define SC_YAML(body) "imageBuilder:\n  buildImage:\n    securityContext:\n" body

START_TEST(security_context_default_is_restricted)
{
    wh_config_t *c = config_defaults();
    ck_assert_ptr_nonnull(c);
    char *s = cJSON_PrintUnformatted(c->policy.build_image.security_context);
    ck_assert_str_eq(s, RESTRICTED);
    free(s);
    config_free(c);
    /* an empty file, a buildImage without it, or a null value keep the default */
    expect_sc("imageBuilder: {}\n", RESTRICTED);
    expect_sc("imageBuilder:\n  buildImage:\n    image: busybox\n", RESTRICTED);
    expect_sc(SC_YAML(""), RESTRICTED);
}
END_TEST

START_TEST(security_context_every_field)
{
    expect_sc(SC_YAML("      allowPrivilegeEscalation: false\n"
                      "      appArmorProfile: {type: Localhost, localhostProfile: k8s-build}\n"
                      "      capabilities: {add: [NET_BIND_SERVICE], drop: [ALL]}\n"
                      "      privileged: false\n"
                      "      procMount: Default\n"
                      "      readOnlyRootFilesystem: true\n"
                      "      runAsGroup: 3000\n"
                      "      runAsNonRoot: true\n"
                      "      runAsUser: 2147483647\n"
                      "      seLinuxOptions: {level: \"s0:c123,c456\", role: r, type: t, user: u}\n"
                      "      seccompProfile: {type: Localhost, localhostProfile: profiles/b.json}\n"
                      "      windowsOptions: {gmsaCredentialSpec: x, gmsaCredentialSpecName: y,\n"
                      "                       hostProcess: false, runAsUserName: ContainerUser}\n"),
              "{\"allowPrivilegeEscalation\":false,\"appArmorProfile\":{\"type\":\"Localhost\","
              "\"localhostProfile\":\"k8s-build\"},\"capabilities\":{\"add\":[\"NET_BIND_"
              "SERVICE\"],\"drop\":[\"ALL\"]},\"privileged\":false,\"procMount\":\"Default\","
              "\"readOnlyRootFilesystem\":true,\"runAsGroup\":3000,\"runAsNonRoot\":true,"
              "\"runAsUser\":2147483647,\"seLinuxOptions\":{\"level\":\"s0:c123,c456\","
              "\"role\":\"r\",\"type\":\"t\",\"user\":\"u\"},\"seccompProfile\":{\"type\":"
              "\"Localhost\",\"localhostProfile\":\"profiles/b.json\"},\"windowsOptions\":{"
              "\"gmsaCredentialSpec\":\"x\",\"gmsaCredentialSpecName\":\"y\",\"hostProcess\":"
              "false,\"runAsUserName\":\"ContainerUser\"}}");
}
END_TEST

START_TEST(security_context_replaces_the_default_whole)
{
    expect_sc(SC_YAML("      runAsUser: 1001\n"), "{\"runAsUser\":1001}");
    expect_sc(SC_YAML("      {}\n"), "{}");
    /* null values inside are left out, as elsewhere */
    expect_sc(SC_YAML("      runAsUser: 0\n      runAsNonRoot:\n      capabilities:\n"),
              "{\"runAsUser\":0}");
    expect_sc(SC_YAML("      capabilities: {drop: []}\n"), "{\"capabilities\":{\"drop\":[]}}");
    expect_sc(SC_YAML("      seccompProfile: {type: Unconfined}\n      privileged: true\n"),
              "{\"seccompProfile\":{\"type\":\"Unconfined\"},\"privileged\":true}");
}
END_TEST

START_TEST(security_context_unknown_keys_and_types)
{
    expect_error(SC_YAML("      runAsUsr: 1000\n"), 4, 7,
                 "imageBuilder.buildImage.securityContext: unknown key \"runAsUsr\"; did you "
                 "mean runAsUser?");
    expect_error(SC_YAML("      fsGroup: 1000\n"), 4, 7,
                 "unknown key \"fsGroup\"; the keys allowed here are: allowPrivilegeEscalation, "
                 "appArmorProfile, capabilities, privileged, procMount, readOnlyRootFilesystem, "
                 "runAsGroup, runAsNonRoot, runAsUser, seLinuxOptions, seccompProfile, "
                 "windowsOptions");
    expect_error(SC_YAML("      capabilities:\n        drops: [ALL]\n"), 5, 9,
                 "imageBuilder.buildImage.securityContext.capabilities: unknown key \"drops\"; "
                 "did you mean drop?");
    expect_error(SC_YAML("      seccompProfile: {type: RuntimeDefault, profile: x}\n"), 4, 46,
                 "seccompProfile: unknown key \"profile\"");
    expect_error(SC_YAML("      seLinuxOptions: {lvl: s0}\n"), 4, 24,
                 "seLinuxOptions: unknown key \"lvl\"; did you mean level?");
    expect_error(SC_YAML("      runAsNonRoot: \"true\"\n"), 4, 21,
                 "securityContext.runAsNonRoot: expected true or false, got \"true\" (write it "
                 "without quotes)");
    expect_error(SC_YAML("      runAsUser: -1\n"), 4, 18,
                 "securityContext.runAsUser: -1 is out of range; use a number from 0 to "
                 "2147483647");
    expect_error(SC_YAML("      runAsGroup: 2147483648\n"), 4, 19, "is out of range");
    expect_error(SC_YAML("      runAsUser: \"1000\"\n"), 4, 18,
                 "securityContext.runAsUser: expected a whole number");
    expect_error(SC_YAML("      procMount: Masked\n"), 4, 18,
                 "securityContext.procMount: \"Masked\" is not one of Default, Unmasked");
    expect_error(SC_YAML("      seccompProfile: {type: runtime/default}\n"), 4, 30,
                 "securityContext.seccompProfile.type: \"runtime/default\" is not one of "
                 "RuntimeDefault, Localhost, Unconfined");
    expect_error(SC_YAML("      capabilities: {drop: ALL}\n"), 4, 28,
                 "securityContext.capabilities.drop: expected a list of strings");
    expect_error(SC_YAML("      capabilities: {drop: [1]}\n"), 4, 29,
                 "securityContext.capabilities.drop[0]: expected a string");
    expect_error(SC_YAML("      capabilities: [ALL]\n"), 4, 21,
                 "securityContext.capabilities: expected a map of settings");
    expect_error(SC_YAML("      true\n"), 4, 7,
                 "imageBuilder.buildImage.securityContext: expected a map of settings");
    expect_error(SC_YAML("      runAsUser: 1\n      runAsUser: 2\n"), 5, 7,
                 "imageBuilder.buildImage.securityContext.runAsUser is set twice (first at line "
                 "4)");
    expect_error("x: &u 1000\n" SC_YAML("      runAsUser: *u\n"), 5, 18,
                 "securityContext.runAsUser: YAML aliases are not supported here");
    expect_error(SC_YAML("      <<: {runAsUser: 1}\n"), 4, 7, "YAML merge keys (<<)");
}
END_TEST

START_TEST(security_context_rules_across_fields)
{
    expect_error(SC_YAML("      seccompProfile: {type: Localhost}\n"), 4, 7,
                 "securityContext.seccompProfile: type Localhost needs localhostProfile");
    expect_error(SC_YAML("      appArmorProfile:\n        type: RuntimeDefault\n"
                         "        localhostProfile: p\n"),
                 6, 9,
                 "securityContext.appArmorProfile.localhostProfile: only type Localhost takes a "
                 "profile file");
    expect_error(SC_YAML("      seccompProfile: {}\n"), 4, 7,
                 "securityContext.seccompProfile: type is required");
    expect_error(SC_YAML("      allowPrivilegeEscalation: false\n      privileged: true\n"), 5, 7,
                 "privileged: true cannot go with allowPrivilegeEscalation: false");
    expect_error(SC_YAML("      allowPrivilegeEscalation: false\n"
                         "      capabilities: {add: [CAP_SYS_ADMIN]}\n"),
                 5, 7, "capabilities.add CAP_SYS_ADMIN cannot go with allowPrivilegeEscalation");
    expect_error(SC_YAML("      runAsNonRoot: true\n      runAsUser: 0\n"), 5, 7,
                 "runAsUser 0 is root, and runAsNonRoot: true stops such a container");
    /* each alone is fine */
    expect_sc(SC_YAML("      privileged: true\n      capabilities: {add: [CAP_SYS_ADMIN]}\n"),
              "{\"privileged\":true,\"capabilities\":{\"add\":[\"CAP_SYS_ADMIN\"]}}");
}
END_TEST

START_TEST(resources_keys_set_twice)
{
    expect_error("imageBuilder:\n  buildImage:\n    resources:\n      limits: {cpu: 1}\n"
                 "      limits: {cpu: 2}\n",
                 5, 7, "imageBuilder.buildImage.resources.limits is set twice (first at line 4)");
    expect_error("imageBuilder:\n  buildImage:\n    resources:\n      limits: {cpu: 1, cpu: 2}\n",
                 4, 24, "imageBuilder.buildImage.resources.limits.cpu is set twice");
}
END_TEST

/* The build container carries the configured securityContext, or the default. */
START_TEST(build_container_carries_it)
{
    const char *yamls[] = {"imageBuilder: {}\n",
                           SC_YAML("      runAsUser: 1001\n      runAsNonRoot: true\n")};
    const char *want[] = {"\"securityContext\":" RESTRICTED,
                          "\"securityContext\":{\"runAsUser\":1001,\"runAsNonRoot\":true}"};
    for (size_t i = 0; i < 2; i++) {
        config_errors_t errs = {0};
        wh_config_t *c = load(yamls[i], &errs);
        ck_assert_ptr_nonnull(c);
        inject_t *inj = inject_prepare(&c->policy);
        ck_assert_ptr_nonnull(inj);
        const char *spec = "{}";
        buf_t raw = BUF_INIT;
        ck_assert(inject_container(inj, &raw, "build-image", spec, strlen(spec),
                                   "registry.example.com/x:1", NULL));
        ck_assert_msg(strstr(raw.data, want[i]), "%s", raw.data);
        cJSON *parsed = cJSON_Parse(raw.data);
        ck_assert_ptr_nonnull(parsed);
        cJSON_Delete(parsed);
        buf_free(&raw);
        inject_free(inj);
        config_free(c);
    }
}
END_TEST

Suite *suite_config_build(void)
{
    Suite *s = suite_create("config_build");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, security_context_default_is_restricted);
    tcase_add_test(tc, security_context_every_field);
    tcase_add_test(tc, security_context_replaces_the_default_whole);
    tcase_add_test(tc, security_context_unknown_keys_and_types);
    tcase_add_test(tc, security_context_rules_across_fields);
    tcase_add_test(tc, resources_keys_set_twice);
    tcase_add_test(tc, build_container_carries_it);
    suite_add_tcase(s, tc);
    return s;
}
