/* registry: recognises Amazon ECR, Google Container Registry, Artifact
 * Registry and Azure Container Registry hosts by hand-written, fully
 * anchored matching, and decides which authenticationType reaches them. */
#include "registry.h"

#include <string.h>

/* Longest DNS host name; anything longer is not a cloud registry. */
#define HOST_MAX 253

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z');
}

/* A single DNS label as these providers issue them: [a-z0-9-]+ (already
 * lowercased), no dots.
 *
 * Deliberately not k8s_dns_label (k8sname.h): that one judges names the
 * API server will accept (at most 63 characters, no '-' at either end),
 * while this one only tells which provider a host belongs to, once the
 * host has already been accepted as part of an image reference. Making it
 * stricter would turn a host such as "eu-.gcr.io" or an ACR name with a
 * trailing '-' from a cloud registry into a generic one, and so change
 * which authenticationType reaches it: a change of policy, not of style. */
static bool is_label(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool has_suffix(const char *s, size_t n, const char *suf, size_t *prefix_n)
{
    size_t sl = strlen(suf);
    if (n < sl || memcmp(s + n - sl, suf, sl) != 0)
        return false;
    *prefix_n = n - sl;
    return true;
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Copies s[0..n) into dst (size dstsz) when it fits; leaves dst empty otherwise. */
static void copy_field(char *dst, size_t dstsz, const char *s, size_t n)
{
    if (n >= dstsz) {
        dst[0] = '\0';
        return;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The first component of a repository path (the GCP project). */
static void copy_project(registry_info_t *out, const char *path, size_t path_n)
{
    size_t n = 0;
    if (path == NULL)
        return;
    while (n < path_n && path[n] != '/')
        n++;
    copy_field(out->project, sizeof out->project, path, n);
}

/* ecr-credential-provider's host pattern, anchored on the whole host:
 *   <12 digits> ".dkr" ("." | "-") "ecr" ["-fips"] "." <region> "." <suffix>
 * with region := [a-z0-9][a-z0-9_-]* and suffix one of the partitions. */
static bool match_ecr(const char *h, size_t n, registry_info_t *out)
{
    static const char *const suffixes[] = {
        "amazonaws.com",
        "amazonaws.com.cn",
        "amazonaws.eu",
        "on.aws",
        "on.amazonwebservices.com.cn",
        "sc2s.sgov.gov",
        "c2s.ic.gov",
        "cloud.adc-e.uk",
        "csp.hci.ic.gov",
    };
    size_t i = 0;
    bool fips = false;

    if (n < 12)
        return false;
    for (; i < 12; i++)
        if (!is_digit(h[i]))
            return false;
    if (n - i < 8 || memcmp(h + i, ".dkr", 4) != 0 || (h[i + 4] != '.' && h[i + 4] != '-') ||
        memcmp(h + i + 5, "ecr", 3) != 0)
        return false;
    i += 8;
    if (n - i >= 5 && memcmp(h + i, "-fips", 5) == 0) {
        fips = true;
        i += 5;
    }
    if (i >= n || h[i] != '.')
        return false;
    i++;
    size_t region = i;
    if (i >= n || !is_alnum(h[i]))
        return false;
    while (i < n && (is_alnum(h[i]) || h[i] == '-' || h[i] == '_'))
        i++;
    size_t region_n = i - region;
    if (i >= n || h[i] != '.')
        return false;
    i++;
    bool known = false;
    for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0] && !known; k++)
        known = eq(h + i, n - i, suffixes[k]);
    if (!known || region_n >= sizeof out->region)
        return false;
    out->kind = REGISTRY_ECR;
    copy_field(out->account, sizeof out->account, h, 12);
    copy_field(out->region, sizeof out->region, h + region, region_n);
    out->fips = fips;
    return true;
}

void registry_classify(const char *host, size_t host_n, const char *path, size_t path_n,
                       registry_info_t *out)
{
    char h[HOST_MAX + 1];
    size_t n = 0, pre;

    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    out->kind = REGISTRY_OTHER;
    if (host == NULL || host_n == 0 || host[0] == '[')
        return; /* no host, or an IPv6 literal */
    while (n < host_n && host[n] != ':')
        n++; /* the port is ignored */
    if (n == 0 || n > HOST_MAX)
        return;
    for (size_t i = 0; i < n; i++)
        h[i] = to_lower(host[i]);
    h[n] = '\0';

    if (match_ecr(h, n, out))
        return;

    if (eq(h, n, "gcr.io") || (has_suffix(h, n, ".gcr.io", &pre) && is_label(h, pre))) {
        out->kind = REGISTRY_GCR;
        copy_project(out, path, path_n);
        return;
    }

    if (has_suffix(h, n, ".pkg.dev", &pre) && is_label(h, pre)) {
        size_t loc_n;
        if (has_suffix(h, pre, "-docker", &loc_n) && loc_n > 0 && loc_n < sizeof out->region) {
            out->kind = REGISTRY_GAR;
            copy_field(out->region, sizeof out->region, h, loc_n);
            copy_project(out, path, path_n);
        }
        return;
    }

    static const char *const acr_suffixes[] = {".azurecr.io", ".azurecr.cn", ".azurecr.de",
                                               ".azurecr.us"};
    for (size_t k = 0; k < sizeof acr_suffixes / sizeof acr_suffixes[0]; k++) {
        if (has_suffix(h, n, acr_suffixes[k], &pre) && is_label(h, pre) &&
            pre < sizeof out->acr_name) {
            out->kind = REGISTRY_ACR;
            copy_field(out->acr_name, sizeof out->acr_name, h, pre);
            return;
        }
    }
}

static const char *const auth_names[] = {
    [AUTH_NOOP] = "noop",   [AUTH_GOOGLE] = "google", [AUTH_AWS] = "aws",
    [AUTH_AZURE] = "azure", [AUTH_BASIC] = "basic",
};

bool auth_type_parse(const char *s, auth_type_t *out)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < sizeof auth_names / sizeof auth_names[0]; i++) {
        if (strcmp(s, auth_names[i]) == 0) {
            if (out != NULL)
                *out = (auth_type_t)i;
            return true;
        }
    }
    return false;
}

