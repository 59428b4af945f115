/* Unit tests: the bad-input corpus fed straight into the pure core
 * (admission_parse/admission_respond, imagespec_parse, imageref_parse,
 * config_load_buffer, ydoc_parse). Every input must get a
 * clear refusal or a well-formed answer, never a crash, a hang or an
 * answer that kube-apiserver could not read. */
#include <check.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "admission.h"
#include "buf.h"
#include "config.h"
#include "decide.h"
#include "imageref.h"
#include "imagespec.h"
#include "yamldoc.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        unsigned min;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* A v1 Pod CREATE review around `object` (JSON text), uid `uid` (JSON text). */
static char *review_with(const char *uid, const char *object)
{
    buf_t b = BUF_INIT;
    buf_printf(&b,
               "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
               "\"request\":{\"uid\":%s,\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":"
               "\"Pod\"},\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},"
               "\"namespace\":\"ns\",\"operation\":\"CREATE\",\"object\":",
               uid);
    buf_puts(&b, object);
    buf_puts(&b, "}}");
    ck_assert(!b.oom);
    return buf_steal(&b);
}

/* A union-labelled pod: `annotations` and `spec` are JSON text. */
static char *pod_with(const char *annotations, const char *spec)
{
    buf_t b = BUF_INIT;
    buf_printf(&b,
               "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
               "\"namespace\":\"ns\",\"labels\":{\"" WH_LABEL_BUILDER "\":\"union\"},"
               "\"annotations\":%s},\"spec\":%s}",
               annotations, spec);
    ck_assert(!b.oom);
    return buf_steal(&b);
}

#define GOOD_ANNOT                                                                                 \
    "{\"" WH_ANNOT_SPEC "\":\"{\\\"name\\\":\\\"hello\\\",\\\"builder\\\":\\\"union\\\"}\"}"
#define GOOD_SPEC "{\"containers\":[{\"name\":\"main\",\"image\":\"hello:abc123\"}]}"

typedef struct {
    bool parsed;
    char why[256];
    outcome_t outcome;
    int code;
    char message[1024];
    cJSON *resp; /* the parsed response; NULL when not parsed */
} answer_t;

/* Parses and answers `body[0..len)` like the server does, and checks what
 * every answer must satisfy: JSON, valid UTF-8, uid echoed, a reason on a
 * refusal, a one-line message on a denial. */
static answer_t answer(const char *body, size_t len)
{
    answer_t a;
    memset(&a, 0, sizeof a);
    review_t rv;
    a.parsed = admission_parse(body, len, &rv, a.why, sizeof a.why);
    if (!a.parsed) {
        ck_assert_msg(a.why[0] != '\0', "a refused review needs a reason");
        return a;
    }
    wh_config_t *cfg = test_config(TEST_LOCAL_YAML);
    wh_checks_t checks = {0};
    admission_response_t out;
    policy_t *pol = policy_new(&cfg->policy);
    ck_assert_ptr_nonnull(pol);
    ck_assert(admission_respond(pol, &rv, &checks, &out));
    ck_assert_ptr_nonnull(out.body);
    ck_assert_msg(utf8_valid((const unsigned char *)out.body, out.len),
                  "the response is not valid UTF-8");
    a.resp = cJSON_ParseWithLength(out.body, out.len);
    ck_assert_msg(a.resp != NULL, "the response is not JSON");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(a.resp, "response");
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(r, "uid");
    ck_assert(cJSON_IsString(uid));
    ck_assert_str_eq(uid->valuestring, rv.uid);
    a.outcome = out.decision.outcome;
    a.code = out.decision.code;
    if (a.outcome == OUTCOME_DENIED) {
        ck_assert_ptr_nonnull(out.decision.message);
        ck_assert_msg(strlen(out.decision.message) < sizeof a.message,
                      "a denial message of %zu bytes is not a one-line message",
                      strlen(out.decision.message));
        for (const char *p = out.decision.message; *p; p++)
            ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f,
                          "control character in the message");
        snprintf(a.message, sizeof a.message, "%s", out.decision.message);
    }
    admission_response_free(&out);
    review_free(&rv);
    policy_free(pol);
    config_free(cfg);
    return a;
}

