/* imageref: container image references, as the distribution reference
 * grammar defines them, and the flytekit rule for an ImageSpec `registry`.
 *
 * The rest of the code never slices image strings by hand: it parses them
 * here and works with the parts. Parsing allocates nothing; the parts point
 * into the caller's string. */
#ifndef WH_IMAGEREF_H
#define WH_IMAGEREF_H

#include <stdbool.h>
#include <stddef.h>

#define IMAGEREF_NAME_MAX 255 /* domain + "/" + path, the safe common limit */
#define IMAGEREF_TAG_MAX  128

typedef struct {
    const char *p;
    size_t n;
} strview_t;

typedef struct {
    strview_t name;   /* everything before ":tag" / "@digest": [domain "/"] path */
    strview_t domain; /* explicit domain (host[:port]); n == 0 when the name has none */
    strview_t path;   /* the remote name without the domain, as written */
    strview_t tag;    /* n == 0 when absent */
    strview_t digest; /* "algo:hex"; n == 0 when absent */
} imageref_t;

typedef enum {
    IMAGEREF_OK = 0,
    IMAGEREF_EMPTY,         /* empty string */
    IMAGEREF_BAD_FORMAT,    /* does not match the grammar */
    IMAGEREF_UPPERCASE,     /* repository path has uppercase letters */
    IMAGEREF_NAME_TOO_LONG, /* name longer than IMAGEREF_NAME_MAX */
    IMAGEREF_BAD_TAG,       /* tag charset, first character or length */
    IMAGEREF_BAD_DIGEST,    /* unknown algorithm, wrong length, uppercase hex */
    IMAGEREF_HEX_NAME,      /* a 64-hex-character string used as a name */
    IMAGEREF_WHITESPACE,    /* whitespace or control characters anywhere */
} imageref_err_t;

/* Parses `s[0..n)` (need not be NUL-terminated). Domain detection follows
 * distribution's rule: the first component is a domain when it is
 * "localhost", contains '.' or ':', or has an uppercase letter, and the
 * name has a '/'. No normalisation (no docker.io, no library/, no :latest)
 * is applied. */
imageref_err_t imageref_parse(const char *s, size_t n, imageref_t *out);

/* A short English description of an error, e.g. "repository name must be lowercase". */
const char *imageref_strerror(imageref_err_t err);

/* Host part of a domain (without ":port"; brackets kept for IPv6). */
strview_t imageref_domain_host(strview_t domain);

/* The ImageSpec `registry` rule (flytekit): after lowercasing and after
 * removing an "http://" or "https://" prefix (which sets *scheme_stripped),
 * the value must be "localhost:<port>" or "host[:port]" followed by "/path"
 * segments, with no tag and no digest. The normalised value is written to
 * `out` (NUL-terminated). Returns false with a one-line reason in `why`
 * (static string) when the value is not acceptable. */
bool imageref_parse_registry(const char *s, size_t n, char *out, size_t outsz,
                             bool *scheme_stripped, const char **why);

static inline bool strview_eq(strview_t v, const char *s, size_t n)
{
    if (v.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v.p[i] != s[i])
            return false;
    return true;
}

#endif
