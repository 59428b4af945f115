/* fuzz_awsproto: the AWS answers the webhook reads from the network (STS
 * XML through awsxml, credential and ECR JSON), AWS timestamps, and the
 * URL and host rules applied to values from the environment. Whatever is
 * taken out of an answer goes into HTTP headers, so it must be a printable
 * token; extracted text must stay in its buffer. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "awsproto.h"
#include "awsxml.h"
#include "fuzzutil.h"

static bool token_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static void check_creds(const awsproto_creds_t *c)
{
    FUZZ_CHECK(token_ok(c->access_key_id));
    FUZZ_CHECK(token_ok(c->secret_access_key));
    FUZZ_CHECK(!c->session_token || token_ok(c->session_token));
}

static void xml_paths(const char *s, size_t size)
{
    static const char *const p1[] = {"R", "E"};
    static const char *const p2[] = {"a", "b", "c", "d", "e"};
    char out[32];
    const char *why = NULL;
    memset(out, 0x5a, sizeof out);
    if (awsxml_text(s, size, p1, 2, out, sizeof out, &why))
        FUZZ_CHECK(memchr(out, '\0', sizeof out) != NULL);
    else
        FUZZ_CHECK(why && why[0] && out[0] == '\0');
    char tiny[1];
    (void)awsxml_text(s, size, p2, 5, tiny, sizeof tiny, &why);
    FUZZ_CHECK(tiny[0] == '\0');
}

static void answers(const char *s, size_t size)
{
    awsproto_creds_t c;
    char why[128], line[160];
    if (awsproto_sts_creds(s, size, &c, why, sizeof why)) {
        check_creds(&c);
        FUZZ_CHECK(c.session_token != NULL && c.expires > 0);
        awsproto_creds_free(&c);
    }
    awsproto_sts_error(s, size, line, sizeof line);
    FUZZ_CHECK(strlen(line) < sizeof line && !strchr(line, '\n'));
    if (awsproto_json_creds(s, size, &c, why, sizeof why)) {
        check_creds(&c);
        awsproto_creds_free(&c);
    }
    char *user = NULL, *pass = NULL;
    int64_t exp = -1;
    if (awsproto_ecr_token(s, size, &user, &pass, &exp, why, sizeof why)) {
        FUZZ_CHECK(token_ok(user) && token_ok(pass) && !strchr(user, ':') && exp >= 0);
        free(user);
        free(pass);
    } else {
        FUZZ_CHECK(user == NULL && pass == NULL);
    }
    awsproto_json_error(s, size, line, sizeof line);
    FUZZ_CHECK(strlen(line) < sizeof line && !strchr(line, '\n'));
}

/* Values that come from the environment, as a NUL-terminated string. */
static void strings(const char *z)
{
    int64_t t;
    (void)awsproto_iso8601(z, strlen(z), &t);
    char host[64], path[64], region[64], url[160];
    bool https;
    if (awsproto_url_parts(z, host, sizeof host, path, sizeof path, &https)) {
        FUZZ_CHECK(host[0] && !strchr(host, '/') && !strchr(host, '@') && path[0] == '/');
        FUZZ_CHECK(!strpbrk(host, " \r\n") && !strpbrk(path, " \r\n?#"));
    }
    (void)awsproto_container_url_ok(z);
    if (awsproto_ecr_api(z, region, sizeof region, url, sizeof url))
        FUZZ_CHECK(strncmp(url, "https://", 8) == 0 && region[0] && !strchr(url + 8, '/'));
    if (awsproto_sts_url(z, true, url, sizeof url))
        FUZZ_CHECK(strncmp(url, "https://sts.", 12) == 0 && !strchr(url + 8, '/'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_copy(data, size);
    xml_paths(s, size);
    answers(s, size);
    free(s);
    char *z = fuzz_dup(data, size);
    strings(z);
    free(z);
    return 0;
}
