/* yamldoc: builds position-carrying YAML trees from libyaml's event stream,
 * resolves plain scalars to JSON types, and converts trees to cJSON.
 *
 * Scalar typing (ydoc_scalar_kind, ydoc_to_json) follows the YAML 1.2 core
 * schema, close to what Kubernetes' YAML reader produces, with these
 * deliberate choices:
 *   - null: "", "~", "null", "Null", "NULL" (plain only);
 *   - booleans: true/True/TRUE and false/False/FALSE only; "yes", "no",
 *     "on", "off", "y", "n" stay strings (YAML 1.2 behaviour);
 *   - integers: decimal with an optional sign, "0x" hex and "0o" octal.
 *     A decimal with a leading zero ("0755", octal in YAML 1.1, decimal in
 *     1.2) is ambiguous and stays a string, as does any integer of more
 *     than 15 digits (JSON numbers are doubles and cJSON prints 15
 *     significant digits: no silent rounding);
 *   - floats: [-+]?(.d+|d+(.d*)?)([eE][-+]?d+)?; ".inf" and ".nan" have no
 *     JSON form and stay strings, as does a float that overflows;
 *   - tags: "!!str" and the non-specific "!" make a scalar a string; other
 *     tags are ignored.
 * Anchors are accepted and ignored; aliases stay YNODE_ALIAS leaves. */
#include "yamldoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "errmsg.h"

#define YDOC_DEFAULT_DEPTH 64
#define YDOC_DEFAULT_NODES 1000000
#define YDOC_DEPTH_CAP     10000             /* recursion bound for free/convert */
#define YDOC_INT_MAX       999999999999999LL /* 15 digits: cJSON prints them exactly */

static void set_err(ydoc_error_t *err, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_err(ydoc_error_t *err, size_t line, size_t col, const char *fmt, ...)
{
    if (!err)
        return;
    err->line = line;
    err->col = col;
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

void ydoc_free(ynode_t *n)
{
    if (!n)
        return;
    if (n->items) {
        size_t count = n->kind == YNODE_MAP ? 2 * n->n : n->n;
        for (size_t i = 0; i < count; i++)
            ydoc_free(n->items[i]);
        free(n->items);
    }
    free(n->str);
    free(n);
}

typedef struct {
    ynode_t *node;
    size_t count; /* raw children appended so far */
    size_t cap;
} frame_t;

typedef struct {
    frame_t *frames;
    size_t depth, frames_cap;
    size_t max_depth, max_nodes, nodes;
    ynode_t *root;
    ydoc_error_t *err;
} builder_t;

static ynode_t *new_node(builder_t *b, ynode_kind_t kind, const yaml_mark_t *m)
{
    if (b->nodes >= b->max_nodes) {
        set_err(b->err, m->line + 1, m->column + 1,
                "the document has more than %zu nodes; split it or raise the limit", b->max_nodes);
        return NULL;
    }
    ynode_t *n = calloc(1, sizeof *n);
    if (!n) {
        set_err(b->err, m->line + 1, m->column + 1, "out of memory");
        return NULL;
    }
    b->nodes++;
    n->kind = kind;
    n->line = m->line + 1;
    n->col = m->column + 1;
    return n;
}

/* Attaches `n` to the open container (or as the root). Takes ownership. */
static bool attach(builder_t *b, ynode_t *n)
{
    if (b->depth == 0) {
        if (b->root) { /* cannot happen with one document; be safe */
            ydoc_free(n);
            set_err(b->err, 0, 0, "internal error: second root node");
            return false;
        }
        b->root = n;
        return true;
    }
    frame_t *f = &b->frames[b->depth - 1];
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        ynode_t **items = realloc(f->node->items, cap * sizeof *items);
        if (!items) {
            ydoc_free(n);
            set_err(b->err, 0, 0, "out of memory");
            return false;
        }
        f->node->items = items;
        f->cap = cap;
    }
    f->node->items[f->count++] = n;
    /* Keep `n` consistent so that a partial tree can be freed. */
    f->node->n = f->node->kind == YNODE_MAP ? f->count / 2 : f->count;
    return true;
}

static bool push(builder_t *b, ynode_t *n, const yaml_mark_t *m)
{
    if (b->depth >= b->max_depth) {
        ydoc_free(n);
        set_err(b->err, m->line + 1, m->column + 1,
                "the document nests deeper than %zu levels; flatten it", b->max_depth);
        return false;
    }
    if (!attach(b, n))
        return false;
    if (b->depth == b->frames_cap) {
        size_t cap = b->frames_cap ? b->frames_cap * 2 : 16;
        frame_t *fr = realloc(b->frames, cap * sizeof *fr);
        if (!fr) {
            set_err(b->err, 0, 0, "out of memory");
            return false;
        }
        b->frames = fr;
        b->frames_cap = cap;
    }
    b->frames[b->depth++] = (frame_t){n, 0, 0};
    return true;
}

/* A map left with a key but no value (only on error paths) drops the key. */
static void close_partial(builder_t *b)
{
    while (b->depth > 0) {
        frame_t *f = &b->frames[--b->depth];
        if (f->node->kind == YNODE_MAP && f->count % 2 == 1) {
            ydoc_free(f->node->items[f->count - 1]);
            f->node->items[f->count - 1] = NULL;
            f->count--;
            f->node->n = f->count / 2;
        }
    }
}

static void parser_error(const yaml_parser_t *p, ydoc_error_t *err)
{
    const char *problem = p->problem ? p->problem : "invalid YAML";
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        set_err(err, 0, 0, "out of memory while reading YAML");
        break;
    case YAML_READER_ERROR:
        set_err(err, 0, 0, "%s (at byte offset %zu)", problem, p->problem_offset);
        break;
    default:
        if (p->context)
            set_err(err, p->problem_mark.line + 1, p->problem_mark.column + 1,
                    "%s %s (started at line %zu, column %zu)", p->context, problem,
                    (size_t)p->context_mark.line + 1, (size_t)p->context_mark.column + 1);
        else
            set_err(err, p->problem_mark.line + 1, p->problem_mark.column + 1, "%s", problem);
        break;
    }
}

