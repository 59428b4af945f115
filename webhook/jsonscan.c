/* jsonscan: the strict scanner and the value count (see jsonscan.h).
 *
 * The scanner is iterative (an explicit stack, so depth costs no C stack)
 * and never copies the text, except the member names that hold escapes,
 * which are unescaped into one buffer so that "a" and "\u0061" compare
 * equal. The names of each open object are kept on one array; when the
 * object closes its names are sorted and neighbours compared, then
 * dropped. */
#include "jsonscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

typedef struct {
    const char *p; /* unescaped bytes (into the text, or into the scan's buffer) */
    size_t n;
    size_t raw; /* offset of the name's first byte after the opening quote */
} name_t;

typedef struct {
    bool obj;
    size_t index;       /* arrays: the element being read */
    size_t names_start; /* objects: the first of its names on the names array */
    size_t key, key_n;  /* objects: the member being read, raw (key_n 0: none yet) */
    bool has_key;
} level_t;

typedef struct {
    const unsigned char *s;
    size_t n, i;
    level_t *stack;
    size_t depth;
    name_t *names;
    size_t n_names, cap_names;
    char *unesc; /* unescaped names; as large as the text, allocated on first use */
    size_t unesc_len;
    jsonscan_result_t *out;
} scan_t;

const char *jsonscan_strerror(jsonscan_status_t st)
{
    switch (st) {
    case JSONSCAN_OK:
        return "valid";
    case JSONSCAN_SYNTAX:
        return "not valid JSON";
    case JSONSCAN_DEPTH:
        return "nested too deeply";
    case JSONSCAN_DUPLICATE:
        return "a member name is given twice";
    case JSONSCAN_NUL:
        return "a string holds \\u0000";
    case JSONSCAN_OOM:
        return "out of memory";
    }
    return "not valid JSON";
}

/* ---- where: the path for messages ----------------------------------------- */

/* The raw length of the name whose contents start at raw (up to its quote). */
static size_t raw_name_len(const scan_t *x, size_t raw)
{
    size_t i = raw;
    while (i < x->n && x->s[i] != '"')
        i += x->s[i] == '\\' ? 2 : 1;
    return (i < x->n ? i : x->n) - raw;
}

/* raw[0..n) for a message: at most `max` bytes ("..." after a cut),
 * control bytes as '?' (raw text past an error may hold anything).
 * Returns the length written to dst (room for max + 4). */
static size_t shown(char *dst, const unsigned char *raw, size_t n, size_t max)
{
    size_t k = n > max ? max : n;
    for (size_t i = 0; i < k; i++)
        dst[i] = raw[i] < 0x20 || raw[i] == 0x7f ? '?' : (char)raw[i];
    if (k < n) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
    return k;
}

/* One step of a path: ".name" for a member, "[i]" for an element; 0 when
 * the level has none yet. */
static size_t step(const scan_t *x, const level_t *lv, char *out)
{
    if (!lv->obj)
        return (size_t)snprintf(out, 48, "[%zu]", lv->index);
    if (!lv->has_key)
        return 0;
    size_t kn = lv->key_n ? lv->key_n : raw_name_len(x, lv->key);
    out[0] = '.';
    return 1 + shown(out + 1, x->s + lv->key, kn, 40);
}

/* out->path: the steps of levels [0, upto), then the member name raw[0..n)
 * if n. The innermost steps are kept when it is too long ("..." first). */
static void set_path(scan_t *x, size_t upto, size_t raw, size_t n)
{
    char buf[JSONSCAN_PATH_MAX], one[48];
    size_t pos = sizeof buf - 1;
    buf[pos] = '\0';
    bool cut = false;
    for (size_t l = upto + 1; l-- > 0 && !cut;) {
        size_t k;
        if (l == upto) {
            if (!n)
                continue;
            one[0] = '.';
            k = 1 + shown(one + 1, x->s + raw, n, 40);
        } else {
            k = step(x, &x->stack[l], one);
        }
        if (k + 3 > pos) {
            cut = true;
            break;
        }
        pos -= k;
        memcpy(buf + pos, one, k);
    }
    const char *p = buf + pos;
    if (*p == '.')
        p++;
    snprintf(x->out->path, sizeof x->out->path, "%s%s", cut ? "..." : "", p);
}

