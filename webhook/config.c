/* config: reads the webhook's YAML configuration (the `imageBuilder:` and
 * `webhook:` blocks of a Helm-values-style file) into wh_config_t, applies
 * the defaults, and validates every value, collecting all errors with the
 * file, line and column they refer to.
 *
 * Choices worth knowing:
 *   - a key written with no value (null) keeps its default;
 *   - `buildImage.resources`, when given, replaces the default whole;
 *   - strings must be strings: a plain `true` or `8443` where text is
 *     expected is an error (quote it), booleans are plain true/false only,
 *     numbers are plain integers only;
 *   - besides the keys in config.h, the Union chart's own `registryName` and
 *     `basicAuth.{username,passwordSecretName,passwordPlainText}` are
 *     accepted (type-checked, not used), so the chart's values file loads;
 *   - `basicAuth.registries` holds hosts as written in image references
 *     (host[:port]); unset, it is the defaultRepository's host;
 *   - with `imageBuilder.enabled: false` the "no builder" check is skipped. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imageref.h"
#include "k8sname.h"
#include "strlist.h"
#include "yamldoc.h"

#define CONFIG_MAX_ERRORS 100
#define MAX_LIST_ITEMS    1000

#define DEFAULT_BUILD_IMAGE "public.ecr.aws/g1m2l3c1/imagebuilder-staging/build-image:latest"
#define ALIAS_MSG           "YAML aliases are not supported here; write the value out"

/* ---- error collection ---------------------------------------------------- */

typedef struct {
    const char *file;
    config_errors_t *errs;
    size_t dropped;
    bool oom;
    /* state for the checks that span several keys */
    bool repo_ok;    /* defaultRepository passed its own checks */
    bool domains_ok; /* domains passed */
    bool prod_ok, project_ok, template_ok;
    bool basic_set; /* basicAuth.registries given */
} ctx_t;

static void add_error(ctx_t *x, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool push_error(config_errors_t *errs, const char *file, size_t line, size_t col, char *msg)
{
    char *f = strdup(file ? file : "config");
    config_error_t *items = realloc(errs->items, (errs->n + 1) * sizeof *items);
    if (!f || !items) {
        free(f);
        free(msg);
        if (items)
            errs->items = items;
        return false;
    }
    errs->items = items;
    errs->items[errs->n++] = (config_error_t){f, line, col, msg};
    return true;
}

static void add_error(ctx_t *x, size_t line, size_t col, const char *fmt, ...)
{
    if (x->errs->n >= CONFIG_MAX_ERRORS) {
        x->dropped++;
        return;
    }
    buf_t b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (b.oom) {
        buf_free(&b);
        x->oom = true;
        return;
    }
    char *msg = buf_steal(&b);
    if (!msg || !push_error(x->errs, x->file, line, col, msg))
        x->oom = true;
}

#define NODE_ERR(x, n, ...) add_error((x), (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)

/* A value quoted for a message: one line, at most 64 characters shown. */
typedef struct {
    char s[80];
} shown_t;

static shown_t show(const char *s, size_t n)
{
    shown_t o;
    size_t j = 0, lim = 64;
    o.s[j++] = '"';
    for (size_t i = 0; i < n && i < lim; i++) {
        unsigned char c = (unsigned char)s[i];
        o.s[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    if (n > lim) {
        memcpy(o.s + j, "...", 3);
        j += 3;
    }
    o.s[j++] = '"';
    o.s[j] = '\0';
    return o;
}

static shown_t shown(const ynode_t *n)
{
    if (n && n->kind == YNODE_SCALAR)
        return show(n->str, n->len);
    shown_t o;
    snprintf(o.s, sizeof o.s, "%s",
             !n                     ? "nothing"
             : n->kind == YNODE_MAP ? "a map"
             : n->kind == YNODE_SEQ ? "a list"
                                    : "an alias");
    return o;
}

static const char *kind_word(const ynode_t *n)
{
    switch (ydoc_scalar_kind(n, NULL, NULL, NULL)) {
    case YSCALAR_BOOL:
        return "a boolean";
    case YSCALAR_INT:
        return "an integer";
    case YSCALAR_FLOAT:
        return "a number";
    case YSCALAR_NULL:
        return "null";
    default:
        return "a string";
    }
}

/* Dotted key paths for messages ("imageBuilder.domains[2]"); long ones are cut. */
#define KEYPATH_MAX 256
static void mkpath(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void mkpath(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(dst, n, fmt, ap);
    va_end(ap);
    if (r < 0 && n > 0)
        dst[0] = '\0';
}

/* ---- small string helpers ------------------------------------------------ */

static char *dup_n(ctx_t *x, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) {
        x->oom = true;
        return NULL;
    }
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void set_str(ctx_t *x, char **dst, const char *s, size_t n)
{
    char *d = dup_n(x, s, n);
    if (!d)
        return;
    free(*dst);
    *dst = d;
}

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

static size_t edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63)
        return 99;
    size_t prev[64], cur[64];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t cost =
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, (nb + 1) * sizeof prev[0]);
    }
    return prev[nb];
}

/* ---- typed readers --------------------------------------------------------- */

/* Accepts a scalar that is not an alias, not a map or list. */
static bool want_scalar(ctx_t *x, const ynode_t *v, const char *path, const char *what)
{
    if (v->kind == YNODE_ALIAS) {
        NODE_ERR(x, v, "%s: " ALIAS_MSG, path);
        return false;
    }
    if (v->kind != YNODE_SCALAR) {
        NODE_ERR(x, v, "%s: expected %s, got %s", path, what, shown(v).s);
        return false;
    }
    return true;
}

static bool is_null(const ynode_t *v)
{
    return v->kind == YNODE_SCALAR && ydoc_scalar_kind(v, NULL, NULL, NULL) == YSCALAR_NULL;
}

/* A string value; false when absent (null) or wrong (error reported). */
static bool read_string(ctx_t *x, const ynode_t *v, const char *path)
{
    if (!want_scalar(x, v, path, "a string"))
        return false;
    yscalar_kind_t k = ydoc_scalar_kind(v, NULL, NULL, NULL);
    if (k == YSCALAR_NULL)
        return false;
    if (k != YSCALAR_STR) {
        NODE_ERR(x, v, "%s: expected a string, got %s %s; put it in quotes if it is meant as text",
                 path, kind_word(v), shown(v).s);
        return false;
    }
    if (memchr(v->str, '\0', v->len)) {
        NODE_ERR(x, v, "%s: the value contains a NUL character; remove it", path);
        return false;
    }
    return true;
}