static bool scalar_is_string_tag(const yaml_char_t *tag)
{
    if (!tag)
        return false;
    const char *t = (const char *)tag;
    return strcmp(t, "!") == 0 || strcmp(t, "tag:yaml.org,2002:str") == 0;
}

/* One event; returns 1 to continue, 0 at the end of the stream, -1 on error. */
static int handle_event(builder_t *b, const yaml_event_t *ev, size_t *docs)
{
    const yaml_mark_t *m = &ev->start_mark;
    ynode_t *n;
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_NO_EVENT:
        return 1;
    case YAML_STREAM_END_EVENT:
        return 0;
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1) {
            set_err(b->err, m->line + 1, m->column + 1,
                    "a second YAML document starts here; only one document is allowed");
            return -1;
        }
        return 1;
    case YAML_SCALAR_EVENT:
        if (!(n = new_node(b, YNODE_SCALAR, m)))
            return -1;
        n->len = ev->data.scalar.length;
        n->str = malloc(n->len + 1);
        if (!n->str) {
            ydoc_free(n);
            set_err(b->err, 0, 0, "out of memory");
            return -1;
        }
        if (n->len)
            memcpy(n->str, ev->data.scalar.value, n->len);
        n->str[n->len] = '\0';
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                   !scalar_is_string_tag(ev->data.scalar.tag);
        return attach(b, n) ? 1 : -1;
    case YAML_ALIAS_EVENT: {
        if (!(n = new_node(b, YNODE_ALIAS, m)))
            return -1;
        const char *a = (const char *)ev->data.alias.anchor;
        n->len = a ? strlen(a) : 0;
        n->str = strdup(a ? a : "");
        if (!n->str) {
            ydoc_free(n);
            set_err(b->err, 0, 0, "out of memory");
            return -1;
        }
        return attach(b, n) ? 1 : -1;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        n = new_node(b, ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP, m);
        if (!n)
            return -1;
        return push(b, n, m) ? 1 : -1;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0)
            b->depth--;
        return 1;
    }
    return 1;
}

