/* awsproto: AWS answers and endpoints (see awsproto.h). */
#include "awsproto.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "awsxml.h"
#include "base64.h"
#include "errmsg.h"
#include "registry.h"
#include "secret.h"

void awsproto_creds_free(awsproto_creds_t *c)
{
    if (!c)
        return;
    secret_free(c->access_key_id);
    secret_free(c->secret_access_key);
    secret_free(c->session_token);
    memset(c, 0, sizeof *c);
}

/* A credential goes into a header: printable ASCII, no space, not empty. */
static bool header_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s >= 0x7f)
            return false;
    return true;
}

static bool take(char **dst, const char *s, const char *what, char *why, size_t whysz)
{
    if (!header_token(s)) {
        errmsg_set(why, whysz, "%s is missing or not a printable token", what);
        return false;
    }
    if (!(*dst = strdup(s))) {
        errmsg_set(why, whysz, "out of memory");
        return false;
    }
    return true;
}

/* ---- STS -------------------------------------------------------------------------------- */

static bool sts_field(const char *xml, size_t n, const char *leaf, char *out, size_t outsz)
{
    const char *path[] = {"AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult",
                          "Credentials", leaf};
    return awsxml_text(xml, n, path, 4, out, outsz, NULL);
}

bool awsproto_sts_creds(const char *xml, size_t n, awsproto_creds_t *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    char *v = malloc(AWSPROTO_VALUE_MAX);
    if (!v) {
        errmsg_set(why, whysz, "out of memory");
        return false;
    }
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken"};
    char **dst[] = {&out->access_key_id, &out->secret_access_key, &out->session_token};
    bool ok = true;
    for (size_t i = 0; i < 3 && ok; i++) {
        if (!sts_field(xml, n, names[i], v, AWSPROTO_VALUE_MAX)) {
            errmsg_set(why, whysz, "STS answer without a usable Credentials/%s", names[i]);
            ok = false;
        } else {
            ok = take(dst[i], v, names[i], why, whysz);
        }
    }
    if (ok && (!sts_field(xml, n, "Expiration", v, AWSPROTO_VALUE_MAX) ||
               !awsproto_iso8601(v, strlen(v), &out->expires))) {
        errmsg_set(why, whysz, "STS answer without a valid Credentials/Expiration");
        ok = false;
    }
    secret_free_n(v, AWSPROTO_VALUE_MAX);
    if (!ok)
        awsproto_creds_free(out);
    return ok;
}

/* Control characters out, for one-line messages. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

void awsproto_sts_error(const char *xml, size_t n, char *out, size_t outsz)
{
    const char *code_path[] = {"ErrorResponse", "Error", "Code"};
    const char *msg_path[] = {"ErrorResponse", "Error", "Message"};
    char code[64], msg[256];
    if (outsz)
        out[0] = '\0';
    if (!awsxml_text(xml, n, code_path, 3, code, sizeof code, NULL) || !code[0])
        return;
    if (!awsxml_text(xml, n, msg_path, 3, msg, sizeof msg, NULL))
        msg[0] = '\0';
    one_line(code);
    one_line(msg);
    errmsg_set(out, outsz, "%s%s%s", code, msg[0] ? ": " : "", msg);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool awsproto_json_creds(const char *json, size_t n, awsproto_creds_t *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    cJSON *root = json && n ? cJSON_ParseWithLength(json, n) : NULL;
    bool ok = false;
    if (!cJSON_IsObject(root)) {
        errmsg_set(why, whysz, "credentials answer is not a JSON object");
        goto out;
    }
    const char *code = json_str(root, "Code");
    if (code && strcmp(code, "Success") != 0) {
        char c[64];
        snprintf(c, sizeof c, "%s", code);
        one_line(c);
        errmsg_set(why, whysz, "credentials answer has Code \"%s\"", c);
        goto out;
    }
    const char *token = json_str(root, "Token");
    const char *exp = json_str(root, "Expiration");
    if (!take(&out->access_key_id, json_str(root, "AccessKeyId"), "AccessKeyId", why, whysz) ||
        !take(&out->secret_access_key, json_str(root, "SecretAccessKey"), "SecretAccessKey", why,
              whysz) ||
        (token && *token && !take(&out->session_token, token, "Token", why, whysz)))
        goto out;
    if (exp && !awsproto_iso8601(exp, strlen(exp), &out->expires)) {
        errmsg_set(why, whysz, "credentials answer has an invalid Expiration");
        goto out;
    }
    ok = true;
out:
    if (root) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "SecretAccessKey");
        if (cJSON_IsString(t))
            memset(t->valuestring, 0, strlen(t->valuestring));
        cJSON_Delete(root);
    }
    if (!ok)
        awsproto_creds_free(out);
    return ok;
}

/* user:password of the decoded authorizationToken. */
static bool split_token(const char *b64, char **user, char **pass, char *why, size_t whysz)
{
    size_t len = 0;
    unsigned char *raw = b64 ? base64_decode(b64, strlen(b64), 0, &len) : NULL;
    char *colon = raw ? memchr(raw, ':', len) : NULL;
    bool ok = false;
    if (!colon || colon == (char *)raw || strlen((char *)raw) != len) {
        errmsg_set(why, whysz, "authorizationToken is not base64 of user:password");
    } else {
        *colon = '\0';
        if (!header_token((char *)raw) || !header_token(colon + 1))
            errmsg_set(why, whysz, "authorizationToken holds unprintable characters");
        else if (!(*user = strdup((char *)raw)) || !(*pass = strdup(colon + 1)))
            errmsg_set(why, whysz, "out of memory");
        else
            ok = true;
    }
    secret_free_n(raw, len);
    if (!ok) {
        secret_free(*user);
        secret_free(*pass);
        *user = *pass = NULL;
    }
    return ok;
}