static void answer_free(answer_t *a)
{
    cJSON_Delete(a->resp);
    a->resp = NULL;
}

static answer_t answer_pod(const char *annotations, const char *spec)
{
    char *pod = pod_with(annotations, spec);
    char *body = review_with("\"bad-1\"", pod);
    answer_t a = answer(body, strlen(body));
    free(body);
    free(pod);
    return a;
}

static void expect_denied(const char *annotations, const char *spec, int code, const char *needle)
{
    answer_t a = answer_pod(annotations, spec);
    ck_assert_msg(a.parsed, "refused: %s", a.why);
    ck_assert_msg(a.outcome == OUTCOME_DENIED, "expected a denial mentioning '%s', got %s", needle,
                  outcome_name(a.outcome));
    ck_assert_int_eq(a.code, code);
    ck_assert_msg(strstr(a.message, needle) != NULL, "message '%s' does not mention '%s'",
                  a.message, needle);
    answer_free(&a);
}

/* ---- AdmissionReview bodies ------------------------------------------------ */

START_TEST(good_review_is_mutated)
{
    /* The baseline the bad inputs below are variations of. */
    answer_t a = answer_pod(GOOD_ANNOT, GOOD_SPEC);
    ck_assert_msg(a.parsed, "%s", a.why);
    ck_assert_int_eq(a.outcome, OUTCOME_MUTATED);
    answer_free(&a);
}
END_TEST

START_TEST(truncated_json_refused_at_every_length)
{
    char *pod = pod_with(GOOD_ANNOT, GOOD_SPEC);
    char *body = review_with("\"u-trunc\"", pod);
    size_t n = strlen(body);
    for (size_t cut = 0; cut < n; cut++) {
        /* An exact-size copy: a parser that reads past `cut` trips ASan. */
        char *p = malloc(cut ? cut : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, body, cut);
        review_t rv;
        char why[256] = "";
        bool ok = admission_parse(p, cut, &rv, why, sizeof why);
        ck_assert_msg(!ok, "a review cut at byte %zu of %zu was accepted", cut, n);
        ck_assert_msg(why[0] != '\0', "no reason for a cut at byte %zu", cut);
        free(p);
    }
    free(body);
    free(pod);
}
END_TEST

START_TEST(invalid_utf8_refused_or_answered_in_utf8)
{
    /* Invalid sequences in the uid, in a label value, in the image and in
     * the ImageSpec: the answer (if any) must still be valid UTF-8 JSON. */
    static const char *const uids[] = {"\"u-\xff\xfe\"", "\"u-\xc0\xaf\"", "\"u-\xed\xa0\x80\"",
                                       "\"u-\xe2\x82\""};
    for (size_t i = 0; i < sizeof uids / sizeof uids[0]; i++) {
        char *pod = pod_with(GOOD_ANNOT, GOOD_SPEC);
        char *body = review_with(uids[i], pod);
        answer_t a = answer(body, strlen(body));
        answer_free(&a);
        free(body);
        free(pod);
    }
    answer_t a =
        answer_pod("{\"" WH_ANNOT_SPEC
                   "\":\"{\\\"name\\\":\\\"hel\xfflo\\\",\\\"builder\\\":\\\"union\\\"}\"}",
                   "{\"containers\":[{\"name\":\"m\xc3\",\"image\":\"hel\xfflo:abc\"}]}");
    if (a.parsed)
        ck_assert_msg(a.outcome != OUTCOME_MUTATED, "an image name with 0xff was rewritten");
    answer_free(&a);
}
END_TEST

