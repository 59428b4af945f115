/* config_check: the configuration's value checks (names, repositories,
 * registries, URLs, listen addresses, ...), each called by the schema once
 * its key is read (the checks across keys are in config_cross.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "config_int.h"
#include "imageref.h"
#include "k8sname.h"
#include "registry.h"
#include "strlist.h"
#include "yamldoc.h"

/* ---- string helpers ------------------------------------------------------------ */

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            return true;
    return false;
}

static bool has_space_or_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

static bool starts_with_ci(const char *s, size_t n, const char *prefix)
{
    size_t pn = strlen(prefix);
    if (n < pn)
        return false;
    for (size_t i = 0; i < pn; i++)
        if (tolower((unsigned char)s[i]) != prefix[i])
            return false;
    return true;
}

/* ---- values ------------------------------------------------------------------ */

void cfg_check_configmap(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    if (!k8s_dns_subdomain(v->str, v->len))
        CFG_ERR(x, v,
                "%s: %s is not a valid ConfigMap name; use lowercase letters, digits, '-' and "
                "'.', starting and ending with a letter or digit (at most 253 characters)",
                path, cfg_shown(v).s);
}

void cfg_check_buildkit_uri(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    if (v->len == 0)
        return;
    static const char *const schemes[] = {"tcp://", "unix://", "kube-pod://"};
    for (size_t i = 0; i < 3; i++) {
        size_t sl = strlen(schemes[i]);
        if (v->len > sl && memcmp(v->str, schemes[i], sl) == 0) {
            if (has_space_or_ctl(v->str, v->len))
                break;
            return;
        }
    }
    CFG_ERR(x, v,
            "%s: %s is not a buildkit address; write tcp://HOST:PORT, unix:///PATH or "
            "kube-pod://POD (e.g. tcp://buildkitd.buildkit.svc.cluster.local:1234), or leave it "
            "empty to use the chart's buildkit",
            path, cfg_shown(v).s);
}

#define REPO_EXAMPLE                                                                               \
    "e.g. ghcr.io/my-org/images or 123456789012.dkr.ecr.us-east-1.amazonaws.com/union"

/* Whether the first component `h[0..n)` of a repository is a registry host. */
static bool explicit_domain(const char *h, size_t n)
{
    if (memchr(h, '.', n) || (n == 9 && memcmp(h, "localhost", 9) == 0))
        return true;
    const char *colon = memchr(h, ':', n);
    return colon != NULL;
}

/* An ECR-looking host that the ECR pattern refuses. Returns true (after
 * reporting) when the host is such a look-alike. */
static bool bad_ecr_host(cfg_ctx_t *x, const ynode_t *v, const char *path, const char *host,
                         size_t host_n, registry_kind_t kind)
{
    if (kind == REGISTRY_ECR)
        return false;
    char h[256];
    size_t n = host_n < sizeof h - 1 ? host_n : sizeof h - 1;
    for (size_t i = 0; i < n; i++)
        h[i] = (char)tolower((unsigned char)host[i]);
    h[n] = '\0';
    char *colon = strchr(h, ':');
    if (colon)
        *colon = '\0';
    const char *p = strstr(h, "dkr.ecr");
    if (!p)
        p = strstr(h, "dkr-ecr");
    if (!p)
        return false;
    size_t acct = p > h ? (size_t)(p - h) - 1 : 0;
    bool digits12 = acct == 12 && p[-1] == '.';
    for (size_t i = 0; digits12 && i < 12; i++)
        digits12 = h[i] >= '0' && h[i] <= '9';
    if (!digits12)
        CFG_ERR(x, v,
                "%s: %s: the ECR host needs the 12-digit account id; write "
                "<account>.dkr.ecr.<region>.amazonaws.com/<repository>",
                path, cfg_shown(v).s);
    else
        CFG_ERR(x, v,
                "%s: %s is not a valid Amazon ECR host; write "
                "<account>.dkr.ecr.<region>.amazonaws.com/<repository>",
                path, cfg_shown(v).s);
    return true;
}

