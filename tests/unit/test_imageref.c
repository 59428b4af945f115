/* Tests for imageref: the reference grammar (valid and invalid references,
 * every length limit) and the ImageSpec registry rule. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageref.h"
#include "testutil.h"

#define HEX64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX96  HEX64 "0123456789abcdef0123456789abcdef"
#define HEX128 HEX64 HEX64

/* Copies `s` into an exact-size heap block with no terminating NUL, so that
 * AddressSanitizer catches any read past the given length. */
static char *exact_copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, s, n);
    return p;
}

static char *repeat(char c, size_t n)
{
    char *p = malloc(n + 1);
    ck_assert_ptr_nonnull(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

/* ---- valid references ------------------------------------------------- */

typedef struct {
    const char *in;
    const char *name, *domain, *path, *tag, *digest;
} valid_case_t;

static const valid_case_t valid_cases[] = {
    {"nginx", "nginx", "", "nginx", "", ""},
    {"nginx:1.25", "nginx", "", "nginx", "1.25", ""},
    {"python:3.11", "python", "", "python", "3.11", ""},
    {"library/nginx", "library/nginx", "", "library/nginx", "", ""},
    {"foo/bar", "foo/bar", "", "foo/bar", "", ""},
    {"foo/bar/baz:v1", "foo/bar/baz", "", "foo/bar/baz", "v1", ""},
    {"docker.io/ubuntu", "docker.io/ubuntu", "docker.io", "ubuntu", "", ""},
    {"docker.io/library/nginx:latest", "docker.io/library/nginx", "docker.io", "library/nginx",
     "latest", ""},
    {"index.docker.io/library/nginx", "index.docker.io/library/nginx", "index.docker.io",
     "library/nginx", "", ""},
    {"localhost/x", "localhost/x", "localhost", "x", "", ""},
    {"localhost:5000/x", "localhost:5000/x", "localhost:5000", "x", "", ""},
    {"localhost:5000/a/b:t", "localhost:5000/a/b", "localhost:5000", "a/b", "t", ""},
    /* No '/': a bare host-like word is a repository name, and ":5000" a tag. */
    {"localhost", "localhost", "", "localhost", "", ""},
    {"example.com", "example.com", "", "example.com", "", ""},
    {"localhost:5000", "localhost", "", "localhost", "5000", ""},
    {"host:5000/x", "host:5000/x", "host:5000", "x", "", ""},
    {"127.0.0.1/x", "127.0.0.1/x", "127.0.0.1", "x", "", ""},
    {"127.0.0.1:5000/x:y", "127.0.0.1:5000/x", "127.0.0.1:5000", "x", "y", ""},
    {"[::1]/x", "[::1]/x", "[::1]", "x", "", ""},
    {"[::1]:5000/x", "[::1]:5000/x", "[::1]:5000", "x", "", ""},
    {"[::1]:5000/x:tag", "[::1]:5000/x", "[::1]:5000", "x", "tag", ""},
    {"[2001:DB8::1]:443/ns/img@sha256:" HEX64, "[2001:DB8::1]:443/ns/img", "[2001:DB8::1]:443",
     "ns/img", "", "sha256:" HEX64},
    /* Uppercase makes the first component a domain, and domains may be uppercase. */
    {"Foo/bar", "Foo/bar", "Foo", "bar", "", ""},
    {"EXAMPLE.COM/x", "EXAMPLE.COM/x", "EXAMPLE.COM", "x", "", ""},
    {"Registry.Example.com:5000/team/app:V1", "Registry.Example.com:5000/team/app",
     "Registry.Example.com:5000", "team/app", "V1", ""},
    {"a-b.c-d.example/x", "a-b.c-d.example/x", "a-b.c-d.example", "x", "", ""},
    {"x@sha256:" HEX64, "x", "", "x", "", "sha256:" HEX64},
    {"x@sha384:" HEX96, "x", "", "x", "", "sha384:" HEX96},
    {"x@sha512:" HEX128, "x", "", "x", "", "sha512:" HEX128},
    {"name:tag@sha256:" HEX64, "name", "", "name", "tag", "sha256:" HEX64},
    {"gcr.io/proj/img:v1_2.3-a@sha256:" HEX64, "gcr.io/proj/img", "gcr.io", "proj/img", "v1_2.3-a",
     "sha256:" HEX64},
    /* Separators: '.', '_', '__', one or more '-'. */
    {"x/a.b_c__d-e--f---g/h", "x/a.b_c__d-e--f---g/h", "", "x/a.b_c__d-e--f---g/h", "", ""},
    {"a.b_c__d-e--f---g", "a.b_c__d-e--f---g", "", "a.b_c__d-e--f---g", "", ""},
    {"0/1/2", "0/1/2", "", "0/1/2", "", ""},
    /* Tags: first character a word character, mixed case allowed. */
    {"x:_", "x", "", "x", "_", ""},
    {"x:A", "x", "", "x", "A", ""},
    {"x:wcYy93m6tBmlCz2veV4_4w", "x", "", "x", "wcYy93m6tBmlCz2veV4_4w", ""},
    {"x:a.b-c_d", "x", "", "x", "a.b-c_d", ""},
    {"ubuntu:LATEST", "ubuntu", "", "ubuntu", "LATEST", ""},
    /* Only a 64-hex string alone is refused; with a tag it is a name. */
    {HEX64 ":t", HEX64, "", HEX64, "t", ""},
    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "",
     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "", ""},
    {"us-central1-docker.pkg.dev/my-proj/repo/img:abc",
     "us-central1-docker.pkg.dev/my-proj/repo/img", "us-central1-docker.pkg.dev",
     "my-proj/repo/img", "abc", ""},
    {"123456789012.dkr.ecr.us-east-1.amazonaws.com/union:flyte-abc",
     "123456789012.dkr.ecr.us-east-1.amazonaws.com/union",
     "123456789012.dkr.ecr.us-east-1.amazonaws.com", "union", "flyte-abc", ""},
};

START_TEST(test_valid_reference)
{
    const valid_case_t *c = &valid_cases[_i];
    size_t n = strlen(c->in);
    char *buf = exact_copy(c->in, n);
    imageref_t r;
    imageref_err_t err = imageref_parse(buf, n, &r);
    ck_assert_msg(err == IMAGEREF_OK, "'%s': %s", c->in, imageref_strerror(err));
    ck_assert_strview_eq(r.name, c->name);
    ck_assert_strview_eq(r.domain, c->domain);
    ck_assert_strview_eq(r.path, c->path);
    ck_assert_strview_eq(r.tag, c->tag);
    ck_assert_strview_eq(r.digest, c->digest);
    /* The parts point into the caller's string. */
    ck_assert_ptr_eq(r.name.p, buf);
    free(buf);
}
END_TEST

/* ---- invalid references ----------------------------------------------- */

typedef struct {
    const char *in;
    imageref_err_t want;
} invalid_case_t;

static const invalid_case_t invalid_cases[] = {
    {"", IMAGEREF_EMPTY},
    {" nginx", IMAGEREF_WHITESPACE},
    {"nginx ", IMAGEREF_WHITESPACE},
    {"ng inx", IMAGEREF_WHITESPACE},
    {"nginx\t", IMAGEREF_WHITESPACE},
    {"nginx:1.25\n", IMAGEREF_WHITESPACE},
    {"ngi\rnx", IMAGEREF_WHITESPACE},
    {"nginx\x7f", IMAGEREF_WHITESPACE},
    {"nginx\x01:v", IMAGEREF_WHITESPACE},
    {HEX64, IMAGEREF_HEX_NAME},
    {"Nginx", IMAGEREF_UPPERCASE},
    {"foo/Bar", IMAGEREF_UPPERCASE},
    {"example.com/Foo:tag", IMAGEREF_UPPERCASE},
    {"localhost:5000/myApp", IMAGEREF_UPPERCASE},
    {"ABCDEF/x/Y", IMAGEREF_UPPERCASE},
    /* Uppercase and malformed at once is a format error. */
    {"foo/Bar_", IMAGEREF_BAD_FORMAT},
    {"a//b", IMAGEREF_BAD_FORMAT},
    {"/a", IMAGEREF_BAD_FORMAT},
    {"a/", IMAGEREF_BAD_FORMAT},
    {"example.com/", IMAGEREF_BAD_FORMAT},
    {"localhost:5000/", IMAGEREF_BAD_FORMAT},
    {"a/b/", IMAGEREF_BAD_FORMAT},
    {"a..b", IMAGEREF_BAD_FORMAT},
    {"a___b", IMAGEREF_BAD_FORMAT},
    {"a._b", IMAGEREF_BAD_FORMAT},
    {"a_-b", IMAGEREF_BAD_FORMAT},
    {"a-", IMAGEREF_BAD_FORMAT},
    {"-a", IMAGEREF_BAD_FORMAT},
    {"_a", IMAGEREF_BAD_FORMAT},
    {".a", IMAGEREF_BAD_FORMAT},
    {"a.", IMAGEREF_BAD_FORMAT},
    {"a+b", IMAGEREF_BAD_FORMAT},
    {"ngínx", IMAGEREF_BAD_FORMAT},
    {"a:b:c", IMAGEREF_BAD_FORMAT},
    {":tag", IMAGEREF_BAD_FORMAT},
    {"@sha256:" HEX64, IMAGEREF_BAD_FORMAT},
    {":tag@sha256:" HEX64, IMAGEREF_BAD_FORMAT},
    {"host:/x", IMAGEREF_BAD_FORMAT},
    {"host:abc/x", IMAGEREF_BAD_FORMAT},
    {"host:50a0/x", IMAGEREF_BAD_FORMAT},
    {"-host.com/x", IMAGEREF_BAD_FORMAT},
    {"host-.com/x", IMAGEREF_BAD_FORMAT},
    {"ho_st.com/x", IMAGEREF_BAD_FORMAT},
    {"host..com/x", IMAGEREF_BAD_FORMAT},
    {".host.com/x", IMAGEREF_BAD_FORMAT},
    {"host.com./x", IMAGEREF_BAD_FORMAT},
    {"[::1/x", IMAGEREF_BAD_FORMAT},
    {"[]/x", IMAGEREF_BAD_FORMAT},
    {"[zz::1]/x", IMAGEREF_BAD_FORMAT},
    {"[::1]:/x", IMAGEREF_BAD_FORMAT},
    {"[::1]x/x", IMAGEREF_BAD_FORMAT},
    {"[fe80::1%eth0]/x", IMAGEREF_BAD_FORMAT},
    {"::1/x", IMAGEREF_BAD_FORMAT},
    /* Tags. */
    {"x:", IMAGEREF_BAD_TAG},
    {"x:.tag", IMAGEREF_BAD_TAG},
    {"x:-tag", IMAGEREF_BAD_TAG},
    {"x:a+b", IMAGEREF_BAD_TAG},
    {"x:a/b", IMAGEREF_BAD_FORMAT}, /* '/' after ':' makes "x:a" a domain-less path */
    {"localhost:5000/x:", IMAGEREF_BAD_TAG},
    {"x:t@", IMAGEREF_BAD_DIGEST},
    /* Digests. */
    {"x@", IMAGEREF_BAD_DIGEST},
    {"x@sha256", IMAGEREF_BAD_DIGEST},
    {"x@sha256:", IMAGEREF_BAD_DIGEST},
    {"x@sha256:" HEX64 "0", IMAGEREF_BAD_DIGEST},
    {"x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
     IMAGEREF_BAD_DIGEST},
    {"x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     IMAGEREF_BAD_DIGEST},
    {"x@sha256:" HEX96, IMAGEREF_BAD_DIGEST},
    {"x@sha384:" HEX64, IMAGEREF_BAD_DIGEST},
    {"x@sha512:" HEX96, IMAGEREF_BAD_DIGEST},
    {"x@SHA256:" HEX64, IMAGEREF_BAD_DIGEST},
    {"x@md5:0123456789abcdef0123456789abcdef", IMAGEREF_BAD_DIGEST},
    {"x@sha1:" HEX64, IMAGEREF_BAD_DIGEST},
    {"x@sha256:" HEX64 "@sha256:" HEX64, IMAGEREF_BAD_DIGEST},
    {"x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
     IMAGEREF_BAD_DIGEST},
    {"x:tag@sha256:bad", IMAGEREF_BAD_DIGEST},
    {"x@" HEX64, IMAGEREF_BAD_DIGEST},
};

START_TEST(test_invalid_reference)
{
    const invalid_case_t *c = &invalid_cases[_i];
    size_t n = strlen(c->in);
    char *buf = exact_copy(c->in, n);
    imageref_t r;
    imageref_err_t err = imageref_parse(buf, n, &r);
    ck_assert_msg(err == c->want, "'%s': got %d (%s), want %d (%s)", c->in, err,
                  imageref_strerror(err), c->want, imageref_strerror(c->want));
    free(buf);
}
END_TEST

/* ---- length limits ------------------------------------------------------ */

static imageref_err_t parse_built(const char *prefix, char fill, size_t fill_n, const char *suffix,
                                  imageref_t *r)
{
    size_t pn = strlen(prefix), sn = strlen(suffix), n = pn + fill_n + sn;
    char *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, prefix, pn);
    memset(buf + pn, fill, fill_n);
    memcpy(buf + pn + fill_n, suffix, sn);
    imageref_err_t err = imageref_parse(buf, n, r);
    free(buf);
    return err;
}

START_TEST(test_name_length_limit)
{
    imageref_t r;
    /* "example.com/" is 12 characters: the domain counts towards the limit. */
    ck_assert_int_eq(parse_built("example.com/", 'a', 243, "", &r), IMAGEREF_OK);
    ck_assert_uint_eq(r.name.n, 255);
    ck_assert_int_eq(parse_built("example.com/", 'a', 244, "", &r), IMAGEREF_NAME_TOO_LONG);
    /* The tag and digest do not count. */
    ck_assert_int_eq(parse_built("example.com/", 'a', 243, ":" HEX64 "@sha256:" HEX64, &r),
                     IMAGEREF_OK);
    ck_assert_int_eq(parse_built("", 'a', 255, "", &r), IMAGEREF_OK);
    ck_assert_int_eq(parse_built("", 'a', 256, "", &r), IMAGEREF_NAME_TOO_LONG);
    ck_assert_int_eq(parse_built("", 'a', 256, ":v1", &r), IMAGEREF_NAME_TOO_LONG);
    ck_assert_int_eq(parse_built("", 'a', 4096, "", &r), IMAGEREF_NAME_TOO_LONG);
}
END_TEST

START_TEST(test_tag_length_limit)
{
    imageref_t r;
    ck_assert_int_eq(parse_built("x:", 'T', 128, "", &r), IMAGEREF_OK);
    ck_assert_uint_eq(r.tag.n, 128);
    ck_assert_int_eq(parse_built("x:", 'T', 129, "", &r), IMAGEREF_BAD_TAG);
    ck_assert_int_eq(parse_built("x:", '_', 128, "@sha256:" HEX64, &r), IMAGEREF_OK);
    ck_assert_int_eq(parse_built("x:", '_', 129, "@sha256:" HEX64, &r), IMAGEREF_BAD_TAG);
}
END_TEST

START_TEST(test_digest_lengths)
{
    static const struct {
        const char *algo;
        size_t good;
    } algos[] = {{"x@sha256:", 64}, {"x@sha384:", 96}, {"x@sha512:", 128}};
    imageref_t r;
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(parse_built(algos[i].algo, 'a', algos[i].good, "", &r), IMAGEREF_OK);
        ck_assert_uint_eq(r.digest.n, strlen(algos[i].algo) - 2 + algos[i].good);
        ck_assert_int_eq(parse_built(algos[i].algo, 'a', algos[i].good - 1, "", &r),
                         IMAGEREF_BAD_DIGEST);
        ck_assert_int_eq(parse_built(algos[i].algo, 'a', algos[i].good + 1, "", &r),
                         IMAGEREF_BAD_DIGEST);
        ck_assert_int_eq(parse_built(algos[i].algo, 'A', algos[i].good, "", &r),
                         IMAGEREF_BAD_DIGEST);
        ck_assert_int_eq(parse_built(algos[i].algo, '9', 32, "", &r), IMAGEREF_BAD_DIGEST);
    }
}
END_TEST

