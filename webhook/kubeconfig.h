/* kubeconfig: reading a kubeconfig (the YAML file kubectl uses) for the
 * namespace check in development: the current context's cluster (server,
 * CA, insecure-skip-tls-verify) and user (token, token file, client
 * certificate and key). Pure: it parses bytes; the caller reads the file. */
#ifndef WH_KUBECONFIG_H
#define WH_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* What a kubeconfig's current context says about reaching the API. Data
 * fields are decoded (PEM bytes); file paths are made absolute against
 * the kubeconfig's directory. Absent fields are NULL/0. */
typedef struct {
    char *server; /* always set: an http:// or https:// URL */
    char *ca_file;
    unsigned char *ca_data;
    size_t ca_len;
    bool insecure_skip_verify;
    char *token;
    char *token_file;
    char *cert_file;
    unsigned char *cert_data;
    size_t cert_len;
    char *key_file;
    unsigned char *key_data;
    size_t key_len;
} kubeconfig_t;

/* Parses kubeconfig YAML text. `dir` (may be NULL) anchors relative
 * paths. False with a message in err (with line:col where there is one);
 * *out is then empty. Users that authenticate only through exec or
 * auth-provider plugins are refused (not supported). */
bool kubeconfig_parse(const char *buf, size_t len, const char *dir, kubeconfig_t *out, char *err,
                      size_t errsz);
/* Frees and wipes (the token and key are secrets). */
void kubeconfig_free(kubeconfig_t *k);

#endif
