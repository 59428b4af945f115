/* kubeconfig: the current context of a kubeconfig (see kubeconfig.h). */
#include "kubeconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "errmsg.h"
#include "secret.h"
#include "yamldoc.h"

void kubeconfig_free(kubeconfig_t *k)
{
    if (!k)
        return;
    free(k->server);
    free(k->ca_file);
    free(k->ca_data);
    secret_free(k->token);
    free(k->token_file);
    free(k->cert_file);
    free(k->cert_data);
    free(k->key_file);
    if (k->key_data)
        memset(k->key_data, 0, k->key_len);
    free(k->key_data);
    memset(k, 0, sizeof *k);
}

static const char *scalar(const ynode_t *map, const char *key)
{
    const ynode_t *v = ydoc_get(map, key);
    return v && v->kind == YNODE_SCALAR && v->str[0] ? v->str : NULL;
}

/* The `<what>` entry of `list` (a sequence of {name, <what>: {...}}) named
 * `name` (the last one when several are). */
static const ynode_t *named(const ynode_t *root, const char *list, const char *what,
                            const char *name)
{
    const ynode_t *seq = ydoc_get(root, list);
    if (!seq || seq->kind != YNODE_SEQ)
        return NULL;
    const ynode_t *found = NULL;
    for (size_t i = 0; i < seq->n; i++) {
        const ynode_t *it = seq->items[i];
        const char *nm = it && it->kind == YNODE_MAP ? scalar(it, "name") : NULL;
        if (nm && strcmp(nm, name) == 0) {
            const ynode_t *v = ydoc_get(it, what);
            found = v && v->kind == YNODE_MAP ? v : NULL;
        }
    }
    return found;
}

static char *abs_path(const char *dir, const char *p)
{
    if (p[0] == '/' || !dir || !dir[0])
        return strdup(p);
    size_t l = strlen(dir) + strlen(p) + 2;
    char *r = malloc(l);
    if (r)
        snprintf(r, l, "%s/%s", dir, p);
    return r;
}

typedef enum { READ_OK, READ_BAD, READ_OOM } read_t;

/* `<key>-data` (base64, decoded) or else `<key>` (a path, made absolute). */
static read_t data_or_file(const ynode_t *map, const char *key, const char *dir,
                           unsigned char **data, size_t *len, char **file, char *err, size_t errsz)
{
    char dkey[64];
    snprintf(dkey, sizeof dkey, "%s-data", key);
    const char *v = scalar(map, dkey);
    if (v) {
        if ((*data = base64_decode(v, strlen(v), BASE64_SKIP_SPACE, len)))
            return READ_OK;
        errmsg_set(err, errsz, "kubeconfig: %s is not base64", dkey);
        return READ_BAD;
    }
    if ((v = scalar(map, key)) && !(*file = abs_path(dir, v)))
        return READ_OOM;
    return READ_OK;
}

static read_t read_cluster(const ynode_t *cl, const char *cl_name, const char *dir,
                           kubeconfig_t *out, char *err, size_t errsz)
{
    const char *v = cl ? scalar(cl, "server") : NULL;
    if (!v) {
        errmsg_set(err, errsz, "kubeconfig: cluster '%s' not found or has no server",
                   cl_name ? cl_name : "");
        return READ_BAD;
    }
    if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) {
        errmsg_set(err, errsz, "kubeconfig: server '%.100s' is not an http(s) URL", v);
        return READ_BAD;
    }
    if (!(out->server = strdup(v)))
        return READ_OOM;
    read_t r = data_or_file(cl, "certificate-authority", dir, &out->ca_data, &out->ca_len,
                            &out->ca_file, err, errsz);
    const ynode_t *isv = ydoc_get(cl, "insecure-skip-tls-verify");
    bool bv = false;
    if (isv && ydoc_scalar_kind(isv, &bv, NULL, NULL) == YSCALAR_BOOL)
        out->insecure_skip_verify = bv;
    return r;
}

static read_t read_user(const ynode_t *us, const char *us_name, const char *dir, kubeconfig_t *out,
                        char *err, size_t errsz)
{
    const char *v;
    if ((v = scalar(us, "token")) && !(out->token = strdup(v)))
        return READ_OOM;
    if ((v = scalar(us, "tokenFile")) && !(out->token_file = abs_path(dir, v)))
        return READ_OOM;
    read_t r = data_or_file(us, "client-certificate", dir, &out->cert_data, &out->cert_len,
                            &out->cert_file, err, errsz);
    if (r == READ_OK)
        r = data_or_file(us, "client-key", dir, &out->key_data, &out->key_len, &out->key_file, err,
                         errsz);
    if (r != READ_OK)
        return r;
    if ((ydoc_get(us, "exec") || ydoc_get(us, "auth-provider")) && !out->token &&
        !out->token_file && !out->cert_data && !out->cert_file) {
        errmsg_set(err, errsz,
                   "kubeconfig: user '%s' authenticates with exec/auth-provider, which is "
                   "not supported; use a token or a client certificate",
                   us_name);
        return READ_BAD;
    }
    return READ_OK;
}

/* The current context's cluster and user, read into out. */
static read_t read_context(const ynode_t *root, const char *dir, kubeconfig_t *out, char *err,
                           size_t errsz)
{
    const char *ctx_name = root->kind == YNODE_MAP ? scalar(root, "current-context") : NULL;
    const ynode_t *ctx = ctx_name ? named(root, "contexts", "context", ctx_name) : NULL;
    if (!ctx_name) {
        errmsg_set(err, errsz, "kubeconfig has no current-context");
        return READ_BAD;
    }
    if (!ctx) {
        errmsg_set(err, errsz, "kubeconfig: context '%s' not found", ctx_name);
        return READ_BAD;
    }
    const char *cl_name = scalar(ctx, "cluster");
    const char *us_name = scalar(ctx, "user");
    const ynode_t *cl = cl_name ? named(root, "clusters", "cluster", cl_name) : NULL;
    const ynode_t *us = us_name ? named(root, "users", "user", us_name) : NULL;
    read_t r = read_cluster(cl, cl_name, dir, out, err, errsz);
    if (r != READ_OK)
        return r;
    if (us_name && !us) {
        errmsg_set(err, errsz, "kubeconfig: user '%s' not found", us_name);
        return READ_BAD;
    }
    return us ? read_user(us, us_name, dir, out, err, errsz) : READ_OK;
}

bool kubeconfig_parse(const char *buf, size_t len, const char *dir, kubeconfig_t *out, char *err,
                      size_t errsz)
{
    memset(out, 0, sizeof *out);
    ydoc_error_t ye;
    ydoc_limits_t lim = {32, 100000};
    ynode_t *root = ydoc_parse(buf, len, &lim, &ye);
    if (!root) {
        errmsg_set(err, errsz, "kubeconfig %zu:%zu: %s", ye.line, ye.col, ye.msg);
        return false;
    }
    read_t r = read_context(root, dir, out, err, errsz);
    if (r == READ_OOM)
        errmsg_set(err, errsz, "kubeconfig: out of memory");
    ydoc_free(root);
    if (r != READ_OK)
        kubeconfig_free(out);
    return r == READ_OK;
}