START_TEST(nul_bytes_refused)
{
    char *pod = pod_with(GOOD_ANNOT, GOOD_SPEC);
    char *body = review_with("\"u-nul\"", pod);
    size_t n = strlen(body);
    /* A raw NUL between tokens (inserted after the first '{'), and one in
     * place of the closing brace. */
    char *p = malloc(n + 2);
    ck_assert_ptr_nonnull(p);
    p[0] = '{';
    p[1] = '\0';
    memcpy(p + 2, body + 1, n);
    answer_t a = answer(p, n + 1);
    ck_assert_msg(!a.parsed, "a body with a NUL after '{' was accepted");
    memcpy(p, body, n + 1);
    p[n - 1] = '\0';
    a = answer(p, n);
    ck_assert_msg(!a.parsed, "a body with a NUL for its last '}' was accepted");
    /* The full body followed by a NUL: trailing garbage. */
    memcpy(p, body, n + 1);
    a = answer(p, n + 1);
    ck_assert_msg(!a.parsed, "a body followed by a NUL byte was accepted");
    free(p);
    free(body);
    free(pod);

    /* Escaped NULs inside strings the core reads (uid, image, spec): a
     * well-formed answer (answer() checks it), never a crash. */
    a = answer_pod(GOOD_ANNOT,
                   "{\"containers\":[{\"name\":\"main\",\"image\":\"hello:abc\\u0000evil\"}]}");
    ck_assert(a.parsed);
    answer_free(&a);
    a = answer_pod("{\"" WH_ANNOT_SPEC "\":\"{\\\"name\\\":\\\"hel\\u0000lo\\\",\\\"builder\\\":"
                   "\\\"union\\\"}\"}",
                   GOOD_SPEC);
    ck_assert(a.parsed);
    answer_free(&a);
    char *pod2 = pod_with(GOOD_ANNOT, GOOD_SPEC);
    char *body2 = review_with("\"u\\u0000x\"", pod2);
    a = answer(body2, strlen(body2));
    answer_free(&a);
    free(body2);
    free(pod2);
}
END_TEST

static char *nested(size_t depth, const char *open, const char *close, const char *leaf)
{
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < depth; i++)
        buf_puts(&b, open);
    buf_puts(&b, leaf);
    for (size_t i = 0; i < depth; i++)
        buf_puts(&b, close);
    ck_assert(!b.oom);
    return buf_steal(&b);
}

START_TEST(nesting_past_the_parser_limit_refused)
{
    /* cJSON stops at CJSON_NESTING_LIMIT (1000): deeper is a refusal. */
    char *deep = nested(5000, "[", "]", "1");
    char *pod = pod_with(GOOD_ANNOT, GOOD_SPEC);
    buf_t b = BUF_INIT;
    buf_puts(&b, "{\"extra\":");
    buf_puts(&b, deep);
    buf_puts(&b, ",");
    buf_puts(&b, pod + 1);
    char *obj = buf_steal(&b);
    char *body = review_with("\"u-deep\"", obj);
    answer_t a = answer(body, strlen(body));
    ck_assert_msg(!a.parsed, "5000 levels of nesting were accepted");
    free(body);
    free(obj);
    free(deep);

    /* Deep but within the limit, where the core looks (labels, spec): an answer. */
    char *ok_deep = nested(900, "{\"a\":", "}", "1");
    buf_t s = BUF_INIT;
    buf_printf(&s, "{\"containers\":[{\"name\":\"main\",\"image\":\"hello:abc\",\"x\":%s}]}",
               ok_deep);
    char *spec = buf_steal(&s);
    a = answer_pod(GOOD_ANNOT, spec);
    ck_assert_msg(a.parsed, "%s", a.why);
    answer_free(&a);
    free(spec);
    free(ok_deep);
    free(pod);

    /* Deep nesting inside the ImageSpec annotation. */
    imagespec_list_t l;
    char why[256];
    char *ds = nested(3000, "[", "]", "{}");
    ck_assert(!imagespec_parse(ds, strlen(ds), &l, why, sizeof why));
    ck_assert(why[0] != '\0');
    free(ds);
}
END_TEST