/* ---- other entry points ----------------------------------------------- */

START_TEST(test_length_is_respected)
{
    /* Only the first n bytes are the reference. */
    const char *s = "nginx:1.25 trailing garbage";
    imageref_t r;
    ck_assert_int_eq(imageref_parse(s, 10, &r), IMAGEREF_OK);
    ck_assert_strview_eq(r.tag, "1.25");
    ck_assert_int_eq(imageref_parse(s, 11, &r), IMAGEREF_WHITESPACE);
    ck_assert_int_eq(imageref_parse("a\0b", 3, &r), IMAGEREF_WHITESPACE);
    ck_assert_int_eq(imageref_parse(NULL, 0, &r), IMAGEREF_EMPTY);
    ck_assert_int_eq(imageref_parse("nginx", 5, NULL), IMAGEREF_OK);
    ck_assert_int_eq(imageref_parse("Nginx", 5, NULL), IMAGEREF_UPPERCASE);
}
END_TEST

START_TEST(test_strerror)
{
    const imageref_err_t all[] = {
        IMAGEREF_OK,         IMAGEREF_EMPTY,         IMAGEREF_BAD_FORMAT,
        IMAGEREF_UPPERCASE,  IMAGEREF_NAME_TOO_LONG, IMAGEREF_BAD_TAG,
        IMAGEREF_BAD_DIGEST, IMAGEREF_HEX_NAME,      IMAGEREF_WHITESPACE,
    };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *m = imageref_strerror(all[i]);
        ck_assert_ptr_nonnull(m);
        ck_assert_uint_gt(strlen(m), 5);
        ck_assert_ptr_null(strchr(m, '\n'));
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(m, imageref_strerror(all[j]));
    }
    ck_assert_str_eq(imageref_strerror(IMAGEREF_UPPERCASE), "repository name must be lowercase");
}
END_TEST