/* The repository r[0..n) as typed: no scheme, no whitespace, lowercase. */
static bool repo_spelling_ok(cfg_ctx_t *x, const ynode_t *v, const char *path, const char *r,
                             size_t n)
{
    if (starts_with_ci(r, n, "https://") || starts_with_ci(r, n, "http://")) {
        CFG_ERR(x, v, "%s: %s: remove the %s prefix; write host/path only (" REPO_EXAMPLE ")", path,
                cfg_shown(v).s, starts_with_ci(r, n, "https://") ? "https://" : "http://");
        return false;
    }
    if (strstr(r, "://")) {
        CFG_ERR(x, v, "%s: %s: a repository has no scheme; write host/path only (" REPO_EXAMPLE ")",
                path, cfg_shown(v).s);
        return false;
    }
    if (has_space_or_ctl(r, n)) {
        CFG_ERR(x, v, "%s: %s contains whitespace; remove it", path, cfg_shown(v).s);
        return false;
    }
    if (has_upper(r, n)) {
        char low[80];
        size_t m = n < sizeof low - 1 ? n : sizeof low - 1;
        for (size_t i = 0; i < m; i++)
            low[i] = (char)tolower((unsigned char)r[i]);
        low[m] = '\0';
        CFG_ERR(x, v, "%s: %s must be lowercase; write %s", path, cfg_shown(v).s,
                cfg_show(low, m).s);
        return false;
    }
    return true;
}

/* The repository starts with a registry host (and not an ECR look-alike). */
static bool repo_host_ok(cfg_ctx_t *x, const ynode_t *v, const char *path, const char *r, size_t n)
{
    const char *slash = strchr(r, '/');
    size_t host_n = slash ? (size_t)(slash - r) : n;
    registry_info_t info;
    registry_classify(r, host_n, slash ? slash + 1 : "", slash ? n - host_n - 1 : 0, &info);
    if (bad_ecr_host(x, v, path, r, host_n, info.kind))
        return false;
    bool domain_ok;
    if (slash) {
        domain_ok = explicit_domain(r, host_n);
    } else {
        /* a bare host: a name with a '.', localhost, or any name with a numeric port */
        const char *colon = memchr(r, ':', n);
        size_t hn = colon ? (size_t)(colon - r) : n;
        bool port = colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1);
        domain_ok = memchr(r, '.', hn) || (hn == 9 && memcmp(r, "localhost", 9) == 0) || port;
    }
    if (!domain_ok)
        CFG_ERR(x, v,
                "%s: %s has no registry host; start it with a host name that has a '.' or a "
                "port, or localhost (" REPO_EXAMPLE ")",
                path, cfg_shown(v).s);
    return domain_ok;
}

/* A repository, not an image: no digest, no tag, and it parses as one. */
static bool repo_is_repository(cfg_ctx_t *x, const ynode_t *v, const char *path, const char *r,
                               size_t n)
{
    const char *at = strchr(r, '@');
    if (at) {
        CFG_ERR(x, v,
                "%s: %s: remove the digest %s; the repository names where images go, the "
                "webhook adds each image's name and tag",
                path, cfg_shown(v).s, cfg_show(at, strlen(at)).s);
        return false;
    }
    const char *last_slash = strrchr(r, '/');
    const char *tag = last_slash ? strchr(last_slash, ':') : NULL;
    if (tag) {
        CFG_ERR(x, v,
                "%s: %s: remove the tag %s; the repository names where images go, the webhook "
                "adds each image's name and tag",
                path, cfg_shown(v).s, cfg_show(tag, strlen(tag)).s);
        return false;
    }
    if (strchr(r, '/')) {
        imageref_t ref;
        imageref_err_t e = imageref_parse(r, n, &ref);
        if (e != IMAGEREF_OK || ref.domain.n == 0) {
            CFG_ERR(x, v, "%s: %s is not a valid repository: %s (" REPO_EXAMPLE ")", path,
                    cfg_shown(v).s,
                    e != IMAGEREF_OK ? imageref_strerror(e) : "the first part is not a host");
            return false;
        }
    }
    char norm[300];
    bool stripped = false;
    const char *why = NULL;
    if (!imageref_parse_registry(r, n, norm, sizeof norm, &stripped, &why)) {
        CFG_ERR(x, v, "%s: %s is not a valid repository: %s (" REPO_EXAMPLE ")", path,
                cfg_shown(v).s, why ? why : "invalid");
        return false;
    }
    return true;
}

/* imageBuilder.defaultRepository: host/path where built images go (a
 * trailing '/' is dropped; empty means none). */
