/* awsxml: one element's text from an XML document (see awsxml.h). */
#include "awsxml.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t n, i;
    char stack[AWSXML_MAX_DEPTH][AWSXML_MAX_NAME + 1]; /* qualified names of open elements */
    size_t depth;
    const char *const *path;
    size_t plen;
    size_t matched; /* open levels equal to the path's first ones */
    bool collecting;
    char *out;
    size_t outsz, outlen;
    const char *why;
} xs_t;

static bool fail(xs_t *x, const char *why)
{
    x->why = why;
    return false;
}

static bool at(const xs_t *x, const char *lit)
{
    size_t l = strlen(lit);
    return x->n - x->i >= l && memcmp(x->s + x->i, lit, l) == 0;
}

/* Moves past the next `lit`; false when there is none. */
static bool skip_past(xs_t *x, const char *lit)
{
    size_t l = strlen(lit);
    for (size_t j = x->i; j + l <= x->n; j++) {
        if (memcmp(x->s + j, lit, l) == 0) {
            x->i = j + l;
            return true;
        }
    }
    return false;
}

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == ':' || c == '-' || c == '.' || c >= 0x80;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool read_name(xs_t *x, char name[AWSXML_MAX_NAME + 1])
{
    size_t k = 0;
    while (x->i < x->n && is_name_char((unsigned char)x->s[x->i])) {
        if (k == AWSXML_MAX_NAME)
            return fail(x, "element name too long");
        name[k++] = x->s[x->i++];
    }
    name[k] = '\0';
    return k > 0 || fail(x, "malformed tag");
}

static const char *local_name(const char *q)
{
    const char *c = strrchr(q, ':');
    return c ? c + 1 : q;
}

static bool put(xs_t *x, const char *p, size_t k)
{
    if (x->outlen + k >= x->outsz)
        return fail(x, "element text too long");
    memcpy(x->out + x->outlen, p, k);
    x->outlen += k;
    x->out[x->outlen] = '\0';
    return true;
}