START_TEST(wrong_types_in_review_fields)
{
    static const char *const bodies[] = {
        /* uid a number, null, an object, empty */
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "42}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "null}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "{}}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "\"\"}}",
        /* request not an object; apiVersion and kind of the wrong type */
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":[]}",
        "{\"apiVersion\":1,\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\"}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":true,\"request\":{\"uid\":\"u\"}}",
        /* not an object at all */
        "[]",
        "\"AdmissionReview\"",
        "null",
        "0",
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        answer_t a = answer(bodies[i], strlen(bodies[i]));
        ck_assert_msg(!a.parsed, "body #%zu was accepted", i);
    }
    /* operation, kind, object of the wrong type: not a Pod CREATE, allowed as is. */
    static const char *const allowed[] = {
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "\"u\",\"operation\":7,\"kind\":\"Pod\",\"object\":{}}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "\"u\",\"operation\":\"CREATE\",\"kind\":[\"Pod\"],\"object\":{}}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "\"u\",\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\",\"version\":\"v1\"},"
        "\"object\":\"pod\"}}",
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "\"u\",\"operation\":\"CREATE\",\"kind\":{\"kind\":\"Pod\",\"version\":\"v1\"},"
        "\"object\":null,\"dryRun\":\"yes\"}}",
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        answer_t a = answer(allowed[i], strlen(allowed[i]));
        ck_assert_msg(a.parsed, "allowed body #%zu refused: %s", i, a.why);
        ck_assert_msg(a.outcome == OUTCOME_ALLOWED, "allowed body #%zu: %s", i,
                      outcome_name(a.outcome));
        answer_free(&a);
    }
}
END_TEST

START_TEST(wrong_types_in_pod_fields)
{
    expect_denied(GOOD_ANNOT, "{\"containers\":{\"name\":\"main\",\"image\":\"hello:abc\"}}", 400,
                  "containers");
    expect_denied(GOOD_ANNOT, "{\"containers\":[{\"name\":\"main\",\"image\":null}]}", 400,
                  "image");
    expect_denied(GOOD_ANNOT, "{\"containers\":[{\"name\":\"main\",\"image\":42}]}", 400, "image");
    expect_denied(GOOD_ANNOT, "{\"containers\":[\"hello:abc\"]}", 400, "containers[0]");
    expect_denied(
        GOOD_ANNOT,
        "{\"initContainers\":\"x\",\"containers\":[{\"name\":\"m\",\"image\":\"hello:a\"}]}", 400,
        "initContainers");
    expect_denied(GOOD_ANNOT, "[]", 400, "spec");
    expect_denied("{\"" WH_ANNOT_SPEC "\":{\"name\":\"hello\",\"builder\":\"union\"}}", GOOD_SPEC,
                  400, WH_ANNOT_SPEC);
    expect_denied("{\"" WH_ANNOT_SPEC "\":17}", GOOD_SPEC, 400, WH_ANNOT_SPEC);
    expect_denied("{\"" WH_ANNOT_SPEC "\":null}", GOOD_SPEC, 400, WH_ANNOT_SPEC);
    expect_denied("[\"" WH_ANNOT_SPEC "\"]", GOOD_SPEC, 400, "annotations");
    expect_denied("\"" WH_ANNOT_SPEC "\"", GOOD_SPEC, 400, "annotations");
    /* Fields of the spec with the wrong type. */
    expect_denied("{\"" WH_ANNOT_SPEC "\":\"{\\\"name\\\":7,\\\"builder\\\":\\\"union\\\"}\"}",
                  GOOD_SPEC, 400, "name");
    expect_denied("{\"" WH_ANNOT_SPEC "\":\"{\\\"name\\\":\\\"hello\\\",\\\"builder\\\":[]}\"}",
                  GOOD_SPEC, 400, "builder");
    expect_denied("{\"" WH_ANNOT_SPEC
                  "\":\"{\\\"name\\\":\\\"hello\\\",\\\"builder\\\":\\\"union\\\","
                  "\\\"registry\\\":5}\"}",
                  GOOD_SPEC, 400, "registry");
    expect_denied("{\"" WH_ANNOT_SPEC
                  "\":\"{\\\"name\\\":\\\"hello\\\",\\\"builder\\\":\\\"union\\\","
                  "\\\"builder_options\\\":[]}\"}",
                  GOOD_SPEC, 400, "builder_options");

    /* labels and metadata of the wrong type */
    const char *bad_labels = "{\"metadata\":{\"name\":\"p\",\"labels\":[\"" WH_LABEL_BUILDER
                             "\"]},\"spec\":" GOOD_SPEC "}";
    char *body = review_with("\"u-l\"", bad_labels);
    answer_t a = answer(body, strlen(body));
    ck_assert(a.parsed);
    ck_assert_int_eq(a.outcome, OUTCOME_DENIED);
    ck_assert_ptr_nonnull(strstr(a.message, "labels"));
    answer_free(&a);
    free(body);
    body = review_with("\"u-m\"", "{\"metadata\":\"p\",\"spec\":" GOOD_SPEC "}");
    a = answer(body, strlen(body));
    ck_assert(a.parsed);
    ck_assert_int_eq(a.outcome, OUTCOME_DENIED);
    ck_assert_ptr_nonnull(strstr(a.message, "metadata"));
    answer_free(&a);
    free(body);
}
END_TEST