START_TEST(test_domain_host)
{
    static const struct {
        const char *ref, *host;
    } cases[] = {
        {"localhost:5000/x", "localhost"},
        {"example.com/x", "example.com"},
        {"Example.COM:443/x/y:t", "Example.COM"},
        {"[::1]:5000/x", "[::1]"},
        {"[::1]/x", "[::1]"},
        {"127.0.0.1:80/x", "127.0.0.1"},
        {"nginx", ""},
        {"foo/bar", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        imageref_t r;
        ck_assert_int_eq(imageref_parse(cases[i].ref, strlen(cases[i].ref), &r), IMAGEREF_OK);
        ck_assert_strview_eq(imageref_domain_host(r.domain), cases[i].host);
    }
    strview_t empty = {NULL, 0};
    ck_assert_uint_eq(imageref_domain_host(empty).n, 0);
}
END_TEST

/* ---- registry rule ------------------------------------------------------ */

typedef struct {
    const char *in;
    const char *out; /* NULL: rejected */
    bool stripped;
    const char *why; /* expected reason when rejected */
} registry_case_t;

static const registry_case_t registry_cases[] = {
    {"ghcr.io/username", "ghcr.io/username", false, NULL},
    {"docker.io/username", "docker.io/username", false, NULL},
    {"localhost:30000", "localhost:30000", false, NULL},
    {"localhost", "localhost", false, NULL},
    {"localhost:5000/a/b", "localhost:5000/a/b", false, NULL},
    {"k3d-registry.localhost:5000", "k3d-registry.localhost:5000", false, NULL},
    {"GHCR.IO/MyOrg", "ghcr.io/myorg", false, NULL},
    {"https://ghcr.io/org", "ghcr.io/org", true, NULL},
    {"http://localhost:5000", "localhost:5000", true, NULL},
    {"HTTPS://GHCR.io/Org", "ghcr.io/org", true, NULL},
    {"HTTP://reg.example.com", "reg.example.com", true, NULL},
    {"us-central1-docker.pkg.dev/proj/repo/sub", "us-central1-docker.pkg.dev/proj/repo/sub", false,
     NULL},
    {"123456789012.dkr.ecr.us-east-1.amazonaws.com/union",
     "123456789012.dkr.ecr.us-east-1.amazonaws.com/union", false, NULL},
    {"myreg.azurecr.io", "myreg.azurecr.io", false, NULL},
    {"reg.example.com:65535/a_b/c.d-e", "reg.example.com:65535/a_b/c.d-e", false, NULL},
    {"10.0.0.1:5000/x", "10.0.0.1:5000/x", false, NULL},
    {"", NULL, false, "registry is empty"},
    {"https://", NULL, true, "registry has no host after the scheme"},
    {"ghcr.io/x/flyte-scklearn:latest", NULL, false, "registry must not contain a tag or digest"},
    {"https://ghcr.io/x:v1", NULL, true, "registry must not contain a tag or digest"},
    {"ghcr.io/x@sha256:" HEX64, NULL, false, "registry must not contain a tag or digest"},
    {"ghcr.io@sha256:" HEX64, NULL, false, "registry must not contain a tag or digest"},
    {"ghcr.io:latest", NULL, false, "registry must not contain a tag or digest"},
    {"ghcr.io//x", NULL, false, "registry has an empty path segment"},
    {"ghcr.io/a//b", NULL, false, "registry has an empty path segment"},
    {"ghcr.io/x/", NULL, false, "registry must not end with '/'"},
    {"ghcr.io/", NULL, false, "registry must not end with '/'"},
    {"/x", NULL, false, "registry has no host"},
    {":5000/x", NULL, false, "registry has no host"},
    {"ftp://ghcr.io", NULL, false,
     "registry must not contain a scheme other than http:// or https://"},
    {"https://https://ghcr.io", NULL, true,
     "registry must not contain a scheme other than http:// or https://"},
    {"ghcr.io:123456/x", NULL, false, "registry port must be 1 to 5 digits"},
    {"ghcr.io:/x", NULL, false, "registry port must be 1 to 5 digits"},
    {"ghcr.io:", NULL, false, "registry port must be 1 to 5 digits"},
    {"ghcr.io:5x/y", NULL, false, "registry port must be 1 to 5 digits"},
    {"ghcr.io:99999", NULL, false, "registry port is out of range (above 65535)"},
    {"ghcr io", NULL, false, "registry contains whitespace or control characters"},
    {"ghcr.io/x y", NULL, false, "registry contains whitespace or control characters"},
    {" ghcr.io", NULL, false, "registry contains whitespace or control characters"},
    {"ghcr.io\n", NULL, false, "registry contains whitespace or control characters"},
    {"ghc!r.io", NULL, false, "registry host may only contain letters, digits, '.', '_' and '-'"},
    {"[::1]:5000/x", NULL, false,
     "registry host may only contain letters, digits, '.', '_' and '-'"},
    {"ghcr.io/a+b", NULL, false,
     "registry path segments may only contain letters, digits, '.', '_' and '-'"},
    {"ghcr.io/ü", NULL, false,
     "registry path segments may only contain letters, digits, '.', '_' and '-'"},
};

START_TEST(test_registry_rule)
{
    const registry_case_t *c = &registry_cases[_i];
    size_t n = strlen(c->in);
    char *buf = exact_copy(c->in, n);
    char out[300];
    bool stripped = !c->stripped;
    const char *why = "unset";
    bool ok = imageref_parse_registry(buf, n, out, sizeof out, &stripped, &why);
    if (c->out != NULL) {
        ck_assert_msg(ok, "'%s' rejected: %s", c->in, why ? why : "(null)");
        ck_assert_str_eq(out, c->out);
        ck_assert_ptr_null(why);
    } else {
        ck_assert_msg(!ok, "'%s' accepted as '%s'", c->in, out);
        ck_assert_ptr_nonnull(why);
        ck_assert_str_eq(why, c->why);
        ck_assert_str_eq(out, "");
    }
    ck_assert_msg(stripped == c->stripped, "'%s': scheme_stripped %d", c->in, stripped);
    free(buf);
}
END_TEST

START_TEST(test_registry_bounds)
{
    char out[300];
    const char *why = NULL;
    bool stripped;
    /* 253 characters leave room for "/x" within 255; 254 do not. */
    char *s = repeat('a', 254);
    ck_assert(imageref_parse_registry(s, 253, out, sizeof out, &stripped, &why));
    ck_assert_uint_eq(strlen(out), 253);
    ck_assert(!imageref_parse_registry(s, 254, out, sizeof out, &stripped, &why));
    ck_assert_str_eq(why, "registry is too long to form an image name of at most 255 characters");
    free(s);
    /* The output buffer must hold the value and its NUL. */
    ck_assert(imageref_parse_registry("ghcr.io/x", 9, out, 10, &stripped, &why));
    ck_assert_str_eq(out, "ghcr.io/x");
    ck_assert(!imageref_parse_registry("ghcr.io/x", 9, out, 9, &stripped, &why));
    ck_assert_str_eq(why, "registry does not fit in the output buffer");
    ck_assert(!imageref_parse_registry("ghcr.io/x", 9, NULL, 0, &stripped, &why));
    /* Only n bytes are read. */
    ck_assert(imageref_parse_registry("ghcr.io/x:tag", 9, out, sizeof out, &stripped, &why));
    ck_assert_str_eq(out, "ghcr.io/x");
    /* Optional outputs may be NULL. */
    ck_assert(imageref_parse_registry("https://ghcr.io", 15, out, sizeof out, NULL, NULL));
    ck_assert_str_eq(out, "ghcr.io");
    ck_assert(!imageref_parse_registry("ghcr.io:tag", 11, out, sizeof out, NULL, NULL));
}
END_TEST

START_TEST(test_registry_output_forms_valid_reference)
{
    /* Every accepted registry whose host part looks like a domain gives a
     * valid reference once a name and a tag are appended. */
    for (size_t i = 0; i < sizeof registry_cases / sizeof registry_cases[0]; i++) {
        const registry_case_t *c = &registry_cases[i];
        if (c->out == NULL || strchr(c->out, '_') != NULL)
            continue; /* '_' is valid in flytekit hosts but not in domains */
        char out[300], ref[400];
        ck_assert(imageref_parse_registry(c->in, strlen(c->in), out, sizeof out, NULL, NULL));
        int len = snprintf(ref, sizeof ref, "%s/flyte:abc", out);
        ck_assert_int_gt(len, 0);
        imageref_t r;
        ck_assert_msg(imageref_parse(ref, (size_t)len, &r) == IMAGEREF_OK, "%s", ref);
        ck_assert_strview_eq(r.tag, "abc");
    }
}
END_TEST

/* Every byte value at every place of references of several lengths (the
 * check reads eight bytes at a time): whitespace is reported exactly when
 * a byte is a space, a control character or DEL, as a byte-by-byte check
 * says; the other bytes leave the answer to the grammar. */
START_TEST(whitespace_found_at_every_place)
{
    const char *base = "registry.example.com:5000/team/image-name:v1.2.3";
    for (size_t len = 1; len <= strlen(base); len++) {
        char s[64];
        for (size_t at = 0; at < len; at++) {
            for (int b = 0; b < 256; b++) {
                memcpy(s, base, len);
                s[at] = (char)b;
                bool ws = b <= 0x20 || b == 0x7f;
                imageref_t r;
                imageref_err_t e = imageref_parse(s, len, &r);
                ck_assert_msg((e == IMAGEREF_WHITESPACE) == ws, "byte 0x%02x at %zu of %zu: %d", b,
                              at, len, (int)e);
            }
        }
    }
}
END_TEST

Suite *suite_imageref(void)
{
    Suite *s = suite_create("imageref");
    TCase *tc = tcase_create("grammar");
    tcase_add_test(tc, whitespace_found_at_every_place);
    tcase_add_loop_test(tc, test_valid_reference, 0,
                        (int)(sizeof valid_cases / sizeof valid_cases[0]));
    tcase_add_loop_test(tc, test_invalid_reference, 0,
                        (int)(sizeof invalid_cases / sizeof invalid_cases[0]));
    tcase_add_test(tc, test_name_length_limit);
    tcase_add_test(tc, test_tag_length_limit);
    tcase_add_test(tc, test_digest_lengths);
    tcase_add_test(tc, test_length_is_respected);
    tcase_add_test(tc, test_strerror);
    tcase_add_test(tc, test_domain_host);
    suite_add_tcase(s, tc);

    TCase *reg = tcase_create("registry-rule");
    tcase_add_loop_test(reg, test_registry_rule, 0,
                        (int)(sizeof registry_cases / sizeof registry_cases[0]));
    tcase_add_test(reg, test_registry_bounds);
    tcase_add_test(reg, test_registry_output_forms_valid_reference);
    suite_add_tcase(s, reg);
    return s;
}
