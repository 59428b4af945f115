/* jsonpatch: building and applying JSON Patch ops (see jsonpatch.h). */
#include "jsonpatch.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"

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

/* Whether pointer byte c goes into the JSON string as it is: neither
 * escaped in the pointer ('~', '/') nor in JSON. */
static inline bool pointer_plain(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\' && c != '~' && c != '/';
}

/* The pointer of `tokens` as a JSON string, escaped for both in one pass
 * straight into `b` ("~0"/"~1" hold no character JSON escapes). */
static bool put_pointer(buf_t *b, const char *const *tokens)
{
    size_t total = 0, count = 0;
    for (; tokens[count]; count++)
        total += strlen(tokens[count]);
    /* at most 6 bytes a character ("\u00xx"), a '/' a token, the quotes */
    if (total > SIZE_MAX / 8 || !buf_reserve(b, 6 * total + count + 2))
        return false;
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < count; i++) {
        *o++ = '/';
        for (const unsigned char *t = (const unsigned char *)tokens[i]; *t; t++) {
            if (pointer_plain(*t)) {
                *o++ = (char)*t;
            } else if (*t == '~' || *t == '/') {
                *o++ = '~';
                *o++ = *t == '~' ? '0' : '1';
            } else {
                b->len = (size_t)(o - b->data);
                if (!json_put_chars(b, (const char *)t, 1))
                    return false;
                o = b->data + b->len;
            }
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return true;
}

bool jsonpatch_begin(jsonpatch_t *p, const char *op, const char *const *tokens, bool value)
{
    buf_t *b = &p->text;
    buf_append(b, p->n_ops ? ",{\"op\":" : "[{\"op\":", 7);
    p->n_ops++;
    json_put_str(b, op);
    buf_append(b, ",\"path\":", 8);
    put_pointer(b, tokens);
    if (value)
        buf_append(b, ",\"value\":", 9);
    return !b->oom;
}

bool jsonpatch_end(jsonpatch_t *p)
{
    return buf_putc(&p->text, '}');
}

bool jsonpatch_op(jsonpatch_t *p, const char *op, const char *const *tokens, const char *value,
                  size_t len)
{
    jsonpatch_begin(p, op, tokens, value != NULL);
    if (value)
        buf_append(&p->text, value, len);
    return jsonpatch_end(p);
}

bool jsonpatch_op_string(jsonpatch_t *p, const char *op, const char *const *tokens, const char *s)
{
    jsonpatch_begin(p, op, tokens, true);
    json_put_str(&p->text, s);
    return jsonpatch_end(p);
}

bool jsonpatch_put_const(jsonpatch_t *p, const base64_const_t *c)
{
    if (p->text.oom)
        return false;
    if (!p->base64)
        return buf_append(&p->text, base64_const_text(c), base64_const_len(c));
    if (!base64_put_const(&p->text, &p->encoded, &p->b64, c))
        p->text.oom = true;
    return !p->text.oom;
}

bool jsonpatch_begin_const(jsonpatch_t *p, const base64_const_t *c)
{
    buf_putc(&p->text, p->n_ops ? ',' : '[');
    p->n_ops++;
    return jsonpatch_put_const(p, c);
}

bool jsonpatch_begin_text(jsonpatch_t *p, const char *text, size_t len)
{
    if (!buf_reserve(&p->text, len + 1))
        return false;
    p->text.data[p->text.len++] = p->n_ops ? ',' : '[';
    p->n_ops++;
    return buf_append(&p->text, text, len);
}

char *jsonpatch_finish(jsonpatch_t *p, size_t *len, char **b64)
{
    if (b64)
        *b64 = NULL;
    if (!p->n_ops)
        buf_putc(&p->text, '[');
    buf_putc(&p->text, ']');
    if (p->base64 && !p->text.oom && !base64_put_rest(&p->text, &p->encoded, &p->b64))
        p->text.oom = true;
    if (p->text.oom) {
        jsonpatch_free(p);
        return NULL;
    }
    *len = p->text.len;
    char *text = buf_steal(&p->text);
    if (p->base64 && b64)
        *b64 = buf_steal(&p->b64);
    jsonpatch_free(p);
    return text;
}

void jsonpatch_free(jsonpatch_t *p)
{
    buf_free(&p->text);
    buf_free(&p->b64);
    p->n_ops = 0;
    p->encoded = 0;
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

typedef enum { OP_ADD, OP_REPLACE, OP_REMOVE } op_kind_t;

/* Walks `path` to the parent of its last token, left decoded in `tok`.
 * NULL with a reason in `why` when a parent is missing. */
static cJSON *find_parent(cJSON *doc, const char *kind, const char *path, buf_t *tok, char *why,
                          size_t whysz)
{
    cJSON *parent = doc;
    const char *p = path + 1;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!decode_token(p, n, tok))
            return NULL;
        if (!slash)
            return parent;
        cJSON *next = NULL;
        size_t idx;
        if (cJSON_IsArray(parent) && parse_index(tok->data, &idx))
            next = cJSON_GetArrayItem(parent, (int)idx);
        else if (cJSON_IsObject(parent))
            next = cJSON_GetObjectItemCaseSensitive(parent, tok->data);
        if (!next) {
            snprintf(why, whysz, "%s %s: missing parent \"%s\"", kind, path, tok->data);
            return NULL;
        }
        parent = next;
        p = slash + 1;
    }
}