START_TEST(duplicate_keys_do_not_split_the_decision)
{
    /* Repeated keys (which kube-apiserver never sends): the body is either
     * refused or decided as if one of the repeated values stood alone. */
    static const char *const spec_first =
        "{\"containers\":[{\"name\":\"main\",\"image\":\"hello:abc\"}]}";
    static const char *const spec_last =
        "{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1\"}]}";
    static const char *const spec_both =
        "{\"containers\":[{\"name\":\"main\",\"image\":\"hello:abc\",\"image\":\"nginx:1\"}]}";
    answer_t first = answer_pod(GOOD_ANNOT, spec_first);
    answer_t last = answer_pod(GOOD_ANNOT, spec_last);
    answer_t both = answer_pod(GOOD_ANNOT, spec_both);
    ck_assert(first.parsed && last.parsed);
    ck_assert_int_ne(first.outcome, last.outcome); /* the two values decide differently */
    if (both.parsed)
        ck_assert_msg(both.outcome == first.outcome || both.outcome == last.outcome,
                      "a repeated image key gave a decision of neither value");
    answer_free(&first);
    answer_free(&last);
    answer_free(&both);
    /* Repeated uid, operation and request keys: refused or answered with one of the uids. */
    const char *dup =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
        "\"a\",\"uid\":\"b\",\"operation\":\"CREATE\",\"operation\":\"DELETE\"},\"request\":{}}";
    answer_t a = answer(dup, strlen(dup));
    answer_free(&a);
}
END_TEST

START_TEST(megabyte_imagespec_annotation)
{
    /* A 1 MiB valid spec (a long package list) and 1 MiB of garbage. */
    buf_t s = BUF_INIT;
    buf_puts(&s,
             "{\"" WH_ANNOT_SPEC "\":\"{\\\"name\\\":\\\"hello\\\",\\\"builder\\\":\\\"union\\\","
             "\\\"packages\\\":[");
    for (size_t i = 0; s.len < (1u << 20); i++)
        buf_printf(&s, "%s\\\"pkg%zu==1.0\\\"", i ? "," : "", i);
    buf_puts(&s, "]}\"}");
    char *annot = buf_steal(&s);
    ck_assert_ptr_nonnull(annot);
    answer_t a = answer_pod(annot, GOOD_SPEC);
    ck_assert_msg(a.parsed, "%s", a.why);
    ck_assert_msg(a.outcome != OUTCOME_ALLOWED, "a 1 MiB union spec was ignored");
    answer_free(&a);
    free(annot);

    buf_t g = BUF_INIT;
    buf_puts(&g, "{\"" WH_ANNOT_SPEC "\":\"{\\\"name\\\":\\\"");
    for (size_t i = 0; i < (1u << 20); i++)
        buf_putc(&g, (char)('a' + (i % 26)));
    buf_puts(&g, "\"}");
    char *garbage = buf_steal(&g);
    ck_assert_ptr_nonnull(garbage);
    a = answer_pod(garbage, GOOD_SPEC);
    ck_assert(a.parsed);
    ck_assert_int_eq(a.outcome, OUTCOME_DENIED);
    ck_assert_int_eq(a.code, 400);
    answer_free(&a);
    free(garbage);
}
END_TEST

/* ---- ImageSpec annotation -------------------------------------------------- */

