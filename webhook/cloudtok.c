/* cloudtok: key files, assertion claims and token answers of the Google
 * and Azure providers (see cloudtok.h). */
#include "cloudtok.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "errmsg.h"
#include "secret.h"

#define ANSWER_MAX (256 * 1024)

bool cloudtok_token_ok(const char *s, size_t n)
{
    if (n == 0 || n > CLOUDTOK_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

/* The first `max` bytes of s as one line (controls become spaces) in out. */
static const char *oneline(char *out, size_t outsz, const char *s, size_t max)
{
    buf_t b = BUF_INIT;
    buf_put_oneline(&b, s, strnlen(s, max));
    errmsg_set(out, outsz, "%s", b.data && !b.oom ? b.data : "");
    buf_free(&b);
    return out;
}

static cJSON *parse_object(const char *json, size_t len, char *err, size_t errsz)
{
    if (len == 0 || len > ANSWER_MAX) {
        errmsg_set(err, errsz, "answer empty or too large");
        return NULL;
    }
    cJSON *o = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        errmsg_set(err, errsz, "answer is not a JSON object");
        return NULL;
    }
    return o;
}

static const char *string_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* ---- the service-account key file ------------------------------------------ */

static bool dup_field(const cJSON *o, const char *name, bool required, char **dst, char *err,
                      size_t errsz)
{
    const char *v = string_of(o, name);
    if (!v) {
        if (required)
            errmsg_set(err, errsz, "the key file has no \"%s\"", name);
        return !required;
    }
    if (!(*dst = strdup(v))) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    return true;
}

bool cloudtok_parse_sakey(const char *json, size_t len, cloudtok_sakey_t *out, char *err,
                          size_t errsz)
{
    memset(out, 0, sizeof *out);
    char why[80];
    cJSON *o = parse_object(json, len, why, sizeof why);
    if (!o) {
        errmsg_set(err, errsz, "the key file is not a JSON object");
        return false;
    }
    const char *type = string_of(o, "type");
    bool ok = false;
    if (!type || strcmp(type, "service_account") != 0) {
        char t[48];
        oneline(t, sizeof t, type ? type : "", 40);
        errmsg_set(err, errsz, "the key file's type is \"%s\", not \"service_account\"", t);
    } else if (dup_field(o, "client_email", true, &out->client_email, err, errsz) &&
               dup_field(o, "private_key", true, &out->private_key, err, errsz) &&
               dup_field(o, "private_key_id", false, &out->private_key_id, err, errsz) &&
               dup_field(o, "token_uri", false, &out->token_uri, err, errsz)) {
        if (!out->token_uri && !(out->token_uri = strdup(CLOUDTOK_GOOGLE_TOKEN_URI)))
            errmsg_set(err, errsz, "out of memory");
        else if (strncasecmp(out->token_uri, "https://", 8) != 0 ||
                 strcspn(out->token_uri, " \t\r\n") != strlen(out->token_uri))
            errmsg_set(err, errsz, "the key file's token_uri is not an https:// URL");
        else
            ok = true;
    }
    cJSON_Delete(o);
    if (!ok)
        cloudtok_sakey_free(out);
    return ok;
}

void cloudtok_sakey_free(cloudtok_sakey_t *k)
{
    if (!k)
        return;
    free(k->client_email);
    secret_free(k->private_key);
    free(k->private_key_id);
    free(k->token_uri);
    memset(k, 0, sizeof *k);
}

char *cloudtok_google_claims(const cloudtok_sakey_t *k, int64_t now)
{
    cJSON *c = cJSON_CreateObject();
    char *out = NULL;
    if (c && cJSON_AddStringToObject(c, "iss", k->client_email) &&
        cJSON_AddStringToObject(c, "scope", CLOUDTOK_GOOGLE_SCOPE) &&
        cJSON_AddStringToObject(c, "aud", k->token_uri) &&
        cJSON_AddNumberToObject(c, "iat", (double)now) &&
        cJSON_AddNumberToObject(c, "exp", (double)(now + CLOUDTOK_ASSERTION_SECONDS)))
        out = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    return out;
}

/* ---- token answers ------------------------------------------------------------ */

static bool take_token(const cJSON *o, const char *name, char **token, char *err, size_t errsz)
{
    const char *t = string_of(o, name);
    if (!t) {
        errmsg_set(err, errsz, "no %s in the answer", name);
        return false;
    }
    if (!cloudtok_token_ok(t, strlen(t))) {
        errmsg_set(err, errsz, "the %s is too long or has characters a header cannot carry", name);
        return false;
    }
    if (!(*token = strdup(t))) {
        errmsg_set(err, errsz, "out of memory");
        return false;
    }
    return true;
}

/* expires_in as a number or a string of digits (at most ten years). */
static bool read_expires_in(const cJSON *o, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "expires_in");
    *out = 0;
    if (!v)
        return true;
    double d = -1;
    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) <= 10 &&
               strspn(v->valuestring, "0123456789") == strlen(v->valuestring)) {
        d = (double)strtoll(v->valuestring, NULL, 10);
    }
    if (!(d >= 0 && d <= 10.0 * 366 * 24 * 3600))
        return false;
    *out = (int64_t)d;
    return true;
}

bool cloudtok_parse_access(const char *json, size_t len, char **token, int64_t *expires_in,
                           char *err, size_t errsz)
{
    *token = NULL;
    *expires_in = 0;
    cJSON *o = parse_object(json, len, err, errsz);
    if (!o)
        return false;
    const char *type = string_of(o, "token_type");
    bool ok = false;
    char t[32];
    if (type && strcasecmp(type, "Bearer") != 0)
        errmsg_set(err, errsz, "token_type is \"%s\", not Bearer", oneline(t, sizeof t, type, 20));
    else if (!read_expires_in(o, expires_in))
        errmsg_set(err, errsz, "expires_in is not a number of seconds");
    else
        ok = take_token(o, "access_token", token, err, errsz);
    cJSON_Delete(o);
    return ok;
}

bool cloudtok_parse_refresh(const char *json, size_t len, char **token, char *err, size_t errsz)
{
    *token = NULL;
    cJSON *o = parse_object(json, len, err, errsz);
    if (!o)
        return false;
    bool ok = take_token(o, "refresh_token", token, err, errsz);
    cJSON_Delete(o);
    return ok;
}

/* ---- error answers ------------------------------------------------------------- */

/* Appends "code: message" (first line of message) to b. */
static void put_error(buf_t *b, const char *code, const char *msg)
{
    if (code)
        buf_put_oneline(b, code, strnlen(code, 64));
    if (code && msg)
        buf_puts(b, ": ");
    if (msg)
        buf_put_oneline(b, msg, strcspn(msg, "\r\n") < 300 ? strcspn(msg, "\r\n") : 300);
}

void cloudtok_oauth_error(const char *json, size_t len, char *out, size_t outsz)
{
    if (outsz)
        out[0] = '\0';
    cJSON *o = parse_object(json, len, NULL, 0);
    if (!o)
        return;
    buf_t b = BUF_INIT;
    const char *code = string_of(o, "error"), *msg = string_of(o, "error_description");
    if (code || msg) {
        put_error(&b, code, msg);
    } else { /* the registry form: {"errors":[{"code","message"}]} */
        const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "errors"), 0);
        if (cJSON_IsObject(first) && (string_of(first, "code") || string_of(first, "message")))
            put_error(&b, string_of(first, "code"), string_of(first, "message"));
    }
    if (b.len && !b.oom)
        errmsg_set(out, outsz, "%s", b.data);
    buf_free(&b);
    cJSON_Delete(o);
}
