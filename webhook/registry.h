/* registry: which cloud registry a host belongs to, and which
 * `authenticationType` can authenticate to it.
 *
 * Amazon ECR follows the kubelet ecr-credential-provider host pattern (all
 * partitions, FIPS and dual-stack); Google covers gcr.io, *.gcr.io and
 * *-docker.pkg.dev; Azure covers *.azurecr.{io,cn,de,us}. Every match is
 * anchored on the whole host name (without the port): look-alikes such as
 * "1.dkr.ecr.evil.com" or "x.azurecr.io.attacker.com" are "other". */
#ifndef WH_REGISTRY_H
#define WH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    REGISTRY_OTHER = 0,
    REGISTRY_ECR, /* <account>.dkr.ecr.<region>.<partition suffix> and variants */
    REGISTRY_GCR, /* gcr.io, *.gcr.io */
    REGISTRY_GAR, /* <location>-docker.pkg.dev */
    REGISTRY_ACR, /* <name>.azurecr.{io,cn,de,us} */
} registry_kind_t;

typedef struct {
    registry_kind_t kind;
    char account[13];  /* ECR: the 12-digit account id */
    char region[64];   /* ECR: region; GAR: location (e.g. "us-central1") */
    char project[64];  /* GCR/GAR: first path component (the GCP project), if any */
    char acr_name[64]; /* ACR: registry name (first host label) */
    bool fips;         /* ECR: -fips endpoint */
} registry_info_t;

typedef enum {
    AUTH_NOOP = 0,
    AUTH_GOOGLE,
    AUTH_AWS,
    AUTH_AZURE,
    AUTH_BASIC,
} auth_type_t;

/* Classifies `host` (a domain as written in a reference, ":port" allowed
 * and ignored) with the repository `path` that follows it (may be empty),
 * which provides the GCP project. Case-insensitive on the host. */
void registry_classify(const char *host, size_t host_n, const char *path, size_t path_n,
                       registry_info_t *out);

/* "noop", "google", "aws", "azure", "basic": exact, lowercase. */
bool auth_type_parse(const char *s, auth_type_t *out);
const char *auth_type_name(auth_type_t t);
const char *registry_kind_name(registry_kind_t k); /* "Amazon ECR", "Artifact Registry", ... */

/* Whether `t` can authenticate to a registry of this kind. `noop` reaches
 * every host (taken literally); `basic` reaches a host when
 * `has_basic_credentials` (the caller knows which hosts have credentials). */
bool registry_auth_reaches(auth_type_t t, const registry_info_t *info, bool has_basic_credentials);

/* What registries `t` authenticates to, for messages: e.g. for AUTH_AWS
 * "Amazon ECR (<account>.dkr.ecr.<region>.amazonaws.com)". */
const char *auth_type_reach(auth_type_t t);

#endif