START_TEST(imagespec_bad_inputs_refused)
{
    static const char *const bad[] = {
        "",
        "{",
        "{\"name\":\"x\",\"builder\":\"union\"",
        "[",
        "[]",
        "null",
        "42",
        "\"name\"",
        "[1]",
        "[{\"name\":\"a\",\"builder\":\"union\"},7]",
        "{\"name\":\"a\",\"builder\":\"union\"} trailing",
        "{\"builder\":\"union\"}",
        "{\"name\":\"\",\"builder\":\"union\"}",
        "{\"name\":\"a\",\"builder\":\"union\",\"registry\":\"ghcr.io/org:tag\"}",
        "{\"name\":\"a\",\"builder\":\"union\",\"registry\":\"ghcr.io/org@sha256:00\"}",
        "{\"name\":\"a\",\"builder\":\"union\",\"registry\":\"ftp://ghcr.io/org\"}",
        "{\"name\":\"a\",\"builder\":\"union\",\"registry\":\"ghcr.io/o rg\"}",
        "{\"name\":\"a\",\"builder\":\"union\",\"builder_options\":{\"imagepull_secret_name\":1}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        imagespec_list_t l;
        char why[256] = "";
        ck_assert_msg(!imagespec_parse(bad[i], strlen(bad[i]), &l, why, sizeof why),
                      "spec #%zu accepted: %s", i, bad[i]);
        ck_assert_msg(why[0] != '\0', "spec #%zu: no reason", i);
        for (const char *p = why; *p; p++)
            ck_assert((unsigned char)*p >= 0x20);
    }
    /* More specs than supported. */
    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 0; i <= IMAGESPEC_MAX_SPECS; i++)
        buf_printf(&b, "%s{\"name\":\"s%d\",\"builder\":\"union\"}", i ? "," : "", i);
    buf_putc(&b, ']');
    imagespec_list_t l;
    char why[256] = "";
    ck_assert(!imagespec_parse(b.data, b.len, &l, why, sizeof why));
    ck_assert_ptr_nonnull(strstr(why, "at most"));
    buf_free(&b);
    /* Truncated at every length: refused, and never read past the end. */
    const char *good = "[{\"name\":\"a\",\"builder\":\"union\",\"registry\":\"ghcr.io/org\"}]";
    size_t n = strlen(good);
    for (size_t cut = 0; cut < n; cut++) {
        char *p = malloc(cut ? cut : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, good, cut);
        ck_assert_msg(!imagespec_parse(p, cut, &l, why, sizeof why), "cut at %zu accepted", cut);
        free(p);
    }
    ck_assert(imagespec_parse(good, n, &l, why, sizeof why));
    imagespec_list_free(&l);
}
END_TEST

/* ---- image references at and past every limit ----------------------------- */

static imageref_err_t parse_exact(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, s, n);
    imageref_t r;
    imageref_err_t e = imageref_parse(p, n, &r);
    free(p);
    return e;
}

static char *ref_of(const char *prefix, size_t fill, char c, const char *suffix)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, prefix);
    for (size_t i = 0; i < fill; i++)
        buf_putc(&b, c);
    buf_puts(&b, suffix);
    ck_assert(!b.oom);
    return buf_steal(&b);
}