void cfg_check_default_repo(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    char *r = c->policy.default_repository;
    size_t n = strlen(r);
    if (n > 0 && r[n - 1] == '/')
        r[--n] = '\0';
    x->repo_ok = n == 0 || (repo_spelling_ok(x, v, path, r, n) && repo_host_ok(x, v, path, r, n) &&
                            repo_is_repository(x, v, path, r, n));
}

/* Host, kind of the (valid, non-empty) default repository. */
void cfg_repo_host(const char *r, const char **host, size_t *host_n, registry_info_t *info)
{
    const char *slash = strchr(r, '/');
    size_t n = strlen(r);
    *host = r;
    *host_n = slash ? (size_t)(slash - r) : n;
    registry_classify(r, *host_n, slash ? slash + 1 : "", slash ? n - *host_n - 1 : 0, info);
}

static void chk_registry_list(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c,
                              strlist_t *l, bool hosts_only)
{
    (void)c;
    for (size_t i = 0; i < v->n && i < l->n; i++) {
        const ynode_t *it = v->items[i];
        char ipath[CFG_KEYPATH_MAX];
        cfg_path(ipath, sizeof ipath, "%s[%zu]", path, i);
        const char *s = it->str;
        size_t n = it->len;
        char norm[300];
        bool stripped = false;
        const char *why = NULL;
        if (starts_with_ci(s, n, "https://") || starts_with_ci(s, n, "http://")) {
            CFG_ERR(x, it, "%s: %s: remove the %s prefix; write the host%s only", ipath,
                    cfg_shown(it).s, starts_with_ci(s, n, "https://") ? "https://" : "http://",
                    hosts_only ? "" : "[/path]");
            continue;
        }
        if (has_upper(s, n)) {
            CFG_ERR(x, it, "%s: %s must be lowercase", ipath, cfg_shown(it).s);
            continue;
        }
        if (!imageref_parse_registry(s, n, norm, sizeof norm, &stripped, &why)) {
            CFG_ERR(x, it, "%s: %s is not a valid registry: %s; write %s", ipath, cfg_shown(it).s,
                    why ? why : "invalid",
                    hosts_only ? "a host such as ghcr.io or registry.local:5000"
                               : "a host with an optional path, such as cr.union.ai or "
                                 "registry.local:5000/team");
            continue;
        }
        if (hosts_only && strchr(norm, '/')) {
            CFG_ERR(x, it,
                    "%s: %s: write the registry host only (such as ghcr.io or "
                    "registry.local:5000), without a path",
                    ipath, cfg_shown(it).s);
            continue;
        }
        char *d = strdup(norm);
        if (!d) {
            x->oom = true;
            continue;
        }
        free(l->items[i]);
        l->items[i] = d;
    }
}

void cfg_check_logical(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    chk_registry_list(x, v, path, c, &c->policy.logical_registries, false);
}

void cfg_check_basic_regs(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    x->basic_set = true;
    chk_registry_list(x, v, path, c, &c->policy.basic_auth_registries, true);
}

void cfg_check_insecure(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    chk_registry_list(x, v, path, c, &c->policy.registry_check.insecure_registries, true);
}

void cfg_check_domains(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    x->domains_ok = false;
    if (c->policy.domains.n == 0) {
        CFG_ERR(x, v,
                "%s: the list is empty; list the project domains, e.g. [development, "
                "staging, production]",
                path);
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < c->policy.domains.n; i++) {
        const ynode_t *it = v->items[i];
        if (!k8s_dns_label(it->str, it->len)) {
            CFG_ERR(x, it, "%s[%zu]: %s is not a valid domain name; " LABEL_RULE, path, i,
                    cfg_shown(it).s);
            ok = false;
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->policy.domains.items[j], c->policy.domains.items[i]) == 0) {
                CFG_ERR(x, it, "%s[%zu]: %s is listed twice (also item %zu); remove one", path, i,
                        cfg_shown(it).s, j);
                ok = false;
                break;
            }
        }
    }
    x->domains_ok = ok;
}

static void chk_label(cfg_ctx_t *x, const ynode_t *v, const char *path, bool *flag)
{
    *flag = k8s_dns_label(v->str, v->len);
    if (!*flag)
        CFG_ERR(x, v, "%s: %s is not a valid name; " LABEL_RULE, path, cfg_shown(v).s);
}

void cfg_check_prod_domain(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    chk_label(x, v, path, &x->prod_ok);
}

