/* config: the configuration's public interface (config.h): the built-in
 * defaults, freeing, loading from bytes (parse, walk the keys, check the
 * combinations) and the collected errors. The keys are config_schema.c's,
 * the value and cross checks config_check.c's; reading the file and
 * printing errors are config_file.c's, in the shell.
 *
 * Choices worth knowing:
 *   - a key written with no value (null) keeps its default;
 *   - `buildImage.resources` and `buildImage.securityContext`, when given,
 *     replace their defaults whole (config_build.c reads them);
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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config_int.h"
#include "strlist.h"
#include "yamldoc.h"

#define DEFAULT_BUILD_IMAGE "public.ecr.aws/g1m2l3c1/imagebuilder-staging/build-image:latest"

/* ---- errors ------------------------------------------------------------------ */

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

void cfg_error(cfg_ctx_t *x, size_t line, size_t col, const char *fmt, ...)
{
    if (x->errs->n >= CFG_MAX_ERRORS) {
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

cfg_shown_t cfg_show(const char *s, size_t n)
{
    cfg_shown_t o;
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

cfg_shown_t cfg_shown(const ynode_t *n)
{
    if (n && n->kind == YNODE_SCALAR)
        return cfg_show(n->str, n->len);
    cfg_shown_t o;
    snprintf(o.s, sizeof o.s, "%s",
             !n                     ? "nothing"
             : n->kind == YNODE_MAP ? "a map"
             : n->kind == YNODE_SEQ ? "a list"
                                    : "an alias");
    return o;
}

void cfg_path(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(dst, n, fmt, ap);
    va_end(ap);
    if (r < 0 && n > 0)
        dst[0] = '\0';
}

char *cfg_dup(cfg_ctx_t *x, const char *s, size_t n)
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

/* ---- defaults ---------------------------------------------------------------- */

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

/* What Pod Security "restricted" asks of a container. */
static cJSON *default_security_context(void)
{
    return cJSON_Parse("{\"runAsNonRoot\":true,\"allowPrivilegeEscalation\":false,"
                       "\"capabilities\":{\"drop\":[\"ALL\"]},"
                       "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}");
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
    c->policy.pod_select = POD_SELECT_LABEL;
    c->policy.production_domain_check.ttl_seconds = 60;
    c->policy.production_domain_check.absent_ttl_seconds = 2;
    c->policy.production_domain_check.timeout_ms = 1000;
    c->policy.registry_check.timeout_ms = 1500;
    c->policy.registry_check.positive_ttl_seconds = 600;
    c->policy.registry_check.negative_ttl_seconds = 10;
    c->policy.registry_check.failure_backoff_seconds = 10;
    c->policy.registry_check.cache_size = 4096;
    c->policy.limits.max_builds = 8;
    c->policy.limits.max_containers = 128;
    c->policy.limits.max_patch_bytes = 1024u * 1024;
    c->server.threads = 0;
    c->server.max_request_bytes = 3u * 1024 * 1024;
    c->server.log_level = LOG_INFO;
    c->server.request_timeout_ms = 10000;
    c->server.shutdown_timeout_ms = 20000;
    c->server.shutdown_delay_ms = 5000;
    c->server.max_connections = 1024;
    c->server.max_buffered_bytes = 64u * 1024 * 1024;
    c->server.write_timeout_ms = 10000;
    c->server.http2_enabled = false;
    c->server.http2_max_streams = 100;
    c->server.http2_max_resets = 100;

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
        (c->policy.build_image.security_context = default_security_context()) &&
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
    cJSON_Delete(c->policy.build_image.security_context);
    free(c->server.listen);
    free(c->server.path);
    free(c->server.tls_cert_file);
    free(c->server.tls_key_file);
    free(c->server.tls_client_ca_file);
    free(c->server.metrics_listen);
    free(c->source);
    free(c);
}

/* ---- the top level ------------------------------------------------------------ */

static bool is_null_scalar(const ynode_t *n)
{
    return n->kind == YNODE_SCALAR && ydoc_scalar_kind(n, NULL, NULL, NULL) == YSCALAR_NULL;
}

static const char *scalar_word(const ynode_t *n)
{
    static const char *const words[] = {"a string", "null", "a boolean", "an integer", "a number"};
    yscalar_kind_t k = ydoc_scalar_kind(n, NULL, NULL, NULL);
    return (size_t)k < sizeof words / sizeof words[0] ? words[k] : "a string";
}

/* A top-level key that is not imageBuilder or webhook but looks like one:
 * the same but for case, or at most 3 (imageBuilder) or 2 (webhook)
 * edits away. The chart's own keys are all further away. */
static void check_near_miss(cfg_ctx_t *x, const ynode_t *k, bool *ib_meant)
{
    static const struct {
        const char *key;
        size_t within;
    } known[] = {{"imageBuilder", 3}, {"webhook", 2}};
    for (size_t j = 0; j < 2; j++) {
        if (strcmp(k->str, known[j].key) != 0 &&
            cfg_edit_distance(k->str, known[j].key) <= known[j].within) {
            CFG_ERR(x, k, "unknown top-level key %s; did you mean %s?", cfg_show(k->str, k->len).s,
                    known[j].key);
            *ib_meant = *ib_meant || j == 0;
            return;
        }
    }
}

bool cfg_check_top(cfg_ctx_t *x, const ynode_t *root)
{
    size_t line = root->line ? root->line : 1, col = root->col ? root->col : 1;
    if (is_null_scalar(root) || (root->kind == YNODE_MAP && root->n == 0)) {
        cfg_error(x, line, col,
                  "the file is empty; a configuration sets imageBuilder: at the top level (a "
                  "file caught half-written is refused, and the running configuration stays)");
        return false;
    }
    if (root->kind != YNODE_MAP) {
        cfg_error(x, line, col,
                  "the file must hold a map with imageBuilder: and webhook: at the top level, "
                  "not %s",
                  root->kind == YNODE_SCALAR ? scalar_word(root) : cfg_shown(root).s);
        return false;
    }
    size_t ib = 0; /* 1 + the index of imageBuilder: */
    bool ib_meant = false;
    for (size_t i = 0; i < root->n; i++) {
        const ynode_t *k = root->items[2 * i];
        if (k->kind != YNODE_SCALAR)
            continue; /* not ours */
        if (strcmp(k->str, "imageBuilder") == 0)
            ib = ib ? ib : i + 1;
        else
            check_near_miss(x, k, &ib_meant);
    }
    if (!ib && !ib_meant)
        cfg_error(x, line, col,
                  "no imageBuilder: at the top level; a configuration must set it (imageBuilder: "
                  "{} for every default), so that a file caught half-written is refused");
    else if (ib && is_null_scalar(root->items[2 * ib - 1]))
        CFG_ERR(x, root->items[2 * ib - 2],
                "imageBuilder: has no settings; write them below it, or imageBuilder: {} for "
                "every default (a file caught half-written is refused)");
    return true;
}

/* ---- loading ---------------------------------------------------------------- */

wh_config_t *config_load_buffer(const char *name, const char *buf, size_t len,
                                config_errors_t *errs)
{
    config_errors_t local = {NULL, 0};
    cfg_ctx_t x = {0};
    x.file = name ? name : "config";
    x.errs = errs ? errs : &local;
    x.repo_ok = true;
    x.domains_ok = x.prod_ok = x.project_ok = x.template_ok = true;
    size_t before = x.errs->n;

    wh_config_t *c = config_defaults();
    if (!c) {
        cfg_error(&x, 0, 0, "out of memory");
        config_errors_free(&local);
        return NULL;
    }
    if (!(c->source = strdup(x.file)))
        x.oom = true;

    ydoc_error_t yerr;
    ynode_t *root = ydoc_parse(buf, len, NULL, &yerr);
    if (!root) {
        cfg_error(&x, yerr.line, yerr.col, "YAML: %s", yerr.msg);
    } else {
        cfg_walk_root(&x, root, c);
        cfg_cross_checks(&x, root, c);
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

bool repo_layout_parse(const char *s, repo_layout_t *out)
{
    static const repo_layout_t all[] = {LAYOUT_AUTO, LAYOUT_PATH, LAYOUT_TAG};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, repo_layout_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

const char *pod_select_name(pod_select_t p)
{
    return p == POD_SELECT_LOGICAL ? "logicalRegistry" : "label";
}

bool pod_select_parse(const char *s, pod_select_t *out)
{
    if (strcmp(s, "label") == 0)
        *out = POD_SELECT_LABEL;
    else if (strcmp(s, "logicalRegistry") == 0)
        *out = POD_SELECT_LOGICAL;
    else
        return false;
    return true;
}