static jsonscan_status_t fail(scan_t *x, jsonscan_status_t st, size_t at)
{
    x->out->status = st;
    x->out->offset = at;
    if (st == JSONSCAN_SYNTAX || st == JSONSCAN_DEPTH || st == JSONSCAN_NUL)
        set_path(x, x->depth, 0, 0);
    return st;
}

/* ---- strings --------------------------------------------------------------- */

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        int c = p[k], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The escape at s[i] (a backslash): its code point in *cp (-1 for the
 * one-letter escapes, whose byte is in *cp's place as -2 - byte), its
 * length in *len. False when it is not a valid escape. */
static bool read_escape(const scan_t *x, size_t i, long *cp, size_t *len)
{
    if (i + 1 >= x->n)
        return false;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = memchr(from, x->s[i + 1], sizeof from - 1);
    if (e && x->s[i + 1] != '\0') {
        *cp = -2 - (long)(unsigned char)to[e - from];
        *len = 2;
        return true;
    }
    if (x->s[i + 1] != 'u' || i + 6 > x->n)
        return false;
    int u = hex4(x->s + i + 2);
    if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
        return false; /* a low surrogate alone */
    *len = 6;
    if (u >= 0xD800 && u <= 0xDBFF) {
        int lo =
            i + 12 <= x->n && x->s[i + 6] == '\\' && x->s[i + 7] == 'u' ? hex4(x->s + i + 8) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return false; /* a high surrogate without its low half */
        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        *len = 12;
    }
    *cp = u;
    return true;
}

/* Unescapes the name at raw[start..end) into x->unesc. */
static name_t unescape_name(scan_t *x, size_t start, size_t end)
{
    if (!x->unesc && !(x->unesc = malloc(x->n ? x->n : 1)))
        return (name_t){NULL, 0, start};
    char *d = x->unesc + x->unesc_len, *d0 = d;
    for (size_t i = start; i < end;) {
        long cp;
        size_t len;
        if (x->s[i] != '\\' || !read_escape(x, i, &cp, &len)) {
            *d++ = (char)x->s[i++];
            continue;
        }
        i += len;
        if (cp < 0) {
            *d++ = (char)(-2 - cp);
        } else if (cp < 0x80) {
            *d++ = (char)cp;
        } else if (cp < 0x800) {
            *d++ = (char)(0xC0 | (cp >> 6));
            *d++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *d++ = (char)(0xE0 | (cp >> 12));
            *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *d++ = (char)(0x80 | (cp & 0x3F));
        } else {
            *d++ = (char)(0xF0 | (cp >> 18));
            *d++ = (char)(0x80 | ((cp >> 12) & 0x3F));
            *d++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *d++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    x->unesc_len += (size_t)(d - d0);
    return (name_t){d0, (size_t)(d - d0), start};
}

/* The string at s[i] (its opening quote). Leaves x->i after the closing
 * quote; *start and *end bound its raw contents; *escaped when it holds
 * an escape. A NUL escape is JSONSCAN_NUL at its offset. */
static jsonscan_status_t read_string(scan_t *x, size_t *start, size_t *end, bool *escaped)
{
    size_t i = x->i + 1;
    *start = i;
    *escaped = false;
    for (;;) {
        while (i < x->n && x->s[i] >= 0x20 && x->s[i] < 0x80 && x->s[i] != '"' && x->s[i] != '\\')
            i++;
        if (i >= x->n)
            return fail(x, JSONSCAN_SYNTAX, i);
        unsigned char c = x->s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            long cp;
            size_t len;
            if (!read_escape(x, i, &cp, &len))
                return fail(x, JSONSCAN_SYNTAX, i);
            if (cp == 0)
                return fail(x, JSONSCAN_NUL, i);
            *escaped = true;
            i += len;
            continue;
        }
        size_t k = c < 0x20 ? 0 : utf8_seq_len(x->s + i, x->n - i);
        if (k == 0)
            return fail(x, JSONSCAN_SYNTAX, i);
        i += k;
    }
    *end = i;
    x->i = i + 1;
    return JSONSCAN_OK;
}

/* ---- numbers and literals ---------------------------------------------------- */

static size_t digits(const scan_t *x, size_t i)
{
    while (i < x->n && x->s[i] >= '0' && x->s[i] <= '9')
        i++;
    return i;
}

static jsonscan_status_t read_number(scan_t *x)
{
    size_t i = x->i;
    if (i < x->n && x->s[i] == '-')
        i++;
    if (i < x->n && x->s[i] == '0')
        i++;
    else if (i < x->n && x->s[i] >= '1' && x->s[i] <= '9')
        i = digits(x, i);
    else
        return fail(x, JSONSCAN_SYNTAX, i);
    if (i < x->n && x->s[i] == '.') {
        size_t j = digits(x, i + 1);
        if (j == i + 1)
            return fail(x, JSONSCAN_SYNTAX, j);
        i = j;
    }
    if (i < x->n && (x->s[i] == 'e' || x->s[i] == 'E')) {
        i++;
        if (i < x->n && (x->s[i] == '+' || x->s[i] == '-'))
            i++;
        size_t j = digits(x, i);
        if (j == i)
            return fail(x, JSONSCAN_SYNTAX, j);
        i = j;
    }
    x->i = i;
    return JSONSCAN_OK;
}

static jsonscan_status_t read_scalar(scan_t *x)
{
    static const char *const words[] = {"true", "false", "null"};
    unsigned char c = x->s[x->i];
    if (c == '"') {
        size_t a, b;
        bool esc;
        return read_string(x, &a, &b, &esc);
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return read_number(x);
    for (size_t w = 0; w < 3; w++) {
        size_t k = strlen(words[w]);
        if (x->n - x->i >= k && memcmp(x->s + x->i, words[w], k) == 0) {
            x->i += k;
            return JSONSCAN_OK;
        }
    }
    return fail(x, JSONSCAN_SYNTAX, x->i);
}

/* ---- objects: names --------------------------------------------------------- */

static void skip_ws(scan_t *x)
{
    while (x->i < x->n &&
           (x->s[x->i] == ' ' || x->s[x->i] == '\n' || x->s[x->i] == '\r' || x->s[x->i] == '\t'))
        x->i++;
}

/* A member name and its colon, at x->i; remembered for the duplicate check. */
static jsonscan_status_t read_name(scan_t *x)
{
    level_t *lv = &x->stack[x->depth - 1];
    if (x->i >= x->n || x->s[x->i] != '"')
        return fail(x, JSONSCAN_SYNTAX, x->i);
    size_t a, b;
    bool esc;
    lv->has_key = true;
    lv->key = x->i + 1;
    lv->key_n = 0;
    jsonscan_status_t st = read_string(x, &a, &b, &esc);
    if (st != JSONSCAN_OK)
        return st;
    lv->key_n = b - a;
    if (x->n_names == x->cap_names) {
        size_t cap = x->cap_names ? 2 * x->cap_names : 16;
        name_t *nn = realloc(x->names, cap * sizeof *nn);
        if (!nn)
            return fail(x, JSONSCAN_OOM, a);
        x->names = nn;
        x->cap_names = cap;
    }
    name_t nm = esc ? unescape_name(x, a, b) : (name_t){(const char *)x->s + a, b - a, a};
    if (!nm.p)
        return fail(x, JSONSCAN_OOM, a);
    x->names[x->n_names++] = nm;
    skip_ws(x);
    if (x->i >= x->n || x->s[x->i] != ':')
        return fail(x, JSONSCAN_SYNTAX, x->i);
    x->i++;
    skip_ws(x);
    return JSONSCAN_OK;
}

static int name_cmp(const void *pa, const void *pb)
{
    const name_t *a = pa, *b = pb;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    int c = memcmp(a->p, b->p, a->n);
    if (c)
        return c;
    return a->raw < b->raw ? -1 : a->raw > b->raw;
}

/* The object at the top of the stack closes: no name twice, then its
 * names are dropped. */
static jsonscan_status_t close_object(scan_t *x)
{
    level_t *lv = &x->stack[x->depth - 1];
    name_t *v = x->names + lv->names_start;
    size_t k = x->n_names - lv->names_start;
    if (k > 1)
        qsort(v, k, sizeof *v, name_cmp);
    for (size_t j = 1; j < k; j++) {
        if (v[j].n != v[j - 1].n || memcmp(v[j].p, v[j - 1].p, v[j].n) != 0)
            continue;
        size_t n = raw_name_len(x, v[j].raw);
        x->out->status = JSONSCAN_DUPLICATE;
        x->out->offset = v[j].raw;
        set_path(x, x->depth - 1, v[j].raw, n);
        shown(x->out->name, x->s + v[j].raw, n, sizeof x->out->name - 4);
        return JSONSCAN_DUPLICATE;
    }
    x->n_names = lv->names_start;
    return JSONSCAN_OK;
}

/* ---- the walk ---------------------------------------------------------------- */

/* Opens the object or array at x->i. *closed when it is empty. */
static jsonscan_status_t open_container(scan_t *x, bool *closed)
{
    if (x->depth == JSONSCAN_MAX_DEPTH)
        return fail(x, JSONSCAN_DEPTH, x->i);
    bool obj = x->s[x->i] == '{';
    x->stack[x->depth++] = (level_t){obj, 0, x->n_names, 0, 0, false};
    x->i++;
    skip_ws(x);
    *closed = x->i < x->n && x->s[x->i] == (obj ? '}' : ']');
    if (*closed) {
        x->i++;
        x->depth--;
        return JSONSCAN_OK;
    }
    return obj ? read_name(x) : JSONSCAN_OK;
}

/* After a value: a comma and the next member or element, or the end of
 * containers. *more when a value is expected next. */
static jsonscan_status_t after_value(scan_t *x, bool *more, jsonscan_range_t *elems,
                                     size_t max_elems, size_t elem_start)
{
    for (;;) {
        if (x->depth == 1 && !x->stack[0].obj) {
            size_t e = x->stack[0].index;
            if (e < max_elems)
                elems[e] = (jsonscan_range_t){elem_start, x->i - elem_start};
            x->out->n_elems = e + 1;
        }
        if (x->depth == 0) {
            *more = false;
            return JSONSCAN_OK;
        }
        skip_ws(x);
        level_t *lv = &x->stack[x->depth - 1];
        if (x->i < x->n && x->s[x->i] == ',') {
            x->i++;
            skip_ws(x);
            *more = true;
            if (!lv->obj) {
                lv->index++;
                return JSONSCAN_OK;
            }
            return read_name(x);
        }
        if (x->i >= x->n || x->s[x->i] != (lv->obj ? '}' : ']'))
            return fail(x, JSONSCAN_SYNTAX, x->i);
        if (lv->obj && close_object(x) != JSONSCAN_OK)
            return JSONSCAN_DUPLICATE;
        x->i++;
        x->depth--;
    }
}

static jsonscan_status_t walk(scan_t *x, jsonscan_range_t *elems, size_t max_elems)
{
    size_t elem_start = 0;
    for (;;) {
        if (x->i >= x->n)
            return fail(x, JSONSCAN_SYNTAX, x->i);
        if (x->depth == 1 && !x->stack[0].obj)
            elem_start = x->i;
        jsonscan_status_t st;
        unsigned char c = x->s[x->i];
        if (c == '{' || c == '[') {
            bool closed;
            if ((st = open_container(x, &closed)) != JSONSCAN_OK)
                return st;
            if (!closed)
                continue;
        } else if ((st = read_scalar(x)) != JSONSCAN_OK) {
            return st;
        }
        bool more;
        if ((st = after_value(x, &more, elems, max_elems, elem_start)) != JSONSCAN_OK)
            return st;
        if (!more)
            return JSONSCAN_OK;
    }
}

jsonscan_status_t jsonscan(const char *text, size_t len, jsonscan_range_t *elems, size_t max_elems,
                           jsonscan_result_t *out)
{
    memset(out, 0, sizeof *out);
    scan_t x = {.s = (const unsigned char *)text, .n = len, .out = out};
    if (!elems)
        max_elems = 0;
    x.stack = malloc(JSONSCAN_MAX_DEPTH * sizeof *x.stack);
    if (!x.stack)
        return fail(&x, JSONSCAN_OOM, 0);
    skip_ws(&x);
    size_t start = x.i;
    out->is_array = x.i < x.n && x.s[x.i] == '[';
    jsonscan_status_t st = walk(&x, elems, max_elems);
    if (st == JSONSCAN_OK) {
        size_t end = x.i;
        skip_ws(&x);
        if (x.i < x.n) {
            st = fail(&x, JSONSCAN_SYNTAX, x.i);
        } else {
            out->value = (jsonscan_range_t){start, end - start};
        }
    }
    if (st != JSONSCAN_OK)
        out->n_elems = 0;
    free(x.stack);
    free(x.names);
    free(x.unesc);
    out->status = st;
    return st;
}

size_t json_count_values(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 1, i = 0;
    while (i < len) {
        unsigned char c = s[i++];
        if (c == '{' || c == '[' || c == ',') {
            n++;
        } else if (c == '"') {
            /* to the closing quote, past escapes */
            while (i < len && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
            i++;
        }
    }
    return n;
}