static bool read_bool(ctx_t *x, const ynode_t *v, const char *path, bool *out)
{
    if (!want_scalar(x, v, path, "true or false"))
        return false;
    bool b = false;
    yscalar_kind_t k = ydoc_scalar_kind(v, &b, NULL, NULL);
    if (k == YSCALAR_NULL)
        return false;
    if (k != YSCALAR_BOOL) {
        NODE_ERR(x, v, "%s: expected true or false, got %s%s", path, shown(v).s,
                 !v->plain ? " (write it without quotes)" : "");
        return false;
    }
    *out = b;
    return true;
}

static bool read_uint(ctx_t *x, const ynode_t *v, const char *path, unsigned long long min,
                      unsigned long long max, unsigned long long *out)
{
    if (!want_scalar(x, v, path, "a whole number"))
        return false;
    long long i = 0;
    yscalar_kind_t k = ydoc_scalar_kind(v, NULL, &i, NULL);
    if (k == YSCALAR_NULL)
        return false;
    if (k != YSCALAR_INT) {
        NODE_ERR(x, v, "%s: expected a whole number from %llu to %llu, got %s%s", path, min, max,
                 shown(v).s, !v->plain ? " (write it without quotes and without a unit)" : "");
        return false;
    }
    if (i < 0 || (unsigned long long)i < min || (unsigned long long)i > max) {
        NODE_ERR(x, v, "%s: %lld is out of range; use a number from %llu to %llu", path, i, min,
                 max);
        return false;
    }
    *out = (unsigned long long)i;
    return true;
}

/* A list of strings. Returns false when absent or wrong. The caller owns
 * nothing: items point into the tree. */
static bool read_list(ctx_t *x, const ynode_t *v, const char *path, const char ***out)
{
    *out = NULL;
    if (v->kind == YNODE_ALIAS) {
        NODE_ERR(x, v, "%s: " ALIAS_MSG, path);
        return false;
    }
    if (is_null(v))
        return false;
    if (v->kind != YNODE_SEQ) {
        NODE_ERR(x, v,
                 "%s: expected a list of strings, got %s; write it as [a, b] or as '- a' lines",
                 path, shown(v).s);
        return false;
    }
    if (v->n > MAX_LIST_ITEMS) {
        NODE_ERR(x, v, "%s: the list has %zu items; at most %d are allowed", path, v->n,
                 MAX_LIST_ITEMS);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        char ipath[KEYPATH_MAX];
        mkpath(ipath, sizeof ipath, "%s[%zu]", path, i);
        const ynode_t *it = v->items[i];
        if (!read_string(x, it, ipath)) {
            if (it->kind == YNODE_SCALAR && is_null(it))
                NODE_ERR(x, it, "%s: empty list item; remove it or write a value", ipath);
            ok = false;
        }
    }
    if (!ok)
        return false;
    const char **items = calloc(v->n ? v->n : 1, sizeof *items);
    if (!items) {
        x->oom = true;
        return false;
    }
    for (size_t i = 0; i < v->n; i++)
        items[i] = v->items[i]->str;
    *out = items;
    return true;
}

/* ---- the schema ------------------------------------------------------------ */

typedef enum { F_BOOL, F_STR, F_UINT, F_SIZE, F_LIST, F_IGNORED_STR, F_BLOCK, F_CUSTOM } ftype_t;

typedef struct block block_t;
/* F_CUSTOM: reads the value; other types: validates after a successful read. */
typedef void (*field_fn)(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c);

typedef struct {
    const char *key;
    ftype_t type;
    size_t off;
    unsigned long long min, max;
    const block_t *sub;
    field_fn fn;
} field_t;

struct block {
    const field_t *fields;
    size_t n;
};

#define FIELD_AT(c, f, T) ((T *)(void *)((char *)(c) + (f)->off))

static void walk_block(ctx_t *x, const ynode_t *map, const char *path, const block_t *blk,
                       wh_config_t *c);

static void apply_field(ctx_t *x, const field_t *f, const ynode_t *v, const char *path,
                        wh_config_t *c)
{
    if (v->kind == YNODE_ALIAS) {
        NODE_ERR(x, v, "%s: " ALIAS_MSG, path);
        return;
    }
    switch (f->type) {
    case F_BOOL: {
        bool b;
        if (read_bool(x, v, path, &b)) {
            *FIELD_AT(c, f, bool) = b;
            if (f->fn)
                f->fn(x, v, path, c);
        }
        return;
    }
    case F_STR:
        if (read_string(x, v, path)) {
            set_str(x, FIELD_AT(c, f, char *), v->str, v->len);
            if (f->fn)
                f->fn(x, v, path, c);
        }
        return;
    case F_IGNORED_STR:
        (void)read_string(x, v, path);
        return;
    case F_UINT:
    case F_SIZE: {
        unsigned long long u;
        if (read_uint(x, v, path, f->min, f->max, &u)) {
            if (f->type == F_UINT)
                *FIELD_AT(c, f, unsigned) = (unsigned)u;
            else
                *FIELD_AT(c, f, size_t) = (size_t)u;
            if (f->fn)
                f->fn(x, v, path, c);
        }
        return;
    }
    case F_LIST: {
        const char **items;
        if (read_list(x, v, path, &items)) {
            if (!strlist_set(FIELD_AT(c, f, strlist_t), items, v->n))
                x->oom = true;
            else if (f->fn)
                f->fn(x, v, path, c);
            free(items);
        }
        return;
    }
    case F_BLOCK:
        walk_block(x, v, path, f->sub, c);
        return;
    case F_CUSTOM:
        f->fn(x, v, path, c);
        return;
    }
}

static void unknown_key(ctx_t *x, const ynode_t *k, const char *path, const block_t *blk)
{
    if (x->errs->n >= CONFIG_MAX_ERRORS) { /* no room left: skip the suggestion */
        x->dropped++;
        return;
    }
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < blk->n; i++) {
        /* the length difference is a lower bound of the distance */
        size_t kl = strlen(blk->fields[i].key);
        if ((kl > k->len ? kl - k->len : k->len - kl) >= best_d)
            continue;
        size_t d = edit_distance(k->str, blk->fields[i].key);
        if (d < best_d) {
            best_d = d;
            best = blk->fields[i].key;
        }
    }
    if (best)
        NODE_ERR(x, k, "%s: unknown key %s; did you mean %s?", path, shown(k).s, best);
    else {
        buf_t b = BUF_INIT;
        for (size_t i = 0; i < blk->n; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", blk->fields[i].key);
        NODE_ERR(x, k, "%s: unknown key %s; the keys allowed here are: %s", path, shown(k).s,
                 b.data ? b.data : "");
        if (b.oom)
            x->oom = true;
        buf_free(&b);
    }
}

