/* config_schema: the configuration's keys: the field tables of the
 * imageBuilder: and webhook: blocks, the walker that reads each key by its
 * type (strings, booleans, whole numbers, lists, nested blocks) and hands
 * it to its validator, the values read by hand (enumerations,
 * buildkit.enabled), and unknown keys with their "did you mean"
 * suggestion. The typed readers serve config_build.c too, which reads the
 * buildImage values kept as Kubernetes JSON (resources, securityContext). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "config_int.h"
#include "strlist.h"
#include "yamldoc.h"

#define MAX_LIST_ITEMS 1000

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

static void set_str(cfg_ctx_t *x, char **dst, const char *s, size_t n)
{
    char *d = cfg_dup(x, s, n);
    if (!d)
        return;
    free(*dst);
    *dst = d;
}

size_t cfg_edit_distance(const char *a, const char *b)
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
bool cfg_want_scalar(cfg_ctx_t *x, const ynode_t *v, const char *path, const char *what)
{
    if (v->kind == YNODE_ALIAS) {
        CFG_ERR(x, v, "%s: " CFG_ALIAS_MSG, path);
        return false;
    }
    if (v->kind != YNODE_SCALAR) {
        CFG_ERR(x, v, "%s: expected %s, got %s", path, what, cfg_shown(v).s);
        return false;
    }
    return true;
}

bool cfg_is_null(const ynode_t *v)
{
    return v->kind == YNODE_SCALAR && ydoc_scalar_kind(v, NULL, NULL, NULL) == YSCALAR_NULL;
}

/* A string value; false when absent (null) or wrong (error reported). */
bool cfg_read_string(cfg_ctx_t *x, const ynode_t *v, const char *path)
{
    if (!cfg_want_scalar(x, v, path, "a string"))
        return false;
    yscalar_kind_t k = ydoc_scalar_kind(v, NULL, NULL, NULL);
    if (k == YSCALAR_NULL)
        return false;
    if (k != YSCALAR_STR) {
        CFG_ERR(x, v, "%s: expected a string, got %s %s; put it in quotes if it is meant as text",
                path, kind_word(v), cfg_shown(v).s);
        return false;
    }
    if (memchr(v->str, '\0', v->len)) {
        CFG_ERR(x, v, "%s: the value contains a NUL character; remove it", path);
        return false;
    }
    return true;
}

bool cfg_read_bool(cfg_ctx_t *x, const ynode_t *v, const char *path, bool *out)
{
    if (!cfg_want_scalar(x, v, path, "true or false"))
        return false;
    bool b = false;
    yscalar_kind_t k = ydoc_scalar_kind(v, &b, NULL, NULL);
    if (k == YSCALAR_NULL)
        return false;
    if (k != YSCALAR_BOOL) {
        CFG_ERR(x, v, "%s: expected true or false, got %s%s", path, cfg_shown(v).s,
                !v->plain ? " (write it without quotes)" : "");
        return false;
    }
    *out = b;
    return true;
}

bool cfg_read_uint(cfg_ctx_t *x, const ynode_t *v, const char *path, unsigned long long min,
                   unsigned long long max, unsigned long long *out)
{
    if (!cfg_want_scalar(x, v, path, "a whole number"))
        return false;
    long long i = 0;
    yscalar_kind_t k = ydoc_scalar_kind(v, NULL, &i, NULL);
    if (k == YSCALAR_NULL)
        return false;
    if (k != YSCALAR_INT) {
        CFG_ERR(x, v, "%s: expected a whole number from %llu to %llu, got %s%s", path, min, max,
                cfg_shown(v).s, !v->plain ? " (write it without quotes and without a unit)" : "");
        return false;
    }
    if (i < 0 || (unsigned long long)i < min || (unsigned long long)i > max) {
        CFG_ERR(x, v, "%s: %lld is out of range; use a number from %llu to %llu", path, i, min,
                max);
        return false;
    }
    *out = (unsigned long long)i;
    return true;
}

/* A list of strings. Returns false when absent or wrong. The caller owns
 * nothing: items point into the tree. */
