/* certplan: what `certgen` decides, without I/O: the names a Service's
 * certificate must carry, reading the kubernetes.io/tls Secret (tls.crt,
 * tls.key, ca.crt), judging whether its certificate can stay (it parses,
 * its key matches, the CA signed it, it names the Service, it does not
 * expire too soon: the current time is an argument), the Secret to create
 * or update, and the JSON Patch that writes the CA into the caBundle of
 * every webhook of a MutatingWebhookConfiguration that does not hold it. */
#ifndef WH_CERTPLAN_H
#define WH_CERTPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define CERTPLAN_NAMES    4   /* svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local */
#define CERTPLAN_NAME_MAX 254 /* a DNS name and its NUL */

/* PEM texts (NUL-terminated, owned). */
typedef struct {
    char *cert; /* tls.crt: the serving certificate */
    char *key;  /* tls.key: its private key */
    char *ca;   /* ca.crt: the CA that signed it */
} certplan_pems_t;

void certplan_pems_free(certplan_pems_t *p);

/* The names, in that order; false when the Service or namespace is not a
 * DNS label. */
bool certplan_names(const char *svc, const char *ns, char names[CERTPLAN_NAMES][CERTPLAN_NAME_MAX]);

/* The three PEMs of a Secret object (its base64 `data`). False with the
 * reason when one is missing or is not base64. */
bool certplan_read_secret(const cJSON *secret, certplan_pems_t *out, char *why, size_t whysz);

/* True when the certificate can stay: it and the key parse and match, the
 * CA certificate signed it, it is valid for every name, and it is still
 * valid at now + min_left (Unix seconds). Otherwise false with why it must
 * be replaced. *not_after: the certificate's notAfter (0 when it does not
 * parse). */
bool certplan_usable(const certplan_pems_t *p, const char *const *names, size_t n, int64_t now,
                     int64_t min_left, int64_t *not_after, char *why, size_t whysz);

/* A new Secret of type kubernetes.io/tls named `name` in `ns` holding p. */
cJSON *certplan_new_secret(const char *ns, const char *name, const certplan_pems_t *p);

/* Puts p into a Secret read from the API (its metadata, resourceVersion
 * included, kept for the update). False when out of memory. */
bool certplan_update_secret(cJSON *secret, const certplan_pems_t *p);

/* The JSON Patch for a MutatingWebhookConfiguration: for every webhook
 * whose clientConfig.caBundle is not ca_pem, a `test` of its name at its
 * index and the caBundle set. True with *patch NULL when every webhook
 * holds it already, else with the patch (caller deletes) and the number of
 * webhooks it changes in *changed; false with the reason when the object
 * has no webhooks or memory runs out. */
bool certplan_cabundle_patch(const cJSON *mwc, const char *ca_pem, cJSON **patch, size_t *changed,
                             char *why, size_t whysz);

#endif