bool awsproto_ecr_token(const char *json, size_t n, char **user, char **pass, int64_t *expires,
                        char *why, size_t whysz)
{
    *user = *pass = NULL;
    *expires = 0;
    cJSON *root = json && n ? cJSON_ParseWithLength(json, n) : NULL;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "authorizationData");
    const cJSON *first = cJSON_IsArray(data) ? cJSON_GetArrayItem(data, 0) : NULL;
    bool ok = false;
    if (!cJSON_IsObject(first)) {
        errmsg_set(why, whysz, "GetAuthorizationToken answer without authorizationData");
    } else if (split_token(json_str(first, "authorizationToken"), user, pass, why, whysz)) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(first, "expiresAt");
        if (cJSON_IsNumber(e) && e->valuedouble > 0 && e->valuedouble < 253402300800.0)
            *expires = (int64_t)e->valuedouble;
        ok = true;
    }
    cJSON *tok = cJSON_IsObject(first)
                     ? cJSON_GetObjectItemCaseSensitive(first, "authorizationToken")
                     : NULL;
    if (cJSON_IsString(tok))
        memset(tok->valuestring, 0, strlen(tok->valuestring));
    cJSON_Delete(root);
    return ok;
}

void awsproto_json_error(const char *json, size_t n, char *out, size_t outsz)
{
    if (outsz)
        out[0] = '\0';
    cJSON *root = json && n ? cJSON_ParseWithLength(json, n) : NULL;
    const char *type = json_str(root, "__type");
    if (type && *type) {
        const char *hash = strrchr(type, '#'); /* "com.amazon...#AccessDeniedException" */
        const char *msg = json_str(root, "message");
        if (!msg)
            msg = json_str(root, "Message");
        char t[96], m[256];
        snprintf(t, sizeof t, "%s", hash ? hash + 1 : type);
        snprintf(m, sizeof m, "%s", msg ? msg : "");
        one_line(t);
        one_line(m);
        errmsg_set(out, outsz, "%s%s%s", t, m[0] ? ": " : "", m);
    }
    cJSON_Delete(root);
}

/* ---- time ------------------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_of_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t k, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < k; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return true;
}

bool awsproto_iso8601(const char *s, size_t n, int64_t *out)
{
    unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
    if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        unsigned frac;
        size_t k = 0;
        while (i + 1 + k < n && k < 9 && s[i + 1 + k] >= '0' && s[i + 1 + k] <= '9')
            k++;
        if (k == 0 || !digits(s + i + 1, k, &frac))
            return false;
        i += 1 + k;
    }
    int sign = 0;
    if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2, &oh) &&
               s[i + 3] == ':' && digits(s + i + 4, 2, &om) && oh < 24 && om < 60) {
        sign = s[i] == '+' ? 1 : -1;
        i += 6;
    }
    if (i != n)
        return false;
    int64_t t = days_of_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + se;
    *out = t - sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
    return true;
}

/* ---- endpoints ----------------------------------------------------------------------------- */

const char *awsproto_configured_endpoint(const char *service_url, const char *global_url,
                                         const char *ignore)
{
    if (ignore && strcasecmp(ignore, "true") == 0)
        return NULL;
    if (service_url && *service_url)
        return service_url;
    return global_url && *global_url ? global_url : NULL;
}

static bool region_name_ok(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9') || r[i] == '-'))
            return false;
    return true;
}

const char *awsproto_dns_suffix(const char *region)
{
    static const struct {
        const char *prefix, *suffix;
    } parts[] = {
        {"cn-", "amazonaws.com.cn"}, {"us-isob-", "sc2s.sgov.gov"},  {"us-isof-", "csp.hci.ic.gov"},
        {"us-iso-", "c2s.ic.gov"},   {"eu-isoe-", "cloud.adc-e.uk"}, {"eusc-", "amazonaws.eu"},
    };
    if (!region || !region_name_ok(region))
        return NULL;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (strncmp(region, parts[i].prefix, strlen(parts[i].prefix)) == 0)
            return parts[i].suffix;
    return "amazonaws.com"; /* the commercial partition and AWS GovCloud (US) */
}