/* Checks that `map` is a map (null: nothing to do) and reports problems
 * with its keys. Calls `each` for every well-formed key/value pair. */
static bool check_map(ctx_t *x, const ynode_t *map, const char *path)
{
    if (map->kind == YNODE_ALIAS) {
        NODE_ERR(x, map, "%s: " ALIAS_MSG, path);
        return false;
    }
    if (is_null(map))
        return false;
    if (map->kind != YNODE_MAP) {
        NODE_ERR(x, map, "%s: expected a map of settings, got %s", path, shown(map).s);
        return false;
    }
    return true;
}

static bool check_key(ctx_t *x, const ynode_t *k, const char *path)
{
    if (k->kind == YNODE_ALIAS) {
        NODE_ERR(x, k, "%s: " ALIAS_MSG, path);
        return false;
    }
    if (k->kind != YNODE_SCALAR) {
        NODE_ERR(x, k, "%s: keys must be plain names, not %s", path, shown(k).s);
        return false;
    }
    if (k->len == 2 && memcmp(k->str, "<<", 2) == 0) {
        NODE_ERR(x, k, "%s: YAML merge keys (<<) are not supported here; write the keys out", path);
        return false;
    }
    return true;
}

static void walk_block(ctx_t *x, const ynode_t *map, const char *path, const block_t *blk,
                       wh_config_t *c)
{
    if (!check_map(x, map, path))
        return;
    const ynode_t *seen[32] = {0};
    for (size_t i = 0; i < map->n; i++) {
        const ynode_t *k = map->items[2 * i], *v = map->items[2 * i + 1];
        if (!check_key(x, k, path))
            continue;
        size_t fi = blk->n;
        for (size_t j = 0; j < blk->n; j++) {
            if (strlen(blk->fields[j].key) == k->len &&
                memcmp(blk->fields[j].key, k->str, k->len) == 0) {
                fi = j;
                break;
            }
        }
        if (fi == blk->n) {
            unknown_key(x, k, path, blk);
            continue;
        }
        char sub[KEYPATH_MAX];
        mkpath(sub, sizeof sub, "%s.%s", path, blk->fields[fi].key);
        if (fi < 32) {
            if (seen[fi])
                NODE_ERR(x, k, "%s is set twice (first at line %zu); remove one of them", sub,
                         seen[fi]->line);
            seen[fi] = k;
        }
        apply_field(x, &blk->fields[fi], v, sub, c);
    }
}

/* ---- value checks ---------------------------------------------------------- */

static void chk_configmap(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    if (!k8s_dns_subdomain(v->str, v->len))
        NODE_ERR(x, v,
                 "%s: %s is not a valid ConfigMap name; use lowercase letters, digits, '-' and "
                 "'.', starting and ending with a letter or digit (at most 253 characters)",
                 path, shown(v).s);
}

