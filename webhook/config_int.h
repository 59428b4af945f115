/* config_int: what the files of the configuration loader share and
 * nobody else may use: the loading context, errors with their positions,
 * values quoted for messages, and the entry points each file offers the
 * others (config.c loads, config_schema.c walks the keys, config_check.c
 * judges values and combinations, config_build.c reads the build
 * container's Kubernetes objects). The public interface is config.h. */
#ifndef WH_CONFIG_INT_H
#define WH_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "yamldoc.h"

#define CFG_MAX_ERRORS  100 /* then only "N more errors not shown" */
#define CFG_KEYPATH_MAX 256 /* dotted key paths longer than this are cut */
#define CFG_ALIAS_MSG   "YAML aliases are not supported here; write the value out"

/* One load in progress. */
typedef struct {
    const char *file;
    config_errors_t *errs;
    size_t dropped; /* errors past CFG_MAX_ERRORS */
    bool oom;
    /* state for the checks that span several keys */
    bool repo_ok;    /* defaultRepository passed its own checks */
    bool domains_ok; /* domains passed */
    bool prod_ok, project_ok, template_ok;
    bool basic_set; /* basicAuth.registries given */
} cfg_ctx_t;

/* ---- config.c: errors and messages -------------------------------------------- */

/* Adds an error at line:col (0:0 for none), up to CFG_MAX_ERRORS. */
void cfg_error(cfg_ctx_t *x, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error at a node's position. */
#define CFG_ERR(x, n, ...) cfg_error((x), (n) ? (n)->line : 0, (n) ? (n)->col : 0, __VA_ARGS__)

/* A value quoted for a message: one line, at most 64 characters shown. */
typedef struct {
    char s[80];
} cfg_shown_t;

cfg_shown_t cfg_show(const char *s, size_t n);
/* A node quoted for a message; maps, lists and aliases are named instead. */
cfg_shown_t cfg_shown(const ynode_t *n);

/* Dotted key paths for messages ("imageBuilder.domains[2]"); long ones are cut. */
void cfg_path(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* s[0..n) as a new string; NULL (and x->oom) when out of memory. */
char *cfg_dup(cfg_ctx_t *x, const char *s, size_t n);

/* The document's top level: a map that is not empty and sets imageBuilder:,
 * with no key that looks like a misspelt imageBuilder or webhook (the
 * chart's other keys are fine). A file that is empty or lacks
 * imageBuilder: (one being written, say) must never pass for a
 * configuration of defaults. False when the keys are not to be walked. */
bool cfg_check_top(cfg_ctx_t *x, const ynode_t *root);

/* ---- config_schema.c: the keys ------------------------------------------------ */

/* Case-insensitive edit distance between two key names (99 when long). */
size_t cfg_edit_distance(const char *a, const char *b);

/* Walks the document: the imageBuilder: and webhook: blocks, every key
 * read into `c` by type and checked by its validator. */
void cfg_walk_root(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c);

/* Typed readers. Each reports what is wrong at the node's position, with
 * `path` naming the key. The value readers return false when the value is
 * null (absent: no error) or wrong (error reported). */
bool cfg_is_null(const ynode_t *v);
/* A scalar that is not an alias, a map or a list (`what`: the expected kind, for the message). */
bool cfg_want_scalar(cfg_ctx_t *x, const ynode_t *v, const char *path, const char *what);
bool cfg_read_string(cfg_ctx_t *x, const ynode_t *v, const char *path);
bool cfg_read_bool(cfg_ctx_t *x, const ynode_t *v, const char *path, bool *out);
bool cfg_read_uint(cfg_ctx_t *x, const ynode_t *v, const char *path, unsigned long long min,
                   unsigned long long max, unsigned long long *out);
/* A list of strings; *out (freed by the caller) points into the tree. */
bool cfg_read_list(cfg_ctx_t *x, const ynode_t *v, const char *path, const char ***out);
/* A map (false for null, quietly, or anything else, with an error). */
bool cfg_check_map(cfg_ctx_t *x, const ynode_t *map, const char *path);
/* A map key that is a plain name (no alias, no merge key). */
bool cfg_check_key(cfg_ctx_t *x, const ynode_t *k, const char *path);
/* An unknown key `k` in a map whose known keys are keys[0..n): the nearest
 * one as a suggestion, or the list of them. */
void cfg_unknown_key(cfg_ctx_t *x, const ynode_t *k, const char *path, const char *const *keys,
                     size_t n);

/* ---- config_check.c: values, then combinations ------------------------------- */

/* Validators: called with a value already read into `c` at `path`; they
 * report what is wrong with it and may normalise it in place. */
typedef void cfg_check_fn(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c);
cfg_check_fn cfg_check_configmap, cfg_check_buildkit_uri, cfg_check_default_repo, cfg_check_logical,
    cfg_check_basic_regs, cfg_check_insecure, cfg_check_domains, cfg_check_prod_domain,
    cfg_check_project, cfg_check_template, cfg_check_http_url, cfg_check_image,
    cfg_check_pull_policy, cfg_check_path, cfg_check_listen, cfg_check_metrics_listen,
    cfg_check_positive_ttl;

/* The checks that span several keys, after the walk (in this order:
 * repository vs auth, production domain, namespace, builder, pod selection, TLS pair,
 * metrics port). */
/* The DNS label rule, for messages about names. */
#define LABEL_RULE                                                                                 \
    "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"

/* config_cross.c: every check across keys, after all keys are read. */
void cfg_cross_checks(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c);
/* The host and registry kind of a (valid, non-empty) default repository. */
void cfg_repo_host(const char *r, const char **host, size_t *host_n, registry_info_t *info);

/* ---- config_build.c: buildImage values kept as Kubernetes JSON ---------------- */

/* buildImage.resources and buildImage.securityContext: each, when given,
 * replaces the default whole (F_CUSTOM readers of the schema). */
cfg_check_fn cfg_read_resources, cfg_read_security_context;

#endif