ynode_t *ydoc_parse(const char *buf, size_t len, const ydoc_limits_t *limits, ydoc_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    builder_t b = {0};
    b.err = err;
    b.max_depth = limits && limits->max_depth ? limits->max_depth : YDOC_DEFAULT_DEPTH;
    if (b.max_depth > YDOC_DEPTH_CAP)
        b.max_depth = YDOC_DEPTH_CAP;
    b.max_nodes = limits && limits->max_nodes ? limits->max_nodes : YDOC_DEFAULT_NODES;

    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        set_err(err, 0, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)(buf ? buf : ""), buf ? len : 0);

    size_t docs = 0;
    int rc = 1;
    while (rc > 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            parser_error(&p, err);
            rc = -1;
            break;
        }
        rc = handle_event(&b, &ev, &docs);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);

    if (rc < 0) {
        close_partial(&b);
        ydoc_free(b.root);
        free(b.frames);
        return NULL;
    }
    free(b.frames);

    /* No document, or a document with nothing in it: an empty map. */
    if (!b.root || (b.root->kind == YNODE_SCALAR && b.root->plain && b.root->len == 0)) {
        size_t line = b.root ? b.root->line : 1, col = b.root ? b.root->col : 1;
        ydoc_free(b.root);
        b.root = calloc(1, sizeof *b.root);
        if (!b.root) {
            set_err(err, 0, 0, "out of memory");
            return NULL;
        }
        b.root->kind = YNODE_MAP;
        b.root->line = line;
        b.root->col = col;
    }
    return b.root;
}

const ynode_t *ydoc_get(const ynode_t *map, const char *key)
{
    if (!map || map->kind != YNODE_MAP || !key)
        return NULL;
    size_t klen = strlen(key);
    const ynode_t *found = NULL;
    for (size_t i = 0; i < map->n; i++) {
        const ynode_t *k = map->items[2 * i];
        if (k && k->kind == YNODE_SCALAR && k->len == klen && memcmp(k->str, key, klen) == 0)
            found = map->items[2 * i + 1];
    }
    return found;
}

static bool all_in(const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || s[i] == '\0')
            return false;
    return true;
}

static bool is_float_syntax(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t int_digits = 0, frac_digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, int_digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, frac_digits++;
    }
    if (int_digits == 0 && frac_digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    return i == n;
}

static bool parse_int(const char *s, size_t n, long long *out)
{
    const char *digits = s;
    size_t nd = n;
    int base = 10;
    bool neg = false;
    if (n > 2 && s[0] == '0' && s[1] == 'x') {
        base = 16, digits = s + 2, nd = n - 2;
        if (!all_in(digits, nd, "0123456789abcdefABCDEF"))
            return false;
    } else if (n > 2 && s[0] == '0' && s[1] == 'o') {
        base = 8, digits = s + 2, nd = n - 2;
        if (!all_in(digits, nd, "01234567"))
            return false;
    } else {
        if (nd > 0 && (digits[0] == '+' || digits[0] == '-')) {
            neg = digits[0] == '-';
            digits++, nd--;
        }
        if (!all_in(digits, nd, "0123456789"))
            return false;
        if (nd > 1 && digits[0] == '0') /* leading zero: octal or decimal? ambiguous */
            return false;
    }
    if (nd > 20)
        return false;
    char tmp[24];
    memcpy(tmp, digits, nd);
    tmp[nd] = '\0';
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(tmp, &end, base);
    if (errno || !end || *end != '\0' || v > (unsigned long long)YDOC_INT_MAX)
        return false;
    *out = neg ? -(long long)v : (long long)v;
    return true;
}

yscalar_kind_t ydoc_scalar_kind(const ynode_t *n, bool *b, long long *i, double *d)
{
    if (!n || n->kind != YNODE_SCALAR || !n->plain)
        return YSCALAR_STR;
    const char *s = n->str;
    size_t len = n->len;
    if (memchr(s, '\0', len))
        return YSCALAR_STR;
    if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0)
        return YSCALAR_NULL;
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        if (b)
            *b = true;
        return YSCALAR_BOOL;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        if (b)
            *b = false;
        return YSCALAR_BOOL;
    }
    long long iv;
    if (parse_int(s, len, &iv)) {
        if (i)
            *i = iv;
        if (d)
            *d = (double)iv;
        return YSCALAR_INT;
    }
    /* A digit string that parse_int refused (leading zero, too large) is
     * not a float either. */
    if (all_in(s[0] == '-' || s[0] == '+' ? s + 1 : s, s[0] == '-' || s[0] == '+' ? len - 1 : len,
               "0123456789"))
        return YSCALAR_STR;
    if (is_float_syntax(s, len)) {
        errno = 0;
        char *end = NULL;
        double v = strtod(s, &end);
        if (errno == ERANGE || !end || *end != '\0' || !isfinite(v))
            return YSCALAR_STR;
        if (d)
            *d = v;
        return YSCALAR_FLOAT;
    }
    return YSCALAR_STR;
}

