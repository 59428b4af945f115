/* wwwauth: WWW-Authenticate challenges and token answers (see wwwauth.h). */
#include "wwwauth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* One parameter value, unquoted, into dst (NUL-terminated). */
static bool read_value(const char *s, size_t n, size_t *i, char *dst, size_t dstsz,
                       const char **why)
{
    size_t o = 0;
    if (*i < n && s[*i] == '"') {
        (*i)++;
        for (;;) {
            if (*i >= n) {
                *why = "unterminated quoted string";
                return false;
            }
            unsigned char c = (unsigned char)s[*i];
            if (c == '"') {
                (*i)++;
                break;
            }
            if (c == '\\') {
                (*i)++;
                if (*i >= n) {
                    *why = "unterminated quoted string";
                    return false;
                }
                c = (unsigned char)s[*i];
            }
            if (is_ctl(c)) {
                *why = "control character in a parameter";
                return false;
            }
            if (o + 1 >= dstsz) {
                *why = "parameter value too long";
                return false;
            }
            dst[o++] = (char)c;
            (*i)++;
        }
    } else {
        /* token68-ish unquoted value: everything up to OWS or ',' */
        while (*i < n && !is_ows(s[*i]) && s[*i] != ',') {
            unsigned char c = (unsigned char)s[*i];
            if (is_ctl(c) || c == '"') {
                *why = "invalid character in a parameter";
                return false;
            }
            if (o + 1 >= dstsz) {
                *why = "parameter value too long";
                return false;
            }
            dst[o++] = (char)c;
            (*i)++;
        }
        if (o == 0) {
            *why = "empty parameter value";
            return false;
        }
    }
    dst[o] = '\0';
    return true;
}

/* The auth-scheme token at s[*i]. */
static bool read_scheme(const char *s, size_t n, size_t *i, wwwauth_t *out, const char **why)
{
    while (*i < n && (is_ows(s[*i]) || s[*i] == ','))
        (*i)++;
    size_t st = *i;
    while (*i < n && is_tchar((unsigned char)s[*i]))
        (*i)++;
    size_t slen = *i - st;
    if (slen == 0) {
        *why = "no authentication scheme";
        return false;
    }
    if (slen == 5 && strncasecmp(s + st, "basic", 5) == 0)
        out->scheme = WWWAUTH_BASIC;
    else if (slen == 6 && strncasecmp(s + st, "bearer", 6) == 0)
        out->scheme = WWWAUTH_BEARER;
    else
        out->scheme = WWWAUTH_UNKNOWN;
    if (*i < n && !is_ows(s[*i]) && s[*i] != ',') {
        *why = "malformed authentication scheme";
        return false;
    }
    return true;
}

/* Which known parameter k[0..klen) is (0 realm, 1 service, 2 scope,
 * 3 error; -1 another one), and where its value goes. */
static int param_slot(wwwauth_t *out, const char *k, size_t klen, char **dst, size_t *dstsz)
{
    if (klen == 5 && strncasecmp(k, "realm", 5) == 0) {
        *dst = out->realm, *dstsz = sizeof out->realm;
        return 0;
    }
    if (klen == 7 && strncasecmp(k, "service", 7) == 0) {
        *dst = out->service, *dstsz = sizeof out->service;
        return 1;
    }
    if (klen == 5 && strncasecmp(k, "scope", 5) == 0) {
        *dst = out->scope, *dstsz = sizeof out->scope;
        return 2;
    }
    if (klen == 5 && strncasecmp(k, "error", 5) == 0) {
        *dst = out->error, *dstsz = sizeof out->error;
        return 3;
    }
    return -1;
}

/* The auth-params of the first challenge, up to where a next challenge
 * starts. seen[]: which known parameters were present. */
static bool read_params(const char *s, size_t n, size_t *i, wwwauth_t *out, bool seen[4],
                        const char **why)
{
    for (;;) {
        while (*i < n && (is_ows(s[*i]) || s[*i] == ','))
            (*i)++;
        if (*i >= n)
            return true;
        size_t ks = *i;
        while (*i < n && is_tchar((unsigned char)s[*i]))
            (*i)++;
        size_t klen = *i - ks, save = *i;
        if (klen == 0) {
            *why = "malformed parameter name";
            return false;
        }
        while (*i < n && is_ows(s[*i]))
            (*i)++;
        if (*i >= n || s[*i] != '=') {
            if (save < n && is_ows(s[save]))
                return true; /* the next challenge starts here */
            *why = "parameter without a value";
            return false;
        }
        (*i)++;
        while (*i < n && is_ows(s[*i]))
            (*i)++;
        char scratch[WWWAUTH_REALM_MAX];
        char *dst = scratch;
        size_t dstsz = sizeof scratch;
        int which = param_slot(out, s + ks, klen, &dst, &dstsz);
        if (which >= 0 && seen[which]) {
            *why = "repeated parameter";
            return false;
        }
        if (!read_value(s, n, i, dst, dstsz, why))
            return false;
        if (which >= 0)
            seen[which] = true;
        while (*i < n && is_ows(s[*i]))
            (*i)++;
        if (*i < n && s[*i] != ',') {
            *why = "missing comma between parameters";
            return false;
        }
    }
}

static bool check_bearer(const wwwauth_t *out, bool have_realm, const char **why)
{
    if (!have_realm) {
        *why = "bearer challenge without a realm";
        return false;
    }
    if (strncasecmp(out->realm, "https://", 8) != 0 && strncasecmp(out->realm, "http://", 7) != 0) {
        *why = "bearer realm is not an http(s) URL";
        return false;
    }
    for (const char *p = out->realm; *p; p++)
        if ((unsigned char)*p <= ' ') {
            *why = "bearer realm contains whitespace";
            return false;
        }
    return true;
}

bool wwwauth_parse(const char *s, size_t n, wwwauth_t *out, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    memset(out, 0, sizeof *out);
    size_t i = 0;
    bool seen[4] = {false, false, false, false};
    if (!read_scheme(s, n, &i, out, why) || !read_params(s, n, &i, out, seen, why))
        return false;
    return out->scheme != WWWAUTH_BEARER || check_bearer(out, seen[0], why);
}

bool wwwauth_parse_token(const char *json, size_t len, char *tok, size_t toksz,
                         unsigned *expires_in, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    *expires_in = 60;
    if (toksz)
        tok[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        *why = "token answer is not a JSON object";
        return false;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (!cJSON_IsString(t) || !t->valuestring[0])
        t = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    bool ok = false;
    if (!cJSON_IsString(t) || !t->valuestring[0]) {
        *why = "token answer has no token";
    } else if (strlen(t->valuestring) >= toksz) {
        *why = "token too long";
    } else {
        ok = true;
        for (const char *p = t->valuestring; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
                *why = "token has characters a header cannot carry";
                ok = false;
                break;
            }
        if (ok)
            strcpy(tok, t->valuestring);
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
    if (ok && cJSON_IsNumber(e) && e->valuedouble >= 1 && e->valuedouble < 1e7)
        *expires_in = (unsigned)e->valuedouble;
    cJSON_Delete(root);
    return ok;
}