void cfg_check_project(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    chk_label(x, v, path, &x->project_ok);
}

void cfg_check_template(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    x->template_ok = strstr(v->str, "{{ project }}") || strstr(v->str, "{{ domain }}");
    if (!x->template_ok)
        CFG_ERR(x, v,
                "%s: %s uses neither {{ project }} nor {{ domain }}; write a template such as "
                "\"{{ project }}-{{ domain }}\" (exactly that spacing)",
                path, cfg_shown(v).s);
}

void cfg_check_http_url(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    if (v->len == 0)
        return;
    if ((!starts_with_ci(v->str, v->len, "https://") &&
         !starts_with_ci(v->str, v->len, "http://")) ||
        has_space_or_ctl(v->str, v->len) || strlen(strstr(v->str, "//") + 2) == 0)
        CFG_ERR(x, v,
                "%s: %s is not an API server URL; write https://HOST[:PORT], or leave it empty "
                "to use the in-cluster address",
                path, cfg_shown(v).s);
}

void cfg_check_image(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    imageref_t ref;
    imageref_err_t e = imageref_parse(v->str, v->len, &ref);
    if (e != IMAGEREF_OK)
        CFG_ERR(x, v,
                "%s: %s is not a valid image reference: %s; write e.g. "
                "ghcr.io/my-org/build-image:1.0",
                path, cfg_shown(v).s, imageref_strerror(e));
}

void cfg_check_pull_policy(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    if (strcmp(v->str, "Always") && strcmp(v->str, "IfNotPresent") && strcmp(v->str, "Never"))
        CFG_ERR(x, v, "%s: %s is not one of Always, IfNotPresent, Never", path, cfg_shown(v).s);
}

/* An image a registry's lifecycle policy removes would still read as
 * present for this long, get no build, and its pod would fail to pull it. */
void cfg_check_positive_ttl(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    unsigned ttl = c->policy.registry_check.positive_ttl_seconds;
    if (ttl > WH_POSITIVE_TTL_MAX)
        CFG_ERR(x, v,
                "%s: %u is too long; use at most %u: an image removed from the registry (e.g. "
                "by a lifecycle policy) would be taken as present for that long and get no build",
                path, ttl, WH_POSITIVE_TTL_MAX);
}

void cfg_check_path(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    char *p = c->server.path;
    size_t n = strlen(p);
    if (n == 0 || p[0] != '/' || has_space_or_ctl(p, n) || strpbrk(p, "?#")) {
        CFG_ERR(x, v,
                "%s: %s is not a URL path; write one that starts with '/', without spaces, "
                "'?' or '#' (e.g. /mutate)",
                path, cfg_shown(v).s);
        return;
    }
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
}

/* host:port, :port or [v6]:port. */
static bool listen_ok(const char *s, const char **why)
{
    const char *port;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1) {
            *why = "an IPv6 address needs its closing ']'";
            return false;
        }
        for (const char *q = s + 1; q < close; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.') {
                *why = "the IPv6 address has characters other than hex digits, ':' and '.'";
                return false;
            }
        if (close[1] != ':') {
            *why = "write the port after the address, as [::]:8443";
            return false;
        }
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            *why = "there is no port; write host:port or :port";
            return false;
        }
        for (const char *q = s; q < colon; q++) {
            if (*q == ':') {
                *why = "put an IPv6 address in brackets, as [::1]:8443";
                return false;
            }
            if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-') {
                *why = "the host may only have letters, digits, '.' and '-'";
                return false;
            }
        }
        port = colon + 1;
    }
    size_t pn = strlen(port);
    if (pn == 0 || pn > 5 || strspn(port, "0123456789") != pn) {
        *why = "the port must be a number from 1 to 65535";
        return false;
    }
    long v = strtol(port, NULL, 10);
    if (v < 1 || v > 65535) {
        *why = "the port must be a number from 1 to 65535";
        return false;
    }
    return true;
}

void cfg_check_listen(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    const char *why = NULL;
    if (v->len == 0 || !listen_ok(v->str, &why))
        CFG_ERR(x, v,
                "%s: %s is not a listen address: %s (e.g. \":8443\", \"0.0.0.0:8443\", "
                "\"[::]:8443\")",
                path, cfg_shown(v).s, why ? why : "it is empty");
}

void cfg_check_metrics_listen(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (v->len == 0)
        return;
    cfg_check_listen(x, v, path, c);
}
