/* config: the webhook's configuration, a Helm-values-style YAML file,
 * loaded, defaulted and validated.
 *
 * Loading is pure (bytes in, struct or errors out); reading the file and
 * printing the errors are config_file.h's, in the shell. Every error carries the file, line and
 * column it refers to and says how to fix it. Unknown keys under `imageBuilder:` and `webhook:` are
 * errors; other top-level keys (the rest of a chart's values) are ignored. */
#ifndef WH_CONFIG_H
#define WH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "loglevel.h"
#include "registry.h"
#include "strlist.h"

typedef enum { LAYOUT_AUTO = 0, LAYOUT_PATH, LAYOUT_TAG } repo_layout_t;

/* imageBuilder.podSelection: which pods the webhook acts on. */
typedef enum {
    POD_SELECT_LABEL = 0, /* only pods labelled imagebuilder.union.ai/builder=union */
    POD_SELECT_LOGICAL    /* those, and unlabelled pods with a logical-registry image */
} pod_select_t;

/* imageBuilder.productionDomainCheck: does the production namespace exist. */
typedef struct {
    bool enabled;                /* false */
    char *api_server;            /* "" = in-cluster (KUBERNETES_SERVICE_HOST/PORT) */
    char *kubeconfig;            /* "" */
    char *token_file;            /* /var/run/secrets/kubernetes.io/serviceaccount/token */
    char *ca_file;               /* /var/run/secrets/kubernetes.io/serviceaccount/ca.crt */
    unsigned ttl_seconds;        /* 60 */
    unsigned absent_ttl_seconds; /* 2: an absent or terminating namespace is asked again sooner */
    unsigned timeout_ms;         /* 1000 */
} nscheck_config_t;

/* The longest registryCheck.positiveTtlSeconds accepted. */
#define WH_POSITIVE_TTL_MAX 3600u

/* imageBuilder.registryCheck: does a target image already exist. */
typedef struct {
    bool enabled;                     /* false */
    unsigned timeout_ms;              /* 1500 */
    unsigned positive_ttl_seconds;    /* 600; at most 3600 */
    unsigned negative_ttl_seconds;    /* 10 */
    unsigned failure_backoff_seconds; /* 10: a host that failed is not asked again meanwhile */
    unsigned cache_size;              /* 4096 */
    char *docker_config;              /* "" : path to a Docker config.json */
    char *ca_file;                    /* "" : extra CA bundle for private registries */
    strlist_t insecure_registries;    /* hosts reached over plain HTTP */
} regcheck_config_t;

/* imageBuilder.buildImage: the injected build container. */
typedef struct {
    char *image;       /* the build-image container image */
    char *pull_policy; /* "IfNotPresent" */
    cJSON *resources;  /* {"requests":{...},"limits":{...}} (owned) */
    /* a Kubernetes SecurityContext (owned); by default the one Pod Security
     * "restricted" asks of a container: runAsNonRoot, no privilege
     * escalation, every capability dropped, the RuntimeDefault seccomp profile */
    cJSON *security_context;
} build_image_config_t;

/* imageBuilder.limits: what one pod may ask of a request (beyond them the
 * pod is denied, with a message that names the limit and the value). */
typedef struct {
    unsigned max_builds;     /* maxBuildsPerPod: 8 distinct images built from ImageSpecs */
    unsigned max_containers; /* maxContainersPerPod: 128 containers and init containers */
    size_t max_patch_bytes;  /* maxPatchBytes: 1 MiB of JSON Patch */
} limits_config_t;

/* imageBuilder: the policy, everything the decision reads. */
typedef struct {
    bool enabled;                 /* true */
    char *target_configmap;       /* "build-image-config" */
    char *buildkit_uri;           /* "" */
    char *default_repository;     /* "" (normalised: no trailing '/') */
    auth_type_t auth;             /* noop */
    bool buildkit_enabled;        /* true */
    repo_layout_t layout;         /* auto */
    pod_select_t pod_select;      /* label (podSelection) */
    strlist_t logical_registries; /* [cr.union.ai] */
    strlist_t domains;            /* [development, staging, production] */
    char *production_domain;      /* "production" */
    char *build_project;          /* "system" */
    char *namespace_template;     /* "{{ project }}-{{ domain }}" */
    char *production_namespace;   /* derived: the template with project and domain */
    strlist_t
        basic_auth_registries; /* hosts with basic credentials; default: defaultRepository's host */
    nscheck_config_t production_domain_check;
    regcheck_config_t registry_check;
    build_image_config_t build_image;
    limits_config_t limits;
} policy_config_t;

/* webhook: how the server runs. */
typedef struct {
    char *listen;                 /* ":8443" */
    char *path;                   /* "/mutate" (no trailing '/') */
    char *tls_cert_file;          /* "" */
    char *tls_key_file;           /* "" */
    char *tls_client_ca_file;     /* "" */
    unsigned threads;             /* 0 = number of cores */
    size_t max_request_bytes;     /* 3 MiB */
    char *metrics_listen;         /* "" = none */
    log_level_t log_level;        /* info */
    unsigned request_timeout_ms;  /* 10000: idle/slow client bound */
    unsigned shutdown_timeout_ms; /* 20000 */
    unsigned shutdown_delay_ms;   /* 5000: serving, not ready, after SIGTERM */
    unsigned max_connections;     /* 1024 on the admission port */
    size_t max_buffered_bytes;    /* 64 MiB: bodies being read + answers not yet sent */
    unsigned write_timeout_ms;    /* 10000: to send one answer */
    bool http2_enabled;           /* false: ALPN offers http/1.1 only */
    unsigned http2_max_streams;   /* 100 per connection */
    unsigned http2_max_resets;    /* 100 RST_STREAM per connection per second */
} server_config_t;

typedef struct {
    policy_config_t policy; /* imageBuilder: */
    server_config_t server; /* webhook: */
    char *source;           /* file name the config came from */
} wh_config_t;

typedef struct {
    char *file;
    size_t line, col; /* 0 when the error is not tied to a position */
    char *msg;
} config_error_t;

typedef struct {
    config_error_t *items;
    size_t n;
} config_errors_t;

/* Loads from bytes; `name` is used in error messages. Returns NULL when
 * there is at least one error (all errors found are in `errs`). */
wh_config_t *config_load_buffer(const char *name, const char *buf, size_t len,
                                config_errors_t *errs);
/* The built-in defaults (every key unset), for `review` without a file. A
 * file must say more: an empty one is refused. */
wh_config_t *config_defaults(void);
void config_free(wh_config_t *c);

/* Adds an error (file, line and col as given; msg copied); false when out
 * of memory. */
bool config_errors_add(config_errors_t *errs, const char *file, size_t line, size_t col,
                       const char *msg);
/* Appends "FILE:LINE:COL: error: MSG\n" (or "FILE: error: MSG\n" when the
 * error has no position), the message on one line; false when out of memory. */
bool config_error_format(const config_error_t *e, buf_t *out);
/* The same for every error, in order. */
bool config_errors_format(const config_errors_t *errs, buf_t *out);
void config_errors_free(config_errors_t *errs);

const char *repo_layout_name(repo_layout_t l);
/* The enumerations by name ("auto", "path", "tag"; "label",
 * "logicalRegistry"); false when `s` is none of them. */
bool repo_layout_parse(const char *s, repo_layout_t *out);
const char *pod_select_name(pod_select_t p);
bool pod_select_parse(const char *s, pod_select_t *out);

#endif