bool cfg_read_list(cfg_ctx_t *x, const ynode_t *v, const char *path, const char ***out)
{
    *out = NULL;
    if (v->kind == YNODE_ALIAS) {
        CFG_ERR(x, v, "%s: " CFG_ALIAS_MSG, path);
        return false;
    }
    if (cfg_is_null(v))
        return false;
    if (v->kind != YNODE_SEQ) {
        CFG_ERR(x, v,
                "%s: expected a list of strings, got %s; write it as [a, b] or as '- a' lines",
                path, cfg_shown(v).s);
        return false;
    }
    if (v->n > MAX_LIST_ITEMS) {
        CFG_ERR(x, v, "%s: the list has %zu items; at most %d are allowed", path, v->n,
                MAX_LIST_ITEMS);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        char ipath[CFG_KEYPATH_MAX];
        cfg_path(ipath, sizeof ipath, "%s[%zu]", path, i);
        const ynode_t *it = v->items[i];
        if (!cfg_read_string(x, it, ipath)) {
            if (it->kind == YNODE_SCALAR && cfg_is_null(it))
                CFG_ERR(x, it, "%s: empty list item; remove it or write a value", ipath);
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
typedef cfg_check_fn *field_fn;

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

static void walk_block(cfg_ctx_t *x, const ynode_t *map, const char *path, const block_t *blk,
                       wh_config_t *c);

static void apply_field(cfg_ctx_t *x, const field_t *f, const ynode_t *v, const char *path,
                        wh_config_t *c)
{
    if (v->kind == YNODE_ALIAS) {
        CFG_ERR(x, v, "%s: " CFG_ALIAS_MSG, path);
        return;
    }
    switch (f->type) {
    case F_BOOL: {
        bool b;
        if (cfg_read_bool(x, v, path, &b)) {
            *FIELD_AT(c, f, bool) = b;
            if (f->fn)
                f->fn(x, v, path, c);
        }
        return;
    }
    case F_STR:
        if (cfg_read_string(x, v, path)) {
            set_str(x, FIELD_AT(c, f, char *), v->str, v->len);
            if (f->fn)
                f->fn(x, v, path, c);
        }
        return;
    case F_IGNORED_STR:
        (void)cfg_read_string(x, v, path);
        return;
    case F_UINT:
    case F_SIZE: {
        unsigned long long u;
        if (cfg_read_uint(x, v, path, f->min, f->max, &u)) {
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
        if (cfg_read_list(x, v, path, &items)) {
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

void cfg_unknown_key(cfg_ctx_t *x, const ynode_t *k, const char *path, const char *const *keys,
                     size_t n)
{
    if (x->errs->n >= CFG_MAX_ERRORS) { /* no room left: skip the suggestion */
        x->dropped++;
        return;
    }
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        /* the length difference is a lower bound of the distance */
        size_t kl = strlen(keys[i]);
        if ((kl > k->len ? kl - k->len : k->len - kl) >= best_d)
            continue;
        size_t d = cfg_edit_distance(k->str, keys[i]);
        if (d < best_d) {
            best_d = d;
            best = keys[i];
        }
    }
    if (best)
        CFG_ERR(x, k, "%s: unknown key %s; did you mean %s?", path, cfg_shown(k).s, best);
    else {
        buf_t b = BUF_INIT;
        for (size_t i = 0; i < n; i++)
            buf_printf(&b, "%s%s", i ? ", " : "", keys[i]);
        CFG_ERR(x, k, "%s: unknown key %s; the keys allowed here are: %s", path, cfg_shown(k).s,
                b.data ? b.data : "");
        if (b.oom)
            x->oom = true;
        buf_free(&b);
    }
}

#define BLOCK_MAX_FIELDS 32 /* the most keys a block has (walk_block's duplicate check) */

static void unknown_key(cfg_ctx_t *x, const ynode_t *k, const char *path, const block_t *blk)
{
    const char *keys[BLOCK_MAX_FIELDS];
    size_t n = blk->n < BLOCK_MAX_FIELDS ? blk->n : BLOCK_MAX_FIELDS;
    for (size_t i = 0; i < n; i++)
        keys[i] = blk->fields[i].key;
    cfg_unknown_key(x, k, path, keys, n);
}

/* Checks that `map` is a map (null: nothing to do) and reports problems
 * with its keys. Calls `each` for every well-formed key/value pair. */
bool cfg_check_map(cfg_ctx_t *x, const ynode_t *map, const char *path)
{
    if (map->kind == YNODE_ALIAS) {
        CFG_ERR(x, map, "%s: " CFG_ALIAS_MSG, path);
        return false;
    }
    if (cfg_is_null(map))
        return false;
    if (map->kind != YNODE_MAP) {
        CFG_ERR(x, map, "%s: expected a map of settings, got %s", path, cfg_shown(map).s);
        return false;
    }
    return true;
}

bool cfg_check_key(cfg_ctx_t *x, const ynode_t *k, const char *path)
{
    if (k->kind == YNODE_ALIAS) {
        CFG_ERR(x, k, "%s: " CFG_ALIAS_MSG, path);
        return false;
    }
    if (k->kind != YNODE_SCALAR) {
        CFG_ERR(x, k, "%s: keys must be plain names, not %s", path, cfg_shown(k).s);
        return false;
    }
    if (k->len == 2 && memcmp(k->str, "<<", 2) == 0) {
        CFG_ERR(x, k, "%s: YAML merge keys (<<) are not supported here; write the keys out", path);
        return false;
    }
    return true;
}

static void walk_block(cfg_ctx_t *x, const ynode_t *map, const char *path, const block_t *blk,
                       wh_config_t *c)
{
    if (!cfg_check_map(x, map, path))
        return;
    const ynode_t *seen[BLOCK_MAX_FIELDS] = {0};
    for (size_t i = 0; i < map->n; i++) {
        const ynode_t *k = map->items[2 * i], *v = map->items[2 * i + 1];
        if (!cfg_check_key(x, k, path))
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
        char sub[CFG_KEYPATH_MAX];
        cfg_path(sub, sizeof sub, "%s.%s", path, blk->fields[fi].key);
        if (fi < BLOCK_MAX_FIELDS) {
            if (seen[fi])
                CFG_ERR(x, k, "%s is set twice (first at line %zu); remove one of them", sub,
                        seen[fi]->line);
            seen[fi] = k;
        }
        apply_field(x, &blk->fields[fi], v, sub, c);
    }
}

/* ---- values read by hand ---------------------------------------------------- */

/* Enumerations. */
static void read_auth(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!cfg_read_string(x, v, path))
        return;
    if (!auth_type_parse(v->str, &c->policy.auth))
        CFG_ERR(x, v, "%s: %s is not one of noop, google, aws, azure, basic", path, cfg_shown(v).s);
}

static void read_layout(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (cfg_read_string(x, v, path) && !repo_layout_parse(v->str, &c->policy.layout))
        CFG_ERR(x, v, "%s: %s is not one of auto, path, tag", path, cfg_shown(v).s);
}

static void read_selection(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (cfg_read_string(x, v, path) && !pod_select_parse(v->str, &c->policy.pod_select))
        CFG_ERR(x, v, "%s: %s is not one of label, logicalRegistry", path, cfg_shown(v).s);
}

static void read_log_level(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!cfg_read_string(x, v, path))
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v->str, names[i]) == 0) {
            c->server.log_level = (log_level_t)i;
            return;
        }
    }
    CFG_ERR(x, v, "%s: %s is not one of debug, info, warn, error", path, cfg_shown(v).s);
}

/* imageBuilder.buildkit: the chart's block; only `enabled` is read. */
static void read_buildkit(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c)
{
    if (!cfg_check_map(x, v, path))
        return;
    const ynode_t *first = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const ynode_t *k = v->items[2 * i], *val = v->items[2 * i + 1];
        if (k->kind != YNODE_SCALAR || strcmp(k->str, "enabled") != 0)
            continue;
        char sub[CFG_KEYPATH_MAX];
        cfg_path(sub, sizeof sub, "%s.enabled", path);
        if (first)
            CFG_ERR(x, k, "%s is set twice (first at line %zu); remove one of them", sub,
                    first->line);
        first = k;
        if (val->kind == YNODE_ALIAS) {
            CFG_ERR(x, val, "%s: " CFG_ALIAS_MSG, sub);
            continue;
        }
        bool b;
        if (cfg_read_bool(x, val, sub, &b))
            c->policy.buildkit_enabled = b;
    }
}

/* One field_t per line of the tables below. */
#define FLD(...)                                                                                   \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
#define OFF(m)             offsetof(wh_config_t, m)
#define STR(k, m, fn)      FLD(k, F_STR, OFF(m), 0, 0, NULL, fn)
#define BOOL(k, m)         FLD(k, F_BOOL, OFF(m), 0, 0, NULL, NULL)
#define UINT(k, m, lo, hi) FLD(k, F_UINT, OFF(m), lo, hi, NULL, NULL)
#define SIZE(k, m, lo, hi) FLD(k, F_SIZE, OFF(m), lo, hi, NULL, NULL)
#define LIST(k, m, fn)     FLD(k, F_LIST, OFF(m), 0, 0, NULL, fn)
#define IGN(k)             FLD(k, F_IGNORED_STR, 0, 0, 0, NULL, NULL)
#define BLOCK(k, b)        FLD(k, F_BLOCK, 0, 0, 0, &b, NULL)
#define CUSTOM(k, fn)      FLD(k, F_CUSTOM, 0, 0, 0, NULL, fn)
#define BLK(a)             FLD(a, sizeof a / sizeof a[0])

static const field_t pdc_fields[] = {
    BOOL("enabled", policy.production_domain_check.enabled),
    STR("apiServer", policy.production_domain_check.api_server, cfg_check_http_url),
    STR("kubeconfig", policy.production_domain_check.kubeconfig, NULL),
    STR("tokenFile", policy.production_domain_check.token_file, NULL),
    STR("caFile", policy.production_domain_check.ca_file, NULL),
    UINT("ttlSeconds", policy.production_domain_check.ttl_seconds, 1, 86400),
    UINT("absentTtlSeconds", policy.production_domain_check.absent_ttl_seconds, 1, 60),
    UINT("timeoutMs", policy.production_domain_check.timeout_ms, 50, 10000),
};
static const block_t pdc_block = BLK(pdc_fields);

static const field_t rc_fields[] = {
    BOOL("enabled", policy.registry_check.enabled),
    UINT("timeoutMs", policy.registry_check.timeout_ms, 50, 9000),
    {"positiveTtlSeconds", F_UINT, OFF(policy.registry_check.positive_ttl_seconds), 0, 2592000,
     NULL, cfg_check_positive_ttl},
    UINT("negativeTtlSeconds", policy.registry_check.negative_ttl_seconds, 0, 86400),
    UINT("failureBackoffSeconds", policy.registry_check.failure_backoff_seconds, 0, 300),
    UINT("cacheSize", policy.registry_check.cache_size, 1, 1000000),
    STR("dockerConfig", policy.registry_check.docker_config, NULL),
    STR("caFile", policy.registry_check.ca_file, NULL),
    LIST("insecureRegistries", policy.registry_check.insecure_registries, cfg_check_insecure),
};
static const block_t rc_block = BLK(rc_fields);

static const field_t bi_fields[] = {
    STR("image", policy.build_image.image, cfg_check_image),
    STR("imagePullPolicy", policy.build_image.pull_policy, cfg_check_pull_policy),
    CUSTOM("resources", cfg_read_resources),
    CUSTOM("securityContext", cfg_read_security_context),
};
static const block_t bi_block = BLK(bi_fields);

static const field_t ba_fields[] = {
    LIST("registries", policy.basic_auth_registries, cfg_check_basic_regs),
    IGN("username"),
    IGN("passwordSecretName"),
    IGN("passwordPlainText"),
};
static const block_t ba_block = BLK(ba_fields);

static const field_t lim_fields[] = {
    UINT("maxBuildsPerPod", policy.limits.max_builds, 1, 64),
    UINT("maxContainersPerPod", policy.limits.max_containers, 1, 4096),
    {"maxPatchBytes", F_SIZE, OFF(policy.limits.max_patch_bytes), 65536, 16u * 1024 * 1024, NULL,
     NULL},
};
static const block_t lim_block = BLK(lim_fields);

static const field_t ib_fields[] = {
    BOOL("enabled", policy.enabled),
    STR("targetConfigMapName", policy.target_configmap, cfg_check_configmap),
    STR("buildkitUri", policy.buildkit_uri, cfg_check_buildkit_uri),
    STR("defaultRepository", policy.default_repository, cfg_check_default_repo),
    CUSTOM("authenticationType", read_auth),
    CUSTOM("buildkit", read_buildkit),
    CUSTOM("repositoryLayout", read_layout),
    CUSTOM("podSelection", read_selection),
    LIST("logicalRegistries", policy.logical_registries, cfg_check_logical),
    LIST("domains", policy.domains, cfg_check_domains),
    STR("productionDomain", policy.production_domain, cfg_check_prod_domain),
    STR("buildProject", policy.build_project, cfg_check_project),
    STR("namespaceTemplate", policy.namespace_template, cfg_check_template),
    BLOCK("productionDomainCheck", pdc_block),
    BLOCK("registryCheck", rc_block),
    BLOCK("buildImage", bi_block),
    BLOCK("basicAuth", ba_block),
    BLOCK("limits", lim_block),
    IGN("registryName"),
};
static const block_t ib_block = BLK(ib_fields);

static const field_t tls_fields[] = {
    STR("certFile", server.tls_cert_file, NULL),
    STR("keyFile", server.tls_key_file, NULL),
    STR("clientCAFile", server.tls_client_ca_file, NULL),
};
static const block_t tls_block = BLK(tls_fields);

/* http2.maxConcurrentStreams: at most the 100 streams libh2o 2.2 announces. */
static const field_t h2_fields[] = {
    BOOL("enabled", server.http2_enabled),
    UINT("maxConcurrentStreams", server.http2_max_streams, 1, 100),
    UINT("maxResetsPerSecond", server.http2_max_resets, 1, 100000),
};
static const block_t h2_block = BLK(h2_fields);

static const field_t wh_fields[] = {
    STR("listen", server.listen, cfg_check_listen),
    STR("path", server.path, cfg_check_path),
    BLOCK("tls", tls_block),
    UINT("threads", server.threads, 0, 256),
    SIZE("maxRequestBytes", server.max_request_bytes, 1024, 64u * 1024 * 1024),
    STR("metricsListen", server.metrics_listen, cfg_check_metrics_listen),
    CUSTOM("logLevel", read_log_level),
    UINT("requestTimeoutMs", server.request_timeout_ms, 100, 600000),
    UINT("shutdownTimeoutMs", server.shutdown_timeout_ms, 0, 600000),
    UINT("shutdownDelayMs", server.shutdown_delay_ms, 0, 600000),
    UINT("maxConnections", server.max_connections, 1, 1000000),
    SIZE("maxBufferedBytes", server.max_buffered_bytes, 1024 * 1024, 64ull << 30),
    UINT("writeTimeoutMs", server.write_timeout_ms, 100, 600000),
    BLOCK("http2", h2_block),
};
static const block_t wh_block = BLK(wh_fields);

/* ---- the document ---------------------------------------------------------- */

void cfg_walk_root(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (!cfg_check_top(x, root))
        return;
    const ynode_t *seen_ib = NULL, *seen_wh = NULL;
    for (size_t i = 0; i < root->n; i++) {
        const ynode_t *k = root->items[2 * i], *v = root->items[2 * i + 1];
        if (k->kind != YNODE_SCALAR)
            continue; /* not ours */
        if (strcmp(k->str, "imageBuilder") == 0 || strcmp(k->str, "webhook") == 0) {
            bool is_ib = k->str[0] == 'i';
            const ynode_t **seen = is_ib ? &seen_ib : &seen_wh;
            if (*seen)
                CFG_ERR(x, k, "%s is set twice (first at line %zu); remove one of them", k->str,
                        (*seen)->line);
            *seen = k;
            walk_block(x, v, k->str, is_ib ? &ib_block : &wh_block, c);
        }
    }
}
