/* fuzz_wwwauth: the registry's WWW-Authenticate challenge and the token
 * endpoint's JSON answer (all bytes a registry on the network controls).
 * The realm (which starts the token URL) and the token must be safe to put
 * in a request line and a header. The rest of the token URL is
 * percent-encoded by libcurl in regauth.c (tests/unit/test_regauth.c). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzzutil.h"
#include "wwwauth.h"

static bool header_safe(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_copy(data, size);

    wwwauth_t ch;
    memset(&ch, 0x5a, sizeof ch);
    const char *why = NULL;
    if (wwwauth_parse(s, size, &ch, &why)) {
        FUZZ_CHECK(memchr(ch.realm, '\0', sizeof ch.realm) != NULL);
        FUZZ_CHECK(memchr(ch.service, '\0', sizeof ch.service) != NULL);
        FUZZ_CHECK(memchr(ch.scope, '\0', sizeof ch.scope) != NULL);
        FUZZ_CHECK(memchr(ch.error, '\0', sizeof ch.error) != NULL);
        if (ch.scheme == WWWAUTH_BEARER) {
            FUZZ_CHECK(strncasecmp(ch.realm, "http://", 7) == 0 ||
                       strncasecmp(ch.realm, "https://", 8) == 0);
            /* the realm starts the token request URL (regauth.c): one
             * request-line token */
            size_t rl = strlen(ch.realm);
            FUZZ_CHECK(header_safe(ch.realm, rl) && memchr(ch.realm, ' ', rl) == NULL);
        }
    } else {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
    }

    char tok[4096];
    unsigned expires = 0;
    why = NULL;
    if (wwwauth_parse_token(s, size, tok, sizeof tok, &expires, &why)) {
        size_t n = strnlen(tok, sizeof tok);
        FUZZ_CHECK(n > 0 && n < sizeof tok);
        FUZZ_CHECK(header_safe(tok, n));
        FUZZ_CHECK(expires > 0);
    } else {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
    }
    /* A small token buffer must be refused, not overrun. */
    char small[8];
    (void)wwwauth_parse_token(s, size, small, sizeof small, &expires, &why);
    free(s);
    return 0;
}
