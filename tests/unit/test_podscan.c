/* Unit tests: reading a pod's containers and matching them to ImageSpecs
 * and logical registries (podscan.c). */
#include <check.h>
#include <string.h>

#include "podscan.h"
#include "testutil.h"

static podscan_status_t scan(const char *pod_spec, podscan_t *ps, char *why, size_t whysz,
                             cJSON **keep)
{
    *keep = cJSON_Parse(pod_spec);
    ck_assert_ptr_nonnull(*keep);
    memset(ps, 0, sizeof *ps);
    why[0] = '\0';
    return podscan_read(*keep, ps, why, whysz);
}

static void parse_specs(const char *json, imagespec_list_t *l)
{
    char why[256];
    ck_assert_msg(imagespec_parse(json, strlen(json), l, why, sizeof why), "%s", why);
}

START_TEST(init_containers_come_first)
{
    podscan_t ps;
    cJSON *spec;
    char why[128];
    ck_assert_int_eq(scan("{\"containers\":[{\"name\":\"a\",\"image\":\"x:1\"},{\"image\":null}],"
                          "\"initContainers\":[{\"name\":\"i\",\"image\":\"y:2\"}]}",
                          &ps, why, sizeof why, &spec),
                     PODSCAN_OK);
    ck_assert_uint_eq(ps.n, 3);
    ck_assert(ps.cs[0].init);
    ck_assert_str_eq(ps.cs[0].name, "i");
    ck_assert_uint_eq(ps.cs[0].index, 0);
    ck_assert(!ps.cs[1].init);
    ck_assert_str_eq(ps.cs[1].image, "x:1");
    ck_assert_uint_eq(ps.cs[2].index, 1);
    ck_assert_str_eq(ps.cs[2].name, "");
    ck_assert_ptr_null(ps.cs[2].image);
    for (size_t i = 0; i < ps.n; i++) {
        ck_assert_int_eq(ps.cs[i].spec, PODSCAN_SPEC_NONE);
        ck_assert_ptr_null(ps.cs[i].target);
    }
    ck_assert(podscan_name_taken(&ps, "i"));
    ck_assert(podscan_name_taken(&ps, ""));
    ck_assert(!podscan_name_taken(&ps, "build-image"));
    podscan_free(&ps);
    cJSON_Delete(spec);

    ck_assert_int_eq(scan("{\"containers\":null}", &ps, why, sizeof why, &spec), PODSCAN_OK);
    ck_assert_uint_eq(ps.n, 0);
    podscan_free(&ps);
    cJSON_Delete(spec);
}
END_TEST