static void chk_buildkit_uri(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
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
    NODE_ERR(x, v,
             "%s: %s is not a buildkit address; write tcp://HOST:PORT, unix:///PATH or "
             "kube-pod://POD (e.g. tcp://buildkitd.buildkit.svc.cluster.local:1234), or leave it "
             "empty to use the chart's buildkit",
             path, shown(v).s);
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
static bool bad_ecr_host(ctx_t *x, const ynode_t *v, const char *path, const char *host,
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
        NODE_ERR(x, v,
                 "%s: %s: the ECR host needs the 12-digit account id; write "
                 "<account>.dkr.ecr.<region>.amazonaws.com/<repository>",
                 path, shown(v).s);
    else
        NODE_ERR(x, v,
                 "%s: %s is not a valid Amazon ECR host; write "
                 "<account>.dkr.ecr.<region>.amazonaws.com/<repository>",
                 path, shown(v).s);
    return true;
}

static void chk_default_repo(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    x->repo_ok = false;
    char *r = c->policy.default_repository;
    size_t n = strlen(r);
    if (n > 0 && r[n - 1] == '/')
        r[--n] = '\0';
    if (n == 0) {
        x->repo_ok = true;
        return;
    }
    if (starts_with_ci(r, n, "https://") || starts_with_ci(r, n, "http://")) {
        NODE_ERR(x, v, "%s: %s: remove the %s prefix; write host/path only (" REPO_EXAMPLE ")",
                 path, shown(v).s, starts_with_ci(r, n, "https://") ? "https://" : "http://");
        return;
    }
    if (strstr(r, "://")) {
        NODE_ERR(x, v,
                 "%s: %s: a repository has no scheme; write host/path only (" REPO_EXAMPLE ")",
                 path, shown(v).s);
        return;
    }
    if (has_space_or_ctl(r, n)) {
        NODE_ERR(x, v, "%s: %s contains whitespace; remove it", path, shown(v).s);
        return;
    }
    if (has_upper(r, n)) {
        char low[80];
        size_t m = n < sizeof low - 1 ? n : sizeof low - 1;
        for (size_t i = 0; i < m; i++)
            low[i] = (char)tolower((unsigned char)r[i]);
        low[m] = '\0';
        NODE_ERR(x, v, "%s: %s must be lowercase; write %s", path, shown(v).s, show(low, m).s);
        return;
    }
    const char *slash = strchr(r, '/');
    size_t host_n = slash ? (size_t)(slash - r) : n;
    registry_info_t info;
    registry_classify(r, host_n, slash ? slash + 1 : "", slash ? n - host_n - 1 : 0, &info);
    if (bad_ecr_host(x, v, path, r, host_n, info.kind))
        return;
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
    if (!domain_ok) {
        NODE_ERR(x, v,
                 "%s: %s has no registry host; start it with a host name that has a '.' or a "
                 "port, or localhost (" REPO_EXAMPLE ")",
                 path, shown(v).s);
        return;
    }
    const char *at = strchr(r, '@');
    if (at) {
        NODE_ERR(x, v,
                 "%s: %s: remove the digest %s; the repository names where images go, the "
                 "webhook adds each image's name and tag",
                 path, shown(v).s, show(at, strlen(at)).s);
        return;
    }
    const char *last_slash = strrchr(r, '/');
    const char *tag = last_slash ? strchr(last_slash, ':') : NULL;
    if (tag) {
        NODE_ERR(x, v,
                 "%s: %s: remove the tag %s; the repository names where images go, the webhook "
                 "adds each image's name and tag",
                 path, shown(v).s, show(tag, strlen(tag)).s);
        return;
    }
    if (slash) {
        imageref_t ref;
        imageref_err_t e = imageref_parse(r, n, &ref);
        if (e != IMAGEREF_OK || ref.domain.n == 0) {
            NODE_ERR(x, v, "%s: %s is not a valid repository: %s (" REPO_EXAMPLE ")", path,
                     shown(v).s,
                     e != IMAGEREF_OK ? imageref_strerror(e) : "the first part is not a host");
            return;
        }
    }
    char norm[300];
    bool stripped = false;
    const char *why = NULL;
    if (!imageref_parse_registry(r, n, norm, sizeof norm, &stripped, &why)) {
        NODE_ERR(x, v, "%s: %s is not a valid repository: %s (" REPO_EXAMPLE ")", path, shown(v).s,
                 why ? why : "invalid");
        return;
    }
    x->repo_ok = true;
}

/* Host, kind of the (valid, non-empty) default repository. */
static void repo_host(const char *r, const char **host, size_t *host_n, registry_info_t *info)
{
    const char *slash = strchr(r, '/');
    size_t n = strlen(r);
    *host = r;
    *host_n = slash ? (size_t)(slash - r) : n;
    registry_classify(r, *host_n, slash ? slash + 1 : "", slash ? n - *host_n - 1 : 0, info);
}

static void chk_registry_list(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c,
                              strlist_t *l, bool hosts_only)
{
    (void)c;
    for (size_t i = 0; i < v->n && i < l->n; i++) {
        const ynode_t *it = v->items[i];
        char ipath[KEYPATH_MAX];
        mkpath(ipath, sizeof ipath, "%s[%zu]", path, i);
        const char *s = it->str;
        size_t n = it->len;
        char norm[300];
        bool stripped = false;
        const char *why = NULL;
        if (starts_with_ci(s, n, "https://") || starts_with_ci(s, n, "http://")) {
            NODE_ERR(x, it, "%s: %s: remove the %s prefix; write the host%s only", ipath,
                     shown(it).s, starts_with_ci(s, n, "https://") ? "https://" : "http://",
                     hosts_only ? "" : "[/path]");
            continue;
        }
        if (has_upper(s, n)) {
            NODE_ERR(x, it, "%s: %s must be lowercase", ipath, shown(it).s);
            continue;
        }
        if (!imageref_parse_registry(s, n, norm, sizeof norm, &stripped, &why)) {
            NODE_ERR(x, it, "%s: %s is not a valid registry: %s; write %s", ipath, shown(it).s,
                     why ? why : "invalid",
                     hosts_only ? "a host such as ghcr.io or registry.local:5000"
                                : "a host with an optional path, such as cr.union.ai or "
                                  "registry.local:5000/team");
            continue;
        }
        if (hosts_only && strchr(norm, '/')) {
            NODE_ERR(x, it,
                     "%s: %s: write the registry host only (such as ghcr.io or "
                     "registry.local:5000), without a path",
                     ipath, shown(it).s);
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

static void chk_logical(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    chk_registry_list(x, v, path, c, &c->policy.logical_registries, false);
}

static void chk_basic_regs(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    x->basic_set = true;
    chk_registry_list(x, v, path, c, &c->policy.basic_auth_registries, true);
}

static void chk_insecure(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    chk_registry_list(x, v, path, c, &c->policy.registry_check.insecure_registries, true);
}

#define LABEL_RULE                                                                                 \
    "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"

static void chk_domains(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    x->domains_ok = false;
    if (c->policy.domains.n == 0) {
        NODE_ERR(x, v,
                 "%s: the list is empty; list the project domains, e.g. [development, "
                 "staging, production]",
                 path);
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < c->policy.domains.n; i++) {
        const ynode_t *it = v->items[i];
        if (!k8s_dns_label(it->str, it->len)) {
            NODE_ERR(x, it, "%s[%zu]: %s is not a valid domain name; " LABEL_RULE, path, i,
                     shown(it).s);
            ok = false;
            continue;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(c->policy.domains.items[j], c->policy.domains.items[i]) == 0) {
                NODE_ERR(x, it, "%s[%zu]: %s is listed twice (also item %zu); remove one", path, i,
                         shown(it).s, j);
                ok = false;
                break;
            }
        }
    }
    x->domains_ok = ok;
}

static void chk_label(ctx_t *x, const ynode_t *v, const char *path, bool *flag)
{
    *flag = k8s_dns_label(v->str, v->len);
    if (!*flag)
        NODE_ERR(x, v, "%s: %s is not a valid name; " LABEL_RULE, path, shown(v).s);
}

static void chk_prod_domain(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    chk_label(x, v, path, &x->prod_ok);
}

static void chk_project(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    chk_label(x, v, path, &x->project_ok);
}

static void chk_template(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    x->template_ok = strstr(v->str, "{{ project }}") || strstr(v->str, "{{ domain }}");
    if (!x->template_ok)
        NODE_ERR(x, v,
                 "%s: %s uses neither {{ project }} nor {{ domain }}; write a template such as "
                 "\"{{ project }}-{{ domain }}\" (exactly that spacing)",
                 path, shown(v).s);
}

static void chk_http_url(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    if (v->len == 0)
        return;
    if ((!starts_with_ci(v->str, v->len, "https://") &&
         !starts_with_ci(v->str, v->len, "http://")) ||
        has_space_or_ctl(v->str, v->len) || strlen(strstr(v->str, "//") + 2) == 0)
        NODE_ERR(x, v,
                 "%s: %s is not an API server URL; write https://HOST[:PORT], or leave it empty "
                 "to use the in-cluster address",
                 path, shown(v).s);
}

static void chk_image(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    imageref_t ref;
    imageref_err_t e = imageref_parse(v->str, v->len, &ref);
    if (e != IMAGEREF_OK)
        NODE_ERR(x, v,
                 "%s: %s is not a valid image reference: %s; write e.g. "
                 "ghcr.io/my-org/build-image:1.0",
                 path, shown(v).s, imageref_strerror(e));
}

static void chk_pull_policy(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    if (strcmp(v->str, "Always") && strcmp(v->str, "IfNotPresent") && strcmp(v->str, "Never"))
        NODE_ERR(x, v, "%s: %s is not one of Always, IfNotPresent, Never", path, shown(v).s);
}

static void chk_path(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    char *p = c->server.path;
    size_t n = strlen(p);
    if (n == 0 || p[0] != '/' || has_space_or_ctl(p, n) || strpbrk(p, "?#")) {
        NODE_ERR(x, v,
                 "%s: %s is not a URL path; write one that starts with '/', without spaces, "
                 "'?' or '#' (e.g. /mutate)",
                 path, shown(v).s);
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

static void chk_listen(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    (void)c;
    const char *why = NULL;
    if (v->len == 0 || !listen_ok(v->str, &why))
        NODE_ERR(x, v,
                 "%s: %s is not a listen address: %s (e.g. \":8443\", \"0.0.0.0:8443\", "
                 "\"[::]:8443\")",
                 path, shown(v).s, why ? why : "it is empty");
}

static void chk_metrics_listen(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (v->len == 0)
        return;
    chk_listen(x, v, path, c);
}

/* Enumerations. */
static void read_auth(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!read_string(x, v, path))
        return;
    if (!auth_type_parse(v->str, &c->policy.auth))
        NODE_ERR(x, v, "%s: %s is not one of noop, google, aws, azure, basic", path, shown(v).s);
}

static void read_layout(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!read_string(x, v, path))
        return;
    if (strcmp(v->str, "auto") == 0)
        c->policy.layout = LAYOUT_AUTO;
    else if (strcmp(v->str, "path") == 0)
        c->policy.layout = LAYOUT_PATH;
    else if (strcmp(v->str, "tag") == 0)
        c->policy.layout = LAYOUT_TAG;
    else
        NODE_ERR(x, v, "%s: %s is not one of auto, path, tag", path, shown(v).s);
}

static void read_log_level(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!read_string(x, v, path))
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v->str, names[i]) == 0) {
            c->server.log_level = (log_level_t)i;
            return;
        }
    }
    NODE_ERR(x, v, "%s: %s is not one of debug, info, warn, error", path, shown(v).s);
}