static bool put_code_point(xs_t *x, uint32_t c)
{
    char u[4];
    size_t k;
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return fail(x, "invalid character reference");
    if (c < 0x80) {
        u[0] = (char)c;
        k = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | c >> 6);
        u[1] = (char)(0x80 | (c & 0x3F));
        k = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | c >> 12);
        u[1] = (char)(0x80 | (c >> 6 & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        k = 3;
    } else {
        u[0] = (char)(0xF0 | c >> 18);
        u[1] = (char)(0x80 | (c >> 12 & 0x3F));
        u[2] = (char)(0x80 | (c >> 6 & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        k = 4;
    }
    return put(x, u, k);
}

/* A reference "&...;" of e[0..k) (without '&' and ';'). */
static bool put_reference(xs_t *x, const char *e, size_t k)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
    for (size_t j = 0; j < sizeof named / sizeof named[0]; j++)
        if (strlen(named[j].name) == k && memcmp(e, named[j].name, k) == 0)
            return put(x, &named[j].c, 1);
    if (k < 2 || e[0] != '#')
        return fail(x, "unknown entity reference");
    bool hex = e[1] == 'x';
    size_t j = hex ? 2 : 1;
    if (j == k)
        return fail(x, "invalid character reference");
    uint32_t c = 0;
    for (; j < k; j++) {
        char d = e[j];
        int v = d >= '0' && d <= '9'          ? d - '0'
                : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                              : -1;
        if (v < 0 || c > 0x10FFFF)
            return fail(x, "invalid character reference");
        c = c * (hex ? 16 : 10) + (uint32_t)v;
    }
    return put_code_point(x, c);
}

/* Text between tags, references decoded. */
static bool put_text(xs_t *x, const char *p, size_t k)
{
    size_t j = 0;
    while (j < k) {
        const char *amp = memchr(p + j, '&', k - j);
        size_t plain = amp ? (size_t)(amp - (p + j)) : k - j;
        if (plain && !put(x, p + j, plain))
            return false;
        j += plain;
        if (!amp)
            break;
        const char *semi = memchr(amp, ';', k - j < 12 ? k - j : 12);
        if (!semi)
            return fail(x, "unterminated entity reference");
        if (!put_reference(x, amp + 1, (size_t)(semi - amp - 1)))
            return false;
        j += (size_t)(semi - amp) + 1;
    }
    return true;
}

static bool push(xs_t *x, const char *name)
{
    if (x->collecting)
        return fail(x, "element has child elements");
    if (x->depth == AWSXML_MAX_DEPTH)
        return fail(x, "elements nested too deeply");
    size_t d = x->depth;
    memcpy(x->stack[d], name, strlen(name) + 1);
    x->depth++;
    if (x->matched == d && d < x->plen && strcmp(local_name(name), x->path[d]) == 0)
        x->matched = d + 1;
    if (x->matched == x->plen && x->depth == x->plen)
        x->collecting = true;
    return true;
}

/* Closes the innermost element; *done when it was the one looked for. */
static bool pop(xs_t *x, const char *name, bool *done)
{
    if (x->depth == 0 || strcmp(x->stack[x->depth - 1], name) != 0)
        return fail(x, "mismatched end tag");
    if (x->collecting) {
        *done = true;
        return true;
    }
    if (x->matched == x->depth)
        x->matched--;
    x->depth--;
    return true;
}

/* A start tag after '<': its name, attributes skipped, "/>" closes it. */
static bool start_tag(xs_t *x, bool *done)
{
    char name[AWSXML_MAX_NAME + 1];
    if (!read_name(x, name))
        return false;
    char quote = 0;
    for (; x->i < x->n; x->i++) {
        char c = x->s[x->i];
        if (quote) {
            quote = c == quote ? 0 : quote;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            x->i++;
            return push(x, name);
        } else if (c == '/' && x->i + 1 < x->n && x->s[x->i + 1] == '>') {
            x->i += 2;
            return push(x, name) && pop(x, name, done);
        } else if (c == '<') {
            break;
        }
    }
    return fail(x, "unterminated start tag");
}

static bool end_tag(xs_t *x, bool *done)
{
    char name[AWSXML_MAX_NAME + 1];
    if (!read_name(x, name))
        return false;
    while (x->i < x->n && is_space(x->s[x->i]))
        x->i++;
    if (x->i >= x->n || x->s[x->i] != '>')
        return fail(x, "unterminated end tag");
    x->i++;
    return pop(x, name, done);
}

/* One markup construct at '<'. */
static bool markup(xs_t *x, bool *done)
{
    if (at(x, "<?"))
        return skip_past(x, "?>") || fail(x, "unterminated processing instruction");
    if (at(x, "<!--"))
        return skip_past(x, "-->") || fail(x, "unterminated comment");
    if (at(x, "<![CDATA[")) {
        size_t from = x->i + 9;
        if (!skip_past(x, "]]>"))
            return fail(x, "unterminated CDATA section");
        return !x->collecting || put(x, x->s + from, x->i - 3 - from);
    }
    if (at(x, "<!"))
        return fail(x, "a DOCTYPE or declaration is not accepted");
    if (at(x, "</")) {
        x->i += 2;
        return end_tag(x, done);
    }
    x->i++;
    return start_tag(x, done);
}

bool awsxml_text(const char *xml, size_t n, const char *const *path, size_t depth, char *out,
                 size_t outsz, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!out || outsz == 0 || !path || depth == 0 || depth > AWSXML_MAX_DEPTH) {
        *why = "bad arguments";
        return false;
    }
    out[0] = '\0';
    xs_t x = {.s = xml, .n = xml ? n : 0, .path = path, .plen = depth, .out = out, .outsz = outsz};
    bool done = false;
    while (x.i < x.n && !done) {
        if (x.s[x.i] == '<') {
            if (!markup(&x, &done))
                break;
            continue;
        }
        const char *lt = memchr(x.s + x.i, '<', x.n - x.i);
        size_t k = lt ? (size_t)(lt - (x.s + x.i)) : x.n - x.i;
        if (x.collecting && !put_text(&x, x.s + x.i, k))
            break;
        x.i += k;
    }
    if (done)
        return true;
    out[0] = '\0';
    *why = x.why ? x.why : x.depth ? "document ends inside an element" : "element not found";
    return false;
}
