/* fuzz_cloudtok: what cloud token endpoints send back (all bytes a server
 * on the network controls): access-token and refresh-token answers, OAuth2
 * error answers, a token's claims and expiry (jwt.c), and a service-account
 * key file. A token taken from an answer must be safe in a header or a
 * form; a reason must be one line that fits its buffer. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cloudtok.h"
#include "fuzzutil.h"
#include "jwt.h"

static bool one_line(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_copy(data, size);
    char err[120];

    char *tok = NULL;
    int64_t exp = -1;
    if (cloudtok_parse_access(s, size, &tok, &exp, err, sizeof err)) {
        FUZZ_CHECK(tok && cloudtok_token_ok(tok, strlen(tok)));
        FUZZ_CHECK(exp >= 0);
    } else {
        FUZZ_CHECK(tok == NULL && one_line(err, sizeof err) && err[0]);
    }
    free(tok);
    tok = NULL;
    if (cloudtok_parse_refresh(s, size, &tok, err, sizeof err))
        FUZZ_CHECK(tok && cloudtok_token_ok(tok, strlen(tok)));
    else
        FUZZ_CHECK(tok == NULL && one_line(err, sizeof err));
    free(tok);

    char line[64], tiny[4];
    cloudtok_oauth_error(s, size, line, sizeof line);
    FUZZ_CHECK(one_line(line, sizeof line));
    cloudtok_oauth_error(s, size, tiny, sizeof tiny);
    FUZZ_CHECK(one_line(tiny, sizeof tiny));

    const char *why = NULL;
    cJSON *claims = jwt_claims(s, size, &why);
    FUZZ_CHECK(claims ? cJSON_IsObject(claims) : why != NULL);
    cJSON_Delete(claims);
    why = NULL;
    if (jwt_expiry(s, size, &exp, &why))
        FUZZ_CHECK(exp > 0);
    else
        FUZZ_CHECK(why != NULL && exp == 0);

    cloudtok_sakey_t k;
    if (cloudtok_parse_sakey(s, size, &k, err, sizeof err)) {
        FUZZ_CHECK(k.client_email && k.private_key && k.token_uri);
        FUZZ_CHECK(strncasecmp(k.token_uri, "https://", 8) == 0);
        cloudtok_sakey_free(&k);
    } else {
        FUZZ_CHECK(one_line(err, sizeof err) && k.private_key == NULL);
    }
    free(s);
    return 0;
}