START_TEST(malformed_containers_say_which_field)
{
    static const struct {
        const char *spec, *why;
    } cases[] = {
        {"{\"containers\":{}}", "spec.containers must be an array of containers"},
        {"{\"initContainers\":\"x\"}", "spec.initContainers must be an array of containers"},
        {"{\"initContainers\":[{},7]}", "spec.initContainers[1] must be an object"},
        {"{\"containers\":[{\"name\":\"m\",\"image\":5}]}",
         "spec.containers[0].image must be a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        podscan_t ps;
        cJSON *spec;
        char why[128];
        ck_assert_int_eq(scan(cases[i].spec, &ps, why, sizeof why, &spec), PODSCAN_MALFORMED);
        ck_assert_str_eq(why, cases[i].why);
        podscan_free(&ps);
        cJSON_Delete(spec);
    }
}
END_TEST

START_TEST(images_match_specs_and_logical_registries)
{
    imagespec_list_t specs;
    parse_specs("[{\"name\":\"other\",\"builder\":\"envd\"},"
                "{\"name\":\"hello\",\"builder\":\"union\",\"registry\":\"ghcr.io/acme\"},"
                "{\"name\":\"team/tool\",\"builder\":\"unionai\"}]",
                &specs);
    char *logical_items[] = {"cr.union.ai"};
    strlist_t logical = {logical_items, 1};
    podscan_t ps;
    cJSON *spec;
    char why[128];
    ck_assert_int_eq(scan("{\"containers\":["
                          "{\"name\":\"a\",\"image\":\"hello:t1\"},"
                          "{\"name\":\"b\",\"image\":\"ghcr.io/acme/hello:t2@sha256:"
                          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},"
                          "{\"name\":\"c\",\"image\":\"cr.union.ai/team/tool:t3\"},"
                          "{\"name\":\"d\",\"image\":\"cr.union.ai/plain/img:t4\"},"
                          "{\"name\":\"e\",\"image\":\"other:t5\"},"
                          "{\"name\":\"f\",\"image\":\"docker.io/hello:t6\"},"
                          "{\"name\":\"g\",\"image\":\"Not A Ref\"},"
                          "{\"name\":\"h\",\"image\":\"cr.union.ai:t7\"},"
                          "{\"name\":\"i\"}]}",
                          &ps, why, sizeof why, &spec),
                     PODSCAN_OK);
    podscan_match(&ps, &specs, &logical);
    ck_assert_int_eq(ps.cs[0].spec, 1);
    ck_assert_strview_eq(ps.cs[0].ref.tag, "t1");
    ck_assert_int_eq(ps.cs[1].spec, 1);
    ck_assert_strview_eq(ps.cs[1].ref.tag, "t2");
    ck_assert_uint_eq(ps.cs[1].ref.digest.n, 71);
    ck_assert_int_eq(ps.cs[2].spec, 2);
    ck_assert_int_eq(ps.cs[3].spec, PODSCAN_SPEC_LOGICAL);
    ck_assert_strview_eq(ps.cs[3].logical, "plain/img");
    ck_assert_int_eq(ps.cs[4].spec, PODSCAN_SPEC_NONE); /* not a union spec */
    ck_assert_int_eq(ps.cs[5].spec, PODSCAN_SPEC_NONE); /* another registry */
    ck_assert_int_eq(ps.cs[6].spec, PODSCAN_SPEC_NONE); /* not a reference */
    ck_assert_int_eq(ps.cs[7].spec, PODSCAN_SPEC_NONE); /* the logical registry alone */
    ck_assert_int_eq(ps.cs[8].spec, PODSCAN_SPEC_NONE); /* no image */
    podscan_free(&ps);
    cJSON_Delete(spec);
    imagespec_list_free(&specs);
}
END_TEST

START_TEST(first_matching_spec_wins)
{
    imagespec_list_t specs;
    parse_specs("[{\"name\":\"hello\",\"builder\":\"union\",\"registry\":\"r.io/x\"},"
                "{\"name\":\"hello\",\"builder\":\"union\"}]",
                &specs);
    strlist_t none = {NULL, 0};
    podscan_t ps;
    cJSON *spec;
    char why[128];
    ck_assert_int_eq(scan("{\"containers\":[{\"name\":\"a\",\"image\":\"r.io/x/hello:1\"},"
                          "{\"name\":\"b\",\"image\":\"hello:1\"}]}",
                          &ps, why, sizeof why, &spec),
                     PODSCAN_OK);
    podscan_match(&ps, &specs, &none);
    ck_assert_int_eq(ps.cs[0].spec, 0);
    ck_assert_int_eq(ps.cs[1].spec, 0); /* also the second spec's image: the first wins */
    podscan_free(&ps);
    cJSON_Delete(spec);
    imagespec_list_free(&specs);
}
END_TEST

Suite *suite_podscan(void)
{
    Suite *s = suite_create("podscan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, init_containers_come_first);
    tcase_add_test(tc, malformed_containers_say_which_field);
    tcase_add_test(tc, images_match_specs_and_logical_registries);
    tcase_add_test(tc, first_matching_spec_wins);
    suite_add_tcase(s, tc);
    return s;
}