/* Applies the op to the member `key` of `obj`; consumes `val`. */
static bool apply_object(cJSON *obj, const char *key, op_kind_t k, cJSON *val, const char *path,
                         char *why, size_t whysz)
{
    bool has = cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
    if (k == OP_REMOVE) {
        if (!has) {
            snprintf(why, whysz, "remove %s: no such member", path);
            return false;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
        return true;
    }
    bool ok = has ? cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val)
                  : cJSON_AddItemToObject(obj, key, val);
    if (!ok)
        cJSON_Delete(val);
    return ok;
}

/* Inserts `val` before the item at `idx` (< size of `arr`). Debian 12's
 * cJSON 1.7.15 refuses cJSON_InsertItemInArray at any index but 0, so the
 * items from `idx` on are detached, `val` appended, and they follow it. */
static bool insert_at(cJSON *arr, size_t idx, size_t len, cJSON *val)
{
    cJSON *tail = cJSON_CreateArray();
    if (!tail)
        return false;
    for (size_t i = idx; i < len; i++)
        cJSON_AddItemToArray(tail, cJSON_DetachItemFromArray(arr, (int)idx));
    cJSON_AddItemToArray(arr, val);
    cJSON *it;
    while ((it = tail->child) != NULL)
        cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(tail, it));
    cJSON_Delete(tail);
    return true;
}

/* Applies the op at index `tok` ("-" appends) of `arr`; consumes `val`. */
static bool apply_array(cJSON *arr, const char *tok, op_kind_t k, const char *kind, cJSON *val,
                        const char *path, char *why, size_t whysz)
{
    size_t len = (size_t)cJSON_GetArraySize(arr), idx = len;
    bool append = strcmp(tok, "-") == 0;
    if (!append && !parse_index(tok, &idx)) {
        snprintf(why, whysz, "%s %s: \"%s\" is not an array index", kind, path, tok);
        cJSON_Delete(val);
        return false;
    }
    if ((k == OP_ADD && idx > len) || (k != OP_ADD && (append || idx >= len))) {
        snprintf(why, whysz, "%s %s: index out of range", kind, path);
        cJSON_Delete(val);
        return false;
    }
    if (k == OP_REMOVE) {
        cJSON_DeleteItemFromArray(arr, (int)idx);
        return true;
    }
    bool ok;
    if (k == OP_REPLACE)
        ok = cJSON_ReplaceItemInArray(arr, (int)idx, val);
    else if (idx == len)
        ok = cJSON_AddItemToArray(arr, val);
    else
        ok = insert_at(arr, idx, len, val);
    if (!ok)
        cJSON_Delete(val);
    return ok;
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
    op_kind_t k;
    if (strcmp(kind, "add") == 0)
        k = OP_ADD;
    else if (strcmp(kind, "replace") == 0)
        k = OP_REPLACE;
    else if (strcmp(kind, "remove") == 0)
        k = OP_REMOVE;
    else {
        snprintf(why, whysz, "unsupported op \"%s\"", kind);
        return false;
    }
    if (path[0] != '/') {
        snprintf(why, whysz, "path \"%s\" does not start with '/'", path);
        return false;
    }
    buf_t tok = BUF_INIT;
    bool ok = false;
    cJSON *parent = find_parent(doc, kind, path, &tok, why, whysz);
    if (!parent)
        goto out;
    const cJSON *jval = cJSON_GetObjectItemCaseSensitive(op, "value");
    cJSON *val = NULL;
    if (k != OP_REMOVE) {
        val = jval ? materialize(jval) : cJSON_CreateNull();
        if (!val)
            goto out;
    }
    if (cJSON_IsObject(parent)) {
        ok = apply_object(parent, tok.data, k, val, path, why, whysz);
    } else if (cJSON_IsArray(parent)) {
        ok = apply_array(parent, tok.data, k, kind, val, path, why, whysz);
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
    if (whysz)
        why[0] = '\0';
    const cJSON *op;
    cJSON_ArrayForEach(op, ops)
    {
        if (!apply_one(doc, op, why, whysz)) {
            if (whysz && !why[0])
                snprintf(why, whysz, "out of memory");
            return false;
        }
    }
    return true;
}

bool jsonpatch_apply_text(cJSON *doc, const char *ops, char *why, size_t whysz)
{
    cJSON *tree = ops ? cJSON_Parse(ops) : NULL;
    if (!tree) {
        snprintf(why, whysz, "patch is not JSON text");
        return false;
    }
    bool ok = jsonpatch_apply(doc, tree, why, whysz);
    cJSON_Delete(tree);
    return ok;
}