/* imageBuilder.buildkit: the chart's block; only `enabled` is read. */
static void read_buildkit(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!check_map(x, v, path))
        return;
    const ynode_t *first = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const ynode_t *k = v->items[2 * i], *val = v->items[2 * i + 1];
        if (k->kind != YNODE_SCALAR || strcmp(k->str, "enabled") != 0)
            continue;
        char sub[KEYPATH_MAX];
        mkpath(sub, sizeof sub, "%s.enabled", path);
        if (first)
            NODE_ERR(x, k, "%s is set twice (first at line %zu); remove one of them", sub,
                     first->line);
        first = k;
        if (val->kind == YNODE_ALIAS) {
            NODE_ERR(x, val, "%s: " ALIAS_MSG, sub);
            continue;
        }
        bool b;
        if (read_bool(x, val, sub, &b))
            c->policy.buildkit_enabled = b;
    }
}

static void read_resources(ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!check_map(x, v, path))
        return;
    cJSON *res = cJSON_CreateObject();
    if (!res) {
        x->oom = true;
        return;
    }
    bool ok = true;
    static const field_t rl_fields[] = {{"requests", F_CUSTOM, 0, 0, 0, NULL, NULL},
                                        {"limits", F_CUSTOM, 0, 0, 0, NULL, NULL}};
    static const block_t rl = {rl_fields, 2};
    for (size_t i = 0; i < v->n; i++) {
        const ynode_t *k = v->items[2 * i], *m = v->items[2 * i + 1];
        if (!check_key(x, k, path)) {
            ok = false;
            continue;
        }
        if (strcmp(k->str, "requests") != 0 && strcmp(k->str, "limits") != 0) {
            unknown_key(x, k, path, &rl);
            ok = false;
            continue;
        }
        char sub[KEYPATH_MAX];
        mkpath(sub, sizeof sub, "%s.%s", path, k->str);
        if (!check_map(x, m, sub)) {
            if (m->kind != YNODE_SCALAR || !is_null(m))
                ok = false;
            continue;
        }
        cJSON *group = cJSON_CreateObject();
        if (!group || !cJSON_AddItemToObject(res, k->str, group)) {
            cJSON_Delete(group);
            x->oom = true;
            ok = false;
            continue;
        }
        for (size_t j = 0; j < m->n; j++) {
            const ynode_t *rk = m->items[2 * j], *q = m->items[2 * j + 1];
            if (!check_key(x, rk, sub)) {
                ok = false;
                continue;
            }
            char rpath[KEYPATH_MAX];
            mkpath(rpath, sizeof rpath, "%s.%s", sub, rk->str);
            if (!k8s_resource_name(rk->str, rk->len)) {
                NODE_ERR(x, rk,
                         "%s: %s is not a resource name; use names such as cpu, memory, "
                         "ephemeral-storage or example.com/gpu",
                         sub, shown(rk).s);
                ok = false;
                continue;
            }
            if (!want_scalar(x, q, rpath, "a quantity such as 500m or 1Gi")) {
                ok = false;
                continue;
            }
            yscalar_kind_t qk = ydoc_scalar_kind(q, NULL, NULL, NULL);
            if (qk == YSCALAR_NULL || qk == YSCALAR_BOOL || !k8s_quantity(q->str, q->len)) {
                NODE_ERR(x, q,
                         "%s: %s is not a Kubernetes quantity; write a number with an optional "
                         "suffix, such as 500m, 2, 1.5, 512Mi or 4Gi",
                         rpath, shown(q).s);
                ok = false;
                continue;
            }
            cJSON *qs = cJSON_CreateString(q->str);
            bool added = qs && (cJSON_GetObjectItemCaseSensitive(group, rk->str)
                                    ? cJSON_ReplaceItemInObjectCaseSensitive(group, rk->str, qs)
                                    : cJSON_AddItemToObject(group, rk->str, qs));
            if (!added) {
                cJSON_Delete(qs);
                x->oom = true;
                ok = false;
            }
        }
    }
    if (!ok) {
        cJSON_Delete(res);
        return;
    }
    cJSON_Delete(c->policy.build_image.resources);
    c->policy.build_image.resources = res;
}

#define OFF(m) offsetof(wh_config_t, m)
#define STR(k, m, fn)                                                                              \
    {                                                                                              \
        k, F_STR, OFF(m), 0, 0, NULL, fn                                                           \
    }
#define BOOL(k, m)                                                                                 \
    {                                                                                              \
        k, F_BOOL, OFF(m), 0, 0, NULL, NULL                                                        \
    }
#define UINT(k, m, lo, hi)                                                                         \
    {                                                                                              \
        k, F_UINT, OFF(m), lo, hi, NULL, NULL                                                      \
    }