START_TEST(imageref_length_limits)
{
    /* name: 255 is the limit ("ghcr.io/" + path). */
    char *at = ref_of("ghcr.io/", IMAGEREF_NAME_MAX - 8, 'a', ":v1");
    char *past = ref_of("ghcr.io/", IMAGEREF_NAME_MAX - 7, 'a', ":v1");
    ck_assert_int_eq(parse_exact(at, strlen(at)), IMAGEREF_OK);
    ck_assert_int_eq(parse_exact(past, strlen(past)), IMAGEREF_NAME_TOO_LONG);
    free(at);
    free(past);
    /* tag: 128 */
    at = ref_of("repo:", IMAGEREF_TAG_MAX, 't', "");
    past = ref_of("repo:", IMAGEREF_TAG_MAX + 1, 't', "");
    ck_assert_int_eq(parse_exact(at, strlen(at)), IMAGEREF_OK);
    ck_assert_int_eq(parse_exact(past, strlen(past)), IMAGEREF_BAD_TAG);
    free(at);
    free(past);
    /* sha256 digest: exactly 64 hex digits */
    at = ref_of("repo@sha256:", 64, 'a', "");
    char *short_d = ref_of("repo@sha256:", 63, 'a', "");
    past = ref_of("repo@sha256:", 65, 'a', "");
    ck_assert_int_eq(parse_exact(at, strlen(at)), IMAGEREF_OK);
    ck_assert_int_eq(parse_exact(short_d, strlen(short_d)), IMAGEREF_BAD_DIGEST);
    ck_assert_int_eq(parse_exact(past, strlen(past)), IMAGEREF_BAD_DIGEST);
    free(at);
    free(short_d);
    free(past);
    /* Very long inputs of every shape are refused, not overrun. */
    static const char fills[] = {'a', '/', ':', '@', '.', '-', '_', 'A', '\xff', '\0'};
    for (size_t i = 0; i < sizeof fills; i++) {
        char *big = ref_of("", 1u << 16, fills[i], "");
        ck_assert_int_ne(parse_exact(big, 1u << 16), IMAGEREF_OK);
        char out[IMAGESPEC_REGISTRY_MAX];
        const char *why = NULL;
        ck_assert(!imageref_parse_registry(big, 1u << 16, out, sizeof out, NULL, &why));
        ck_assert_ptr_nonnull(why);
        free(big);
    }
    /* The registry rule into a buffer too small for the value: refused. */
    char tiny[8];
    const char *why = NULL;
    ck_assert(!imageref_parse_registry("ghcr.io/organisation", 20, tiny, sizeof tiny, NULL, &why));
    /* A pod whose target would pass the limit is denied, and says why. */
    char *longname = ref_of("{\"" WH_ANNOT_SPEC "\":\"{\\\"name\\\":\\\"", 240, 'n',
                            "\\\",\\\"builder\\\":\\\"union\\\"}\"}");
    char *spec = ref_of("{\"containers\":[{\"name\":\"m\",\"image\":\"", 240, 'n', ":abc\"}]}");
    answer_t a = answer_pod(longname, spec);
    ck_assert(a.parsed);
    ck_assert_int_eq(a.outcome, OUTCOME_DENIED);
    ck_assert_msg(strstr(a.message, "255") != NULL || strstr(a.message, "long") != NULL,
                  "message does not say the name is too long: %s", a.message);
    answer_free(&a);
    free(longname);
    free(spec);
}
END_TEST

/* ---- YAML: aliases, depth, size ------------------------------------------- */

static const char laughs[] =
    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

static size_t tree_size(const ynode_t *n)
{
    size_t t = 1;
    size_t k = n->kind == YNODE_MAP ? 2 * n->n : n->kind == YNODE_SEQ ? n->n : 0;
    for (size_t i = 0; i < k; i++)
        t += tree_size(n->items[i]);
    return t;
}

START_TEST(billion_laughs_not_expanded)
{
    ydoc_error_t err = {0};
    ynode_t *doc = ydoc_parse(laughs, strlen(laughs), NULL, &err);
    ck_assert_msg(doc != NULL, "%s", err.msg);
    ck_assert_uint_lt(tree_size(doc), 200); /* the text's size, not 9^9 */
    cJSON *j = ydoc_to_json(doc, &err);
    ck_assert_msg(j == NULL, "aliases were expanded into JSON");
    ck_assert(err.msg[0] != '\0');
    ydoc_free(doc);

    /* As a configuration: refused, with the position of an alias. */
    buf_t b = BUF_INIT;
    buf_puts(&b, "imageBuilder:\n  defaultRepository: ghcr.io/org\n");
    buf_puts(&b, laughs);
    buf_puts(&b, "webhook:\n  path: *i\n");
    config_errors_t errs = {0};
    wh_config_t *c = config_load_buffer("laughs.yaml", b.data, b.len, &errs);
    ck_assert_msg(c == NULL, "a config with a billion-laughs alias was loaded");
    ck_assert_uint_gt(errs.n, 0);
    bool alias_named = false;
    for (size_t i = 0; i < errs.n; i++)
        alias_named |= errs.items[i].line > 0 && strstr(errs.items[i].msg, "alias") != NULL;
    ck_assert_msg(alias_named, "no error names the alias and its line");
    config_errors_free(&errs);
    buf_free(&b);

    /* An alias of a whole block, and a merge key. */
    const char *merge = "base: &base {enabled: true}\nimageBuilder:\n  <<: *base\n";
    errs = (config_errors_t){0};
    c = config_load_buffer("merge.yaml", merge, strlen(merge), &errs);
    ck_assert_msg(c == NULL, "a merge key with an alias was accepted");
    config_errors_free(&errs);
    const char *block = "ib: &ib\n  enabled: true\nimageBuilder: *ib\n";
    errs = (config_errors_t){0};
    c = config_load_buffer("block.yaml", block, strlen(block), &errs);
    ck_assert_msg(c == NULL, "an aliased imageBuilder block was accepted");
    config_errors_free(&errs);
}
END_TEST