const char *auth_type_name(auth_type_t t)
{
    if ((size_t)t < sizeof auth_names / sizeof auth_names[0])
        return auth_names[t];
    return "unknown";
}

const char *registry_kind_name(registry_kind_t k)
{
    switch (k) {
    case REGISTRY_OTHER:
        return "other registry";
    case REGISTRY_ECR:
        return "Amazon ECR";
    case REGISTRY_GCR:
        return "Google Container Registry";
    case REGISTRY_GAR:
        return "Artifact Registry";
    case REGISTRY_ACR:
        return "Azure Container Registry";
    }
    return "unknown registry";
}

bool registry_auth_reaches(auth_type_t t, const registry_info_t *info, bool has_basic_credentials)
{
    registry_kind_t k = info != NULL ? info->kind : REGISTRY_OTHER;
    switch (t) {
    case AUTH_NOOP:
        return true;
    case AUTH_AWS:
        return k == REGISTRY_ECR;
    case AUTH_GOOGLE:
        return k == REGISTRY_GCR || k == REGISTRY_GAR;
    case AUTH_AZURE:
        return k == REGISTRY_ACR;
    case AUTH_BASIC:
        return has_basic_credentials;
    }
    return false;
}

const char *auth_type_reach(auth_type_t t)
{
    switch (t) {
    case AUTH_NOOP:
        return "any registry, without credentials";
    case AUTH_GOOGLE:
        return "Google registries (gcr.io, <region>.gcr.io, <location>-docker.pkg.dev)";
    case AUTH_AWS:
        return "Amazon ECR registries (<account>.dkr.ecr.<region>.amazonaws.com)";
    case AUTH_AZURE:
        return "Azure Container Registry (<name>.azurecr.io, .cn, .de or .us)";
    case AUTH_BASIC:
        return "registries that have basic credentials configured";
    }
    return "no registry";
}