#define LIST(k, m, fn)                                                                             \
    {                                                                                              \
        k, F_LIST, OFF(m), 0, 0, NULL, fn                                                          \
    }
#define IGN(k)                                                                                     \
    {                                                                                              \
        k, F_IGNORED_STR, 0, 0, 0, NULL, NULL                                                      \
    }
#define BLOCK(k, b)                                                                                \
    {                                                                                              \
        k, F_BLOCK, 0, 0, 0, &b, NULL                                                              \
    }
#define CUSTOM(k, fn)                                                                              \
    {                                                                                              \
        k, F_CUSTOM, 0, 0, 0, NULL, fn                                                             \
    }
#define BLK(a)                                                                                     \
    {                                                                                              \
        a, sizeof a / sizeof a[0]                                                                  \
    }

static const field_t pdc_fields[] = {
    BOOL("enabled", policy.production_domain_check.enabled),
    STR("apiServer", policy.production_domain_check.api_server, chk_http_url),
    STR("kubeconfig", policy.production_domain_check.kubeconfig, NULL),
    STR("tokenFile", policy.production_domain_check.token_file, NULL),
    STR("caFile", policy.production_domain_check.ca_file, NULL),
    UINT("ttlSeconds", policy.production_domain_check.ttl_seconds, 1, 86400),
    UINT("timeoutMs", policy.production_domain_check.timeout_ms, 50, 10000),
};
static const block_t pdc_block = BLK(pdc_fields);

static const field_t rc_fields[] = {
    BOOL("enabled", policy.registry_check.enabled),
    UINT("timeoutMs", policy.registry_check.timeout_ms, 50, 9000),
    UINT("positiveTtlSeconds", policy.registry_check.positive_ttl_seconds, 0, 2592000),
    UINT("negativeTtlSeconds", policy.registry_check.negative_ttl_seconds, 0, 86400),
    UINT("cacheSize", policy.registry_check.cache_size, 1, 1000000),
    STR("dockerConfig", policy.registry_check.docker_config, NULL),
    STR("caFile", policy.registry_check.ca_file, NULL),
    LIST("insecureRegistries", policy.registry_check.insecure_registries, chk_insecure),
};
static const block_t rc_block = BLK(rc_fields);

static const field_t bi_fields[] = {
    STR("image", policy.build_image.image, chk_image),
    STR("imagePullPolicy", policy.build_image.pull_policy, chk_pull_policy),
    CUSTOM("resources", read_resources),
};
static const block_t bi_block = BLK(bi_fields);

static const field_t ba_fields[] = {
    LIST("registries", policy.basic_auth_registries, chk_basic_regs),
    IGN("username"),
    IGN("passwordSecretName"),
    IGN("passwordPlainText"),
};
static const block_t ba_block = BLK(ba_fields);

static const field_t ib_fields[] = {
    BOOL("enabled", policy.enabled),
    STR("targetConfigMapName", policy.target_configmap, chk_configmap),
    STR("buildkitUri", policy.buildkit_uri, chk_buildkit_uri),
    STR("defaultRepository", policy.default_repository, chk_default_repo),
    CUSTOM("authenticationType", read_auth),
    CUSTOM("buildkit", read_buildkit),
    CUSTOM("repositoryLayout", read_layout),
    LIST("logicalRegistries", policy.logical_registries, chk_logical),
    LIST("domains", policy.domains, chk_domains),
    STR("productionDomain", policy.production_domain, chk_prod_domain),
    STR("buildProject", policy.build_project, chk_project),
    STR("namespaceTemplate", policy.namespace_template, chk_template),
    BLOCK("productionDomainCheck", pdc_block),
    BLOCK("registryCheck", rc_block),
    BLOCK("buildImage", bi_block),
    BLOCK("basicAuth", ba_block),
    IGN("registryName"),
};
static const block_t ib_block = BLK(ib_fields);

static const field_t tls_fields[] = {
    STR("certFile", server.tls_cert_file, NULL),
    STR("keyFile", server.tls_key_file, NULL),
    STR("clientCAFile", server.tls_client_ca_file, NULL),
};
static const block_t tls_block = BLK(tls_fields);

static const field_t wh_fields[] = {
    STR("listen", server.listen, chk_listen),
    STR("path", server.path, chk_path),
    BLOCK("tls", tls_block),
    UINT("threads", server.threads, 0, 256),
    {"maxRequestBytes", F_SIZE, OFF(server.max_request_bytes), 1024, 64u * 1024 * 1024, NULL, NULL},
    STR("metricsListen", server.metrics_listen, chk_metrics_listen),
    CUSTOM("logLevel", read_log_level),
    UINT("requestTimeoutMs", server.request_timeout_ms, 100, 600000),
    UINT("shutdownTimeoutMs", server.shutdown_timeout_ms, 0, 600000),
};
static const block_t wh_block = BLK(wh_fields);

/* ---- checks across keys ---------------------------------------------------- */

static const ynode_t *find(const ynode_t *root, const char *a, const char *b, const char *c3)
{
    const ynode_t *n = ydoc_get(root, a);
    if (n && b)
        n = ydoc_get(n, b);
    if (n && c3)
        n = ydoc_get(n, c3);
    return n;
}