static cJSON *to_json(const ynode_t *n, ydoc_error_t *err);

static cJSON *scalar_to_json(const ynode_t *n, ydoc_error_t *err)
{
    bool bv = false;
    double dv = 0;
    cJSON *j;
    switch (ydoc_scalar_kind(n, &bv, NULL, &dv)) {
    case YSCALAR_NULL:
        j = cJSON_CreateNull();
        break;
    case YSCALAR_BOOL:
        j = cJSON_CreateBool(bv);
        break;
    case YSCALAR_INT:
    case YSCALAR_FLOAT:
        j = cJSON_CreateNumber(dv);
        break;
    default:
        j = cJSON_CreateString(n->str);
        break;
    }
    if (!j)
        set_err(err, n->line, n->col, "out of memory");
    return j;
}

static cJSON *seq_to_json(const ynode_t *n, ydoc_error_t *err)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr) {
        set_err(err, n->line, n->col, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n->n; i++) {
        cJSON *c = to_json(n->items[i], err);
        if (!c || !cJSON_AddItemToArray(arr, c)) {
            if (c) {
                cJSON_Delete(c);
                set_err(err, n->line, n->col, "out of memory");
            }
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static cJSON *map_to_json(const ynode_t *n, ydoc_error_t *err)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj) {
        set_err(err, n->line, n->col, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n->n; i++) {
        const ynode_t *k = n->items[2 * i], *v = n->items[2 * i + 1];
        if (k->kind == YNODE_ALIAS) {
            set_err(err, k->line, k->col,
                    "alias *%.64s used as a map key is not supported; write the key out", k->str);
            cJSON_Delete(obj);
            return NULL;
        }
        if (k->kind != YNODE_SCALAR) {
            set_err(err, k->line, k->col, "map keys must be scalars (strings)");
            cJSON_Delete(obj);
            return NULL;
        }
        cJSON *c = to_json(v, err);
        if (!c) {
            cJSON_Delete(obj);
            return NULL;
        }
        bool ok;
        if (cJSON_GetObjectItemCaseSensitive(obj, k->str)) /* last one wins */
            ok = cJSON_ReplaceItemInObjectCaseSensitive(obj, k->str, c);
        else
            ok = cJSON_AddItemToObject(obj, k->str, c);
        if (!ok) {
            cJSON_Delete(c);
            cJSON_Delete(obj);
            set_err(err, k->line, k->col, "out of memory");
            return NULL;
        }
    }
    return obj;
}

static cJSON *to_json(const ynode_t *n, ydoc_error_t *err)
{
    switch (n->kind) {
    case YNODE_ALIAS:
        set_err(err, n->line, n->col, "alias *%.64s is not supported here; write the value out",
                n->str);
        return NULL;
    case YNODE_SCALAR:
        return scalar_to_json(n, err);
    case YNODE_SEQ:
        return seq_to_json(n, err);
    case YNODE_MAP:
        return map_to_json(n, err);
    }
    return NULL;
}

cJSON *ydoc_to_json(const ynode_t *n, ydoc_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (!n) {
        set_err(err, 0, 0, "no document");
        return NULL;
    }
    return to_json(n, err);
}

cJSON *ydoc_read_json_or_yaml(const char *text, size_t len, char *why, size_t whysz)
{
    size_t i = 0;
    while (i < len && text[i] && strchr(" \t\r\n", text[i]))
        i++;
    if (i < len && (text[i] == '{' || text[i] == '[')) {
        const char *end = NULL;
        cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, false);
        if (!v)
            errmsg_set(why, whysz, "not valid JSON (near byte %zu)",
                       end && end >= text ? (size_t)(end - text) : (size_t)0);
        return v;
    }
    ydoc_error_t err = {0};
    ynode_t *doc = ydoc_parse(text, len, NULL, &err);
    cJSON *v = doc ? ydoc_to_json(doc, &err) : NULL;
    if (!v)
        errmsg_set(why, whysz, "line %zu, column %zu: %s", err.line, err.col, err.msg);
    ydoc_free(doc);
    return v;
}