bool awsproto_sts_url(const char *region, bool legacy, char *out, size_t outsz)
{
    bool global = !region || !*region;
    const char *suffix = global ? "amazonaws.com" : awsproto_dns_suffix(region);
    if (!suffix)
        return false;
    bool commercial =
        !global && strcmp(suffix, "amazonaws.com") == 0 && strncmp(region, "us-gov-", 7) != 0;
    int w;
    if (global || (legacy && commercial))
        w = snprintf(out, outsz, "https://sts.amazonaws.com");
    else
        w = snprintf(out, outsz, "https://sts.%s.%s", region, suffix);
    return w > 0 && (size_t)w < outsz;
}

bool awsproto_ecr_api(const char *host, char *region, size_t regionsz, char *url, size_t urlsz)
{
    size_t hn = strcspn(host, ":");
    registry_info_t info;
    registry_classify(host, hn, NULL, 0, &info);
    if (info.kind != REGISTRY_ECR)
        return false;
    /* <account>.dkr.ecr[-fips].<region>.<suffix> or <account>.dkr-ecr[-fips]... (dual-stack) */
    bool dual = host[16] == '-';
    size_t rl = strlen(info.region);
    const char *suffix = host + 12 + 8 + (info.fips ? 5 : 0) + 1 + rl + 1;
    size_t sl = hn - (size_t)(suffix - host);
    char sfx[64];
    if (sl >= sizeof sfx || (size_t)snprintf(region, regionsz, "%s", info.region) >= regionsz)
        return false;
    memcpy(sfx, suffix, sl);
    sfx[sl] = '\0';
    for (char *p = sfx; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    const char *svc = info.fips ? "ecr-fips" : dual ? "ecr" : "api.ecr";
    const char *dom = sfx;
    if (strcmp(sfx, "on.aws") == 0)
        dom = "api.aws";
    else if (strcmp(sfx, "on.amazonwebservices.com.cn") == 0)
        dom = "api.amazonwebservices.com.cn";
    int w = snprintf(url, urlsz, "https://%s.%s.%s", svc, info.region, dom);
    return w > 0 && (size_t)w < urlsz;
}

static bool copy_piece(char *dst, size_t dstsz, const char *s, size_t n)
{
    if (n >= dstsz)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* The authority (host[:port]) of an http(s) URL without user information,
 * query or fragment, and what follows it. */
static bool split_url(const char *url, bool *https, const char **auth, size_t *an,
                      const char **tail)
{
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0) {
        *https = true;
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        *https = false;
        rest = url + 7;
    } else {
        return false;
    }
    *an = strcspn(rest, "/?#");
    *auth = rest;
    *tail = rest + *an;
    return *an > 0 && !memchr(rest, '@', *an) && !strpbrk(*tail, "?#") && !strpbrk(url, " \t\r\n");
}

bool awsproto_url_parts(const char *url, char *host, size_t hostsz, char *path, size_t pathsz,
                        bool *https)
{
    const char *auth, *tail;
    size_t an;
    if (!split_url(url, https, &auth, &an, &tail))
        return false;
    const char *def = *https ? ":443" : ":80";
    size_t dl = strlen(def);
    if (an > dl && memcmp(auth + an - dl, def, dl) == 0)
        an -= dl; /* curl leaves the scheme's default port out of Host too */
    return copy_piece(host, hostsz, auth, an) &&
           copy_piece(path, pathsz, *tail ? tail : "/", *tail ? strlen(tail) : 1);
}

static bool host_is(const char *h, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(h, lit, n) == 0;
}

/* 127.0.0.0/8 written as a dotted quad. */
static bool ipv4_loopback(const char *h, size_t n)
{
    if (n < 7 || n > 15 || strncmp(h, "127.", 4) != 0)
        return false;
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '.')
            dots++;
        else if (h[i] < '0' || h[i] > '9')
            return false;
    }
    return dots == 3;
}

bool awsproto_container_url_ok(const char *url)
{
    const char *auth, *tail;
    size_t an;
    bool https;
    if (!url || !split_url(url, &https, &auth, &an, &tail))
        return false;
    if (https)
        return true;
    size_t hn = an;
    if (auth[0] == '[') {
        const char *rb = memchr(auth, ']', an);
        if (!rb)
            return false;
        hn = (size_t)(rb - auth) + 1;
    } else {
        const char *colon = memchr(auth, ':', an);
        if (colon)
            hn = (size_t)(colon - auth);
    }
    return ipv4_loopback(auth, hn) || host_is(auth, hn, "localhost") ||
           host_is(auth, hn, "[::1]") || host_is(auth, hn, "169.254.170.2") ||
           host_is(auth, hn, "169.254.170.23") || host_is(auth, hn, "[fd00:ec2::23]");
}
