/* config_int: what the three files of the configuration loader share and
 * nobody else may use: the loading context, errors with their positions,
 * values quoted for messages, and the entry points each file offers the
 * others (config.c loads, config_schema.c walks the keys, config_check.c
 * judges values and combinations). The public interface is config.h. */
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

/* ---- config_check.c: values, then combinations ------------------------------- */

/* Validators: called with a value already read into `c` at `path`; they
 * report what is wrong with it and may normalise it in place. */
typedef void cfg_check_fn(cfg_ctx_t *x, const ynode_t *v, const char *path, wh_config_t *c);
cfg_check_fn cfg_check_configmap, cfg_check_buildkit_uri, cfg_check_default_repo, cfg_check_logical,
    cfg_check_basic_regs, cfg_check_insecure, cfg_check_domains, cfg_check_prod_domain,
    cfg_check_project, cfg_check_template, cfg_check_http_url, cfg_check_image,
    cfg_check_pull_policy, cfg_check_path, cfg_check_listen, cfg_check_metrics_listen;

/* The checks that span several keys, after the walk (in this order:
 * repository vs auth, production domain, namespace, builder, TLS pair,
 * metrics port). */
void cfg_cross_checks(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c);

#endif
