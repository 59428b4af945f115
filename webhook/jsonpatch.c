/* jsonpatch: building and applying JSON Patch ops (see jsonpatch.h). */
#include "jsonpatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool jsonpatch_put_token(buf_t *path, const char *token)
{
    buf_putc(path, '/');
    for (const char *p = token; *p; p++) {
        if (*p == '~')
            buf_puts(path, "~0");
        else if (*p == '/')
            buf_puts(path, "~1");
        else
            buf_putc(path, *p);
    }
    return !path->oom;
}

bool jsonpatch_append(cJSON *ops, const char *op, cJSON *value, const char *const *tokens)
{
    buf_t path = BUF_INIT;
    for (size_t i = 0; tokens[i]; i++)
        jsonpatch_put_token(&path, tokens[i]);
    cJSON *o = cJSON_CreateObject();
    char *p = buf_steal(&path);
    bool ok =
        o && p && cJSON_AddStringToObject(o, "op", op) && cJSON_AddStringToObject(o, "path", p);
    free(p);
    if (ok && value) {
        ok = cJSON_AddItemToObject(o, "value", value);
        value = NULL;
    }
    if (ok)
        ok = cJSON_AddItemToArray(ops, o);
    if (!ok) {
        cJSON_Delete(o);
        cJSON_Delete(value);
    }
    return ok;
}

/* Decodes one pointer token from p[0..n) into out (NUL-terminated). */
static bool decode_token(const char *p, size_t n, buf_t *out)
{
    buf_reset(out);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
            buf_putc(out, p[i + 1] == '0' ? '~' : '/');
            i++;
        } else {
            buf_putc(out, p[i]);
        }
    }
    return buf_reserve(out, 0);
}

static bool parse_index(const char *s, size_t *out)
{
    if (!*s)
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno || s[0] == '-' || s[0] == '+')
        return false;
    *out = (size_t)v;
    return true;
}

/* A deep copy of `v` in which raw JSON text (as the decision splices it in)
 * has become ordinary nodes. */
static cJSON *materialize(const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    cJSON *copy = text ? cJSON_Parse(text) : NULL;
    cJSON_free(text);
    return copy;
}

static bool apply_one(cJSON *doc, const cJSON *op, char *why, size_t whysz)
{
    const cJSON *jop = cJSON_GetObjectItemCaseSensitive(op, "op");
    const cJSON *jpath = cJSON_GetObjectItemCaseSensitive(op, "path");
    if (!cJSON_IsString(jop) || !cJSON_IsString(jpath)) {
        snprintf(why, whysz, "op without \"op\" or \"path\"");
        return false;
    }
    const char *kind = jop->valuestring, *path = jpath->valuestring;
    bool is_add = strcmp(kind, "add") == 0, is_replace = strcmp(kind, "replace") == 0,
         is_remove = strcmp(kind, "remove") == 0;
    if (!is_add && !is_replace && !is_remove) {
        snprintf(why, whysz, "unsupported op \"%s\"", kind);
        return false;
    }
    if (path[0] != '/') {
        snprintf(why, whysz, "path \"%s\" does not start with '/'", path);
        return false;
    }
    buf_t tok = BUF_INIT;
    cJSON *parent = doc;
    const char *p = path + 1;
    bool ok = false;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!decode_token(p, n, &tok))
            goto out;
        if (!slash)
            break;
        cJSON *next = NULL;
        size_t idx;
        if (cJSON_IsArray(parent) && parse_index(tok.data, &idx))
            next = cJSON_GetArrayItem(parent, (int)idx);
        else if (cJSON_IsObject(parent))
            next = cJSON_GetObjectItemCaseSensitive(parent, tok.data);
        if (!next) {
            snprintf(why, whysz, "%s %s: missing parent \"%s\"", kind, path, tok.data);
            goto out;
        }
        parent = next;
        p = slash + 1;
    }
    const cJSON *jval = cJSON_GetObjectItemCaseSensitive(op, "value");
    cJSON *val = NULL;
    if (!is_remove) {
        val = jval ? materialize(jval) : cJSON_CreateNull();
        if (!val)
            goto out;
    }
    if (cJSON_IsObject(parent)) {
        bool has = cJSON_GetObjectItemCaseSensitive(parent, tok.data) != NULL;
        if (is_remove) {
            if (!has) {
                snprintf(why, whysz, "remove %s: no such member", path);
                goto out;
            }
            cJSON_DeleteItemFromObjectCaseSensitive(parent, tok.data);
        } else if (has) {
            ok = cJSON_ReplaceItemInObjectCaseSensitive(parent, tok.data, val);
            if (!ok)
                cJSON_Delete(val);
            goto out;
        } else if (!cJSON_AddItemToObject(parent, tok.data, val)) {
            cJSON_Delete(val);
            goto out;
        }
        ok = true;
    } else if (cJSON_IsArray(parent)) {
        size_t len = (size_t)cJSON_GetArraySize(parent), idx = len;
        bool append = strcmp(tok.data, "-") == 0;
        if (!append && !parse_index(tok.data, &idx)) {
            snprintf(why, whysz, "%s %s: \"%s\" is not an array index", kind, path, tok.data);
            cJSON_Delete(val);
            goto out;
        }
        if ((is_add && idx > len) || (!is_add && (append || idx >= len))) {
            snprintf(why, whysz, "%s %s: index out of range", kind, path);
            cJSON_Delete(val);
            goto out;
        }
        if (is_remove)
            cJSON_DeleteItemFromArray(parent, (int)idx);
        else if (is_replace)
            ok = cJSON_ReplaceItemInArray(parent, (int)idx, val);
        else if (idx == len)
            ok = cJSON_AddItemToArray(parent, val);
        else
            ok = cJSON_InsertItemInArray(parent, (int)idx, val);
        if (is_remove)
            ok = true;
        else if (!ok)
            cJSON_Delete(val);
    } else {
        snprintf(why, whysz, "%s %s: parent is not an object or array", kind, path);
        cJSON_Delete(val);
    }
out:
    buf_free(&tok);
    return ok;
}

bool jsonpatch_apply(cJSON *doc, const cJSON *ops, char *why, size_t whysz)
{
    if (!cJSON_IsArray(ops)) {
        snprintf(why, whysz, "patch is not a JSON array");
        return false;
    }
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        if (!apply_one(doc, op, why, whysz))
            return false;
    }
    return true;
}