START_TEST(yaml_depth_nodes_and_bytes_bounded)
{
    ydoc_error_t err = {0};
    char *deep = nested(10000, "[", "]", "x");
    ynode_t *doc = ydoc_parse(deep, strlen(deep), NULL, &err);
    ck_assert_msg(doc == NULL, "10000 levels of YAML were accepted");
    ck_assert(err.msg[0] != '\0');
    free(deep);
    char *deep_map = nested(200, "{a: ", "}", "x");
    ydoc_limits_t lim = {.max_depth = 16, .max_nodes = 0};
    doc = ydoc_parse(deep_map, strlen(deep_map), &lim, &err);
    ck_assert(doc == NULL);
    free(deep_map);

    buf_t b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 0; i < 5000; i++)
        buf_printf(&b, "%s%d", i ? "," : "", i);
    buf_putc(&b, ']');
    ydoc_limits_t few = {.max_depth = 0, .max_nodes = 1000};
    doc = ydoc_parse(b.data, b.len, &few, &err);
    ck_assert_msg(doc == NULL, "5001 nodes passed a limit of 1000");
    buf_free(&b);

    static const char *const bad[] = {
        "a: [1, 2\n",        /* unclosed flow sequence */
        "a: \"open\n",       /* unclosed quote */
        "a: 1\n---\nb: 2\n", /* two documents */
        "\t- tab indent\n",  /* tab */
        "a: 1\n b: 2\n",     /* bad indentation */
        "a: \xff\xfe\n",     /* invalid UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        doc = ydoc_parse(bad[i], strlen(bad[i]), NULL, &err);
        ck_assert_msg(doc == NULL, "YAML #%zu accepted", i);
        ck_assert_msg(err.msg[0] != '\0', "YAML #%zu: no message", i);
    }
    /* A NUL byte inside the text. */
    const char nul[] = "imageBuilder:\n  enabled: true\0\n  junk: 1\n";
    config_errors_t errs = {0};
    wh_config_t *c = config_load_buffer("nul.yaml", nul, sizeof nul - 1, &errs);
    ck_assert_msg(c == NULL, "a config with a NUL byte was loaded");
    ck_assert_uint_gt(errs.n, 0);
    config_errors_free(&errs);
}
END_TEST

Suite *suite_badinput(void)
{
    Suite *s = suite_create("badinput");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, good_review_is_mutated);
    tcase_add_test(tc, truncated_json_refused_at_every_length);
    tcase_add_test(tc, invalid_utf8_refused_or_answered_in_utf8);
    tcase_add_test(tc, nul_bytes_refused);
    tcase_add_test(tc, nesting_past_the_parser_limit_refused);
    tcase_add_test(tc, wrong_types_in_review_fields);
    tcase_add_test(tc, wrong_types_in_pod_fields);
    tcase_add_test(tc, duplicate_keys_do_not_split_the_decision);
    tcase_add_test(tc, megabyte_imagespec_annotation);
    tcase_add_test(tc, imagespec_bad_inputs_refused);
    tcase_add_test(tc, imageref_length_limits);
    tcase_add_test(tc, billion_laughs_not_expanded);
    tcase_add_test(tc, yaml_depth_nodes_and_bytes_bounded);
    suite_add_tcase(s, tc);
    return s;
}