/* Replaces every `pat` in `s` with `with`. */
static char *replace_all(const char *s, const char *pat, const char *with)
{
    buf_t b = BUF_INIT;
    size_t pl = strlen(pat);
    const char *p;
    while ((p = strstr(s, pat)) != NULL) {
        buf_append(&b, s, (size_t)(p - s));
        buf_puts(&b, with);
        s = p + pl;
    }
    buf_puts(&b, s);
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static void cross_checks(ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    const ynode_t *ib = ydoc_get(root, "imageBuilder");
    const ynode_t *n_repo = find(root, "imageBuilder", "defaultRepository", NULL);
    const ynode_t *n_auth = find(root, "imageBuilder", "authenticationType", NULL);

    /* defaultRepository against authenticationType */
    if (x->repo_ok && c->policy.default_repository[0]) {
        const char *host;
        size_t host_n;
        registry_info_t info;
        repo_host(c->policy.default_repository, &host, &host_n, &info);
        if (!registry_auth_reaches(c->policy.auth, &info, true)) {
            const ynode_t *at = n_repo ? n_repo : n_auth;
            NODE_ERR(x, at,
                     "imageBuilder.defaultRepository: %s is a %s repository, which "
                     "authenticationType \"%s\" cannot log in to (it reaches %s); use such a "
                     "repository or change imageBuilder.authenticationType",
                     show(c->policy.default_repository, strlen(c->policy.default_repository)).s,
                     registry_kind_name(info.kind), auth_type_name(c->policy.auth),
                     auth_type_reach(c->policy.auth));
        }
        if (!x->basic_set) {
            char *h = dup_n(x, host, host_n);
            if (h) {
                const char *items[1] = {h};
                if (!strlist_set(&c->policy.basic_auth_registries, items, 1))
                    x->oom = true;
                free(h);
            }
        }
    }

    /* productionDomain must be one of domains */
    if (x->domains_ok && x->prod_ok) {
        bool found = false;
        for (size_t i = 0; i < c->policy.domains.n && !found; i++)
            found = strcmp(c->policy.domains.items[i], c->policy.production_domain) == 0;
        if (!found) {
            buf_t l = BUF_INIT;
            for (size_t i = 0; i < c->policy.domains.n; i++)
                buf_printf(&l, "%s%s", i ? ", " : "", c->policy.domains.items[i]);
            const ynode_t *at = find(root, "imageBuilder", "productionDomain", NULL);
            if (!at)
                at = find(root, "imageBuilder", "domains", NULL);
            NODE_ERR(x, at,
                     "imageBuilder.productionDomain: %s is not in imageBuilder.domains [%s]; "
                     "add it to imageBuilder.domains or set productionDomain to one of them",
                     show(c->policy.production_domain, strlen(c->policy.production_domain)).s,
                     l.data ? l.data : "");
            if (l.oom)
                x->oom = true;
            buf_free(&l);
        }
    }

    /* the production namespace */
    if (x->template_ok && x->project_ok && x->prod_ok) {
        char *a =
            replace_all(c->policy.namespace_template, "{{ project }}", c->policy.build_project);
        char *ns = a ? replace_all(a, "{{ domain }}", c->policy.production_domain) : NULL;
        free(a);
        if (!ns) {
            x->oom = true;
        } else if (!k8s_dns_label(ns, strlen(ns))) {
            const ynode_t *at = find(root, "imageBuilder", "namespaceTemplate", NULL);
            if (!at)
                at = find(root, "imageBuilder", "buildProject", NULL);
            if (!at)
                at = find(root, "imageBuilder", "productionDomain", NULL);
            NODE_ERR(x, at,
                     "imageBuilder.namespaceTemplate: it gives the namespace %s, which is not a "
                     "valid namespace name; " LABEL_RULE,
                     show(ns, strlen(ns)).s);
            free(ns);
        } else {
            free(c->policy.production_namespace);
            c->policy.production_namespace = ns;
        }
    }

    /* a builder must exist */
    if (c->policy.enabled && c->policy.buildkit_uri[0] == '\0' && !c->policy.buildkit_enabled) {
        const ynode_t *at = find(root, "imageBuilder", "buildkit", "enabled");
        if (!at)
            at = find(root, "imageBuilder", "buildkitUri", NULL);
        if (!at)
            at = ib;
        NODE_ERR(x, at,
                 "imageBuilder.buildkit.enabled is false and imageBuilder.buildkitUri is empty, so "
                 "nothing can build images; set buildkitUri (e.g. "
                 "tcp://buildkitd.buildkit.svc.cluster.local:1234) or enable buildkit");
    }

    /* TLS files come in pairs */
    bool cert = c->server.tls_cert_file[0] != '\0', key = c->server.tls_key_file[0] != '\0';
    if (cert != key) {
        const ynode_t *at = find(root, "webhook", "tls", cert ? "certFile" : "keyFile");
        NODE_ERR(x, at, "webhook.tls.%s is set but webhook.tls.%s is not; set both or neither",
                 cert ? "certFile" : "keyFile", cert ? "keyFile" : "certFile");
    }

    /* metrics on their own address */
    if (c->server.metrics_listen[0] && strcmp(c->server.metrics_listen, c->server.listen) == 0)
        NODE_ERR(x, find(root, "webhook", "metricsListen", NULL),
                 "webhook.metricsListen: %s is also webhook.listen; give metrics another port",
                 show(c->server.metrics_listen, strlen(c->server.metrics_listen)).s);
}

/* ---- loading ---------------------------------------------------------------- */

static cJSON *default_resources(void)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *req = cJSON_AddObjectToObject(r, "requests");
    cJSON *lim = cJSON_AddObjectToObject(r, "limits");
    if (!r || !req || !lim || !cJSON_AddStringToObject(req, "cpu", "500m") ||
        !cJSON_AddStringToObject(req, "memory", "1Gi") ||
        !cJSON_AddStringToObject(lim, "memory", "4Gi")) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

wh_config_t *config_defaults(void)
{
    wh_config_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    static const char *const logical[] = {"cr.union.ai"};
    static const char *const domains[] = {"development", "staging", "production"};
    c->policy.enabled = true;
    c->policy.auth = AUTH_NOOP;
    c->policy.buildkit_enabled = true;
    c->policy.layout = LAYOUT_AUTO;
    c->policy.production_domain_check.ttl_seconds = 60;
    c->policy.production_domain_check.timeout_ms = 1000;
    c->policy.registry_check.timeout_ms = 1500;
    c->policy.registry_check.positive_ttl_seconds = 86400;
    c->policy.registry_check.negative_ttl_seconds = 10;
    c->policy.registry_check.cache_size = 4096;
    c->server.threads = 0;
    c->server.max_request_bytes = 3u * 1024 * 1024;
    c->server.log_level = LOG_INFO;
    c->server.request_timeout_ms = 10000;
    c->server.shutdown_timeout_ms = 20000;

    bool ok =
        (c->policy.target_configmap = strdup("build-image-config")) &&
        (c->policy.buildkit_uri = strdup("")) && (c->policy.default_repository = strdup("")) &&
        strlist_set(&c->policy.logical_registries, logical, 1) &&
        strlist_set(&c->policy.domains, domains, 3) &&
        (c->policy.production_domain = strdup("production")) &&
        (c->policy.build_project = strdup("system")) &&
        (c->policy.namespace_template = strdup("{{ project }}-{{ domain }}")) &&
        (c->policy.production_namespace = strdup("system-production")) &&
        (c->policy.production_domain_check.api_server = strdup("")) &&
        (c->policy.production_domain_check.kubeconfig = strdup("")) &&
        (c->policy.production_domain_check.token_file =
             strdup("/var/run/secrets/kubernetes.io/serviceaccount/token")) &&
        (c->policy.production_domain_check.ca_file =
             strdup("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")) &&
        (c->policy.registry_check.docker_config = strdup("")) &&
        (c->policy.registry_check.ca_file = strdup("")) &&
        (c->policy.build_image.image = strdup(DEFAULT_BUILD_IMAGE)) &&
        (c->policy.build_image.pull_policy = strdup("IfNotPresent")) &&
        (c->policy.build_image.resources = default_resources()) &&
        (c->server.listen = strdup(":8443")) && (c->server.path = strdup("/mutate")) &&
        (c->server.tls_cert_file = strdup("")) && (c->server.tls_key_file = strdup("")) &&
        (c->server.tls_client_ca_file = strdup("")) && (c->server.metrics_listen = strdup(""));
    if (!ok) {
        config_free(c);
        return NULL;
    }
    return c;
}

void config_free(wh_config_t *c)
{
    if (!c)
        return;
    free(c->policy.target_configmap);
    free(c->policy.buildkit_uri);
    free(c->policy.default_repository);
    strlist_free(&c->policy.logical_registries);
    strlist_free(&c->policy.domains);
    free(c->policy.production_domain);
    free(c->policy.build_project);
    free(c->policy.namespace_template);
    free(c->policy.production_namespace);
    strlist_free(&c->policy.basic_auth_registries);
    free(c->policy.production_domain_check.api_server);
    free(c->policy.production_domain_check.kubeconfig);
    free(c->policy.production_domain_check.token_file);
    free(c->policy.production_domain_check.ca_file);
    free(c->policy.registry_check.docker_config);
    free(c->policy.registry_check.ca_file);
    strlist_free(&c->policy.registry_check.insecure_registries);
    free(c->policy.build_image.image);
    free(c->policy.build_image.pull_policy);
    cJSON_Delete(c->policy.build_image.resources);
    free(c->server.listen);
    free(c->server.path);
    free(c->server.tls_cert_file);
    free(c->server.tls_key_file);
    free(c->server.tls_client_ca_file);
    free(c->server.metrics_listen);
    free(c->source);
    free(c);
}

static void check_root(ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (root->kind == YNODE_SCALAR && is_null(root))
        return;
    if (root->kind != YNODE_MAP) {
        NODE_ERR(x, root,
                 "the file must hold a map with imageBuilder: and webhook: at the top level, "
                 "not %s",
                 root->kind == YNODE_SCALAR ? kind_word(root) : shown(root).s);
        return;
    }
    const ynode_t *seen_ib = NULL, *seen_wh = NULL;
    for (size_t i = 0; i < root->n; i++) {
        const ynode_t *k = root->items[2 * i], *v = root->items[2 * i + 1];
        if (k->kind != YNODE_SCALAR)
            continue; /* not ours */
        if (strcmp(k->str, "imageBuilder") == 0 || strcmp(k->str, "webhook") == 0) {
            bool is_ib = k->str[0] == 'i';
            const ynode_t **seen = is_ib ? &seen_ib : &seen_wh;
            if (*seen)
                NODE_ERR(x, k, "%s is set twice (first at line %zu); remove one of them", k->str,
                         (*seen)->line);
            *seen = k;
            walk_block(x, v, k->str, is_ib ? &ib_block : &wh_block, c);
        } else if (strcasecmp(k->str, "imageBuilder") == 0 || strcasecmp(k->str, "webhook") == 0) {
            NODE_ERR(x, k, "unknown top-level key %s; did you mean %s?", shown(k).s,
                     tolower((unsigned char)k->str[0]) == 'i' ? "imageBuilder" : "webhook");
        }
    }
}

wh_config_t *config_load_buffer(const char *name, const char *buf, size_t len,
                                config_errors_t *errs)
{
    config_errors_t local = {NULL, 0};
    ctx_t x = {0};
    x.file = name ? name : "config";
    x.errs = errs ? errs : &local;
    x.repo_ok = true;
    x.domains_ok = x.prod_ok = x.project_ok = x.template_ok = true;
    size_t before = x.errs->n;

    wh_config_t *c = config_defaults();
    if (!c) {
        add_error(&x, 0, 0, "out of memory");
        config_errors_free(&local);
        return NULL;
    }
    if (!(c->source = strdup(x.file)))
        x.oom = true;

    ydoc_error_t yerr;
    ynode_t *root = ydoc_parse(buf, len, NULL, &yerr);
    if (!root) {
        add_error(&x, yerr.line, yerr.col, "YAML: %s", yerr.msg);
    } else {
        check_root(&x, root, c);
        cross_checks(&x, root, c);
        ydoc_free(root);
    }
    if (x.dropped) {
        buf_t b = BUF_INIT;
        buf_printf(&b, "%zu more errors not shown; fix the ones above first", x.dropped);
        char *m = b.oom ? NULL : buf_steal(&b);
        buf_free(&b);
        if (!m || !push_error(x.errs, x.file, 0, 0, m))
            x.oom = true;
    }
    if (x.oom) {
        /* bypass the error cap: this one must get through */
        char *m = strdup("out of memory while loading the configuration");
        if (m)
            (void)push_error(x.errs, x.file, 0, 0, m);
    }
    bool failed = x.errs->n > before || x.oom;
    config_errors_free(&local);
    if (failed) {
        config_free(c);
        return NULL;
    }
    return c;
}

bool config_errors_add(config_errors_t *errs, const char *file, size_t line, size_t col,
                       const char *msg)
{
    char *m = strdup(msg ? msg : "");
    return m && push_error(errs, file, line, col, m);
}

bool config_error_format(const config_error_t *e, buf_t *out)
{
    const char *file = e->file ? e->file : "config";
    if (e->line)
        buf_printf(out, "%s:%zu:%zu: error: ", file, e->line, e->col);
    else
        buf_printf(out, "%s: error: ", file);
    buf_put_oneline(out, e->msg ? e->msg : "", e->msg ? strlen(e->msg) : 0);
    return buf_putc(out, '\n');
}

bool config_errors_format(const config_errors_t *errs, buf_t *out)
{
    for (size_t i = 0; errs && i < errs->n; i++)
        config_error_format(&errs->items[i], out);
    return !out->oom;
}

void config_errors_free(config_errors_t *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->n; i++) {
        free(errs->items[i].file);
        free(errs->items[i].msg);
    }
    free(errs->items);
    errs->items = NULL;
    errs->n = 0;
}

const char *repo_layout_name(repo_layout_t l)
{
    switch (l) {
    case LAYOUT_AUTO:
        return "auto";
    case LAYOUT_PATH:
        return "path";
    case LAYOUT_TAG:
        return "tag";
    }
    return "unknown";
}
