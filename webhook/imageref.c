/* imageref: a hand-written scanner for container image references (the
 * distribution reference grammar, with its domain detection but without any
 * normalisation) and for the flytekit rule on an ImageSpec `registry`. */
#include "imageref.h"

#include <stdint.h>
#include <string.h>

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_lower(c) || is_upper(c) || is_digit(c);
}

static bool is_lower_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_hex(char c)
{
    return is_lower_hex(c) || (c >= 'A' && c <= 'F');
}

/* Bytes below 0x21 (space and controls) and DEL. */
static bool is_space_or_ctl(char c)
{
    unsigned char u = (unsigned char)c;
    return u <= 0x20 || u == 0x7f;
}

static const char *find_byte(const char *s, size_t n, char c)
{
    return n ? memchr(s, c, n) : NULL;
}

static const char *find_last_byte(const char *s, size_t n, char c)
{
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == c)
            return s + i - 1;
    return NULL;
}

/* The last ':' after the last '/' of s[0..n), or NULL: one pass backwards
 * that stops at the last '/'. */
static const char *tag_colon(const char *s, size_t n)
{
    for (size_t i = n; i > 0; i--) {
        if (s[i - 1] == ':')
            return s + i - 1;
        if (s[i - 1] == '/')
            return NULL;
    }
    return NULL;
}

/* Whether any byte is a space, a control character or DEL: eight bytes at
 * a time (a byte below 0x21 borrows in the subtraction with its own high
 * bit clear; DEL is the byte that XOR 0x7f makes zero), then the tail. */
static bool has_space_or_ctl(const char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, d;
        memcpy(&w, s + i, 8);
        d = w ^ (0x7f * ones);
        if (((w - 0x21 * ones) & ~w & highs) || ((d - ones) & ~d & highs))
            return true;
    }
    for (; i < n; i++)
        if (is_space_or_ctl(s[i]))
            return true;
    return false;
}

/* ---- domain ------------------------------------------------------------ */

/* One or more ASCII digits, nothing else. */
static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* domain-name: components of [A-Za-z0-9] with inner '-', separated by '.'. */
static bool valid_domain_name(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0)
        return false;
    for (;;) {
        size_t start = i;
        while (i < n && (is_alnum(s[i]) || s[i] == '-'))
            i++;
        if (i == start || s[start] == '-' || s[i - 1] == '-')
            return false;
        if (i == n)
            return true;
        if (s[i] != '.')
            return false;
        i++;
    }
}

/* host [':' port], host being a domain name, an IPv4 address (which the
 * domain-name rule covers) or a bracketed IPv6 address. */
static bool valid_domain(const char *s, size_t n)
{
    size_t host_n;
    if (n == 0)
        return false;
    if (s[0] == '[') {
        const char *close = find_byte(s, n, ']');
        if (close == NULL || close == s + 1)
            return false;
        for (const char *q = s + 1; q < close; q++)
            if (!is_hex(*q) && *q != ':')
                return false;
        host_n = (size_t)(close - s) + 1;
    } else {
        const char *colon = find_byte(s, n, ':');
        host_n = colon ? (size_t)(colon - s) : n;
        if (!valid_domain_name(s, host_n))
            return false;
    }
    if (host_n == n)
        return true;
    if (s[host_n] != ':')
        return false;
    return all_digits(s + host_n + 1, n - host_n - 1);
}

/* ---- remote name ------------------------------------------------------- */

/* path-component := alnum+ (separator alnum+)*, separator := '.' | '_' |
 * '__' | '-'+. With `fold`, uppercase letters count as letters (used to tell
 * "uppercase" from "malformed"). */
static bool valid_path_component(const char *s, size_t n, bool fold)
{
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < n && (is_lower(s[i]) || is_digit(s[i]) || (fold && is_upper(s[i]))))
            i++;
        if (i == start)
            return false;
        if (i == n)
            return true;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < n && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < n && s[i] == '-')
                i++;
        } else {
            return false;
        }
    }
}

static bool valid_remote_name(const char *s, size_t n, bool fold)
{
    size_t i = 0;
    if (n == 0)
        return false;
    for (;;) {
        const char *slash = find_byte(s + i, n - i, '/');
        size_t end = slash ? (size_t)(slash - s) : n;
        if (!valid_path_component(s + i, end - i, fold))
            return false;
        if (end == n)
            return true;
        i = end + 1;
    }
}

static bool has_upper(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is_upper(s[i]))
            return true;
    return false;
}

/* ---- tag and digest ---------------------------------------------------- */

static bool valid_tag(const char *s, size_t n)
{
    if (n == 0 || n > IMAGEREF_TAG_MAX)
        return false;
    if (!is_alnum(s[0]) && s[0] != '_')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

static bool valid_digest(const char *s, size_t n)
{
    static const struct {
        const char *algo;
        size_t hex_len;
    } algos[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
    const char *colon = find_byte(s, n, ':');
    if (colon == NULL)
        return false;
    size_t algo_n = (size_t)(colon - s);
    const char *hex = colon + 1;
    size_t hex_n = n - algo_n - 1;
    for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
        if (strlen(algos[a].algo) != algo_n || memcmp(algos[a].algo, s, algo_n) != 0)
            continue;
        if (hex_n != algos[a].hex_len)
            return false;
        for (size_t i = 0; i < hex_n; i++)
            if (!is_lower_hex(hex[i]))
                return false;
        return true;
    }
    return false;
}

/* ---- reference --------------------------------------------------------- */

static bool is_hex_identifier(const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_hex(s[i]))
            return false;
    return true;
}

/* Domain detection as distribution's splitDockerDomain does it: the first
 * component is a domain when the name has a '/' and that component is
 * "localhost", contains '.' or ':', or contains an uppercase letter.
 * Unlike the bare regular expression, a component detected as a domain must
 * then be a valid domain: "foo_bar.com/x" is rejected instead of being read
 * as a two-component path. */
static imageref_err_t parse_name(const char *s, size_t n, imageref_t *out)
{
    const char *slash = find_byte(s, n, '/');
    const char *path = s;
    size_t path_n = n;
    out->domain.p = s;
    out->domain.n = 0;
    if (n == 0)
        return IMAGEREF_BAD_FORMAT;
    if (slash != NULL) {
        size_t first_n = (size_t)(slash - s);
        bool is_domain = (first_n == 9 && memcmp(s, "localhost", 9) == 0) ||
                         find_byte(s, first_n, '.') != NULL || find_byte(s, first_n, ':') != NULL ||
                         has_upper(s, first_n);
        if (is_domain) {
            if (!valid_domain(s, first_n))
                return IMAGEREF_BAD_FORMAT;
            out->domain.n = first_n;
            path = slash + 1;
            path_n = n - first_n - 1;
        }
    }
    out->path.p = path;
    out->path.n = path_n;
    if (!valid_remote_name(path, path_n, false)) {
        if (has_upper(path, path_n) && valid_remote_name(path, path_n, true))
            return IMAGEREF_UPPERCASE;
        return IMAGEREF_BAD_FORMAT;
    }
    if (n > IMAGEREF_NAME_MAX)
        return IMAGEREF_NAME_TOO_LONG;
    return IMAGEREF_OK;
}

imageref_err_t imageref_parse(const char *s, size_t n, imageref_t *out)
{
    imageref_t r;
    memset(&r, 0, sizeof r);
    r.name.p = r.domain.p = r.path.p = r.tag.p = r.digest.p = s;
    if (out != NULL)
        *out = r;
    if (s == NULL || n == 0)
        return IMAGEREF_EMPTY;
    if (has_space_or_ctl(s, n))
        return IMAGEREF_WHITESPACE;
    if (is_hex_identifier(s, n))
        return IMAGEREF_HEX_NAME;

    /* The digest follows the first '@' (nothing before it may contain one);
     * the tag follows a ':' that comes after the last '/' of the name. */
    size_t rest = n;
    const char *at = find_byte(s, n, '@');
    if (at != NULL) {
        r.digest.p = at + 1;
        r.digest.n = n - (size_t)(at - s) - 1;
        rest = (size_t)(at - s);
    }
    const char *colon = tag_colon(s, rest);
    bool has_tag = colon != NULL;
    if (has_tag) {
        r.tag.p = colon + 1;
        r.tag.n = rest - (size_t)(colon - s) - 1;
        rest = (size_t)(colon - s);
    }
    r.name.p = s;
    r.name.n = rest;

    imageref_err_t err = parse_name(s, rest, &r);
    if (err == IMAGEREF_OK && has_tag && !valid_tag(r.tag.p, r.tag.n))
        err = IMAGEREF_BAD_TAG;
    if (err == IMAGEREF_OK && at != NULL && !valid_digest(r.digest.p, r.digest.n))
        err = IMAGEREF_BAD_DIGEST;
    if (out != NULL)
        *out = r;
    return err;
}

const char *imageref_strerror(imageref_err_t err)
{
    switch (err) {
    case IMAGEREF_OK:
        return "valid image reference";
    case IMAGEREF_EMPTY:
        return "image reference is empty";
    case IMAGEREF_BAD_FORMAT:
        return "invalid image reference format";
    case IMAGEREF_UPPERCASE:
        return "repository name must be lowercase";
    case IMAGEREF_NAME_TOO_LONG:
        return "repository name (domain and path) is longer than 255 characters";
    case IMAGEREF_BAD_TAG:
        return "invalid tag: it must be 1 to 128 characters of letters, digits, '_', '.' "
               "and '-', not starting with '.' or '-'";
    case IMAGEREF_BAD_DIGEST:
        return "invalid digest: it must be sha256, sha384 or sha512 followed by 64, 96 or "
               "128 lowercase hexadecimal characters";
    case IMAGEREF_HEX_NAME:
        return "a 64-character hexadecimal string cannot be used as a repository name";
    case IMAGEREF_WHITESPACE:
        return "image reference contains whitespace or control characters";
    }
    return "unknown image reference error";
}

strview_t imageref_domain_host(strview_t domain)
{
    strview_t host = domain;
    if (domain.p == NULL || domain.n == 0)
        return host;
    if (domain.p[0] == '[') {
        const char *close = find_byte(domain.p, domain.n, ']');
        if (close != NULL)
            host.n = (size_t)(close - domain.p) + 1;
        return host;
    }
    const char *colon = find_byte(domain.p, domain.n, ':');
    if (colon != NULL)
        host.n = (size_t)(colon - domain.p);
    return host;
}

/* ---- ImageSpec registry ------------------------------------------------ */

/* flytekit lowercases the registry and then requires
 * (localhost:<1-5 digits> | host[:<1-5 digits>]) ('/' segment)*, where the
 * host is made of [a-z0-9._-] and a segment of [A-Za-z0-9_.-] (lowercase
 * after the first step). A port above 65535 is refused as well. */
static bool registry_host_char(char c)
{
    return is_lower(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
}

static bool registry_segment_char(char c)
{
    return registry_host_char(c);
}

/* The longest registry that still leaves room for "/x" in a 255-character name. */
#define REGISTRY_MAX (IMAGEREF_NAME_MAX - 2)

/* Length of one leading "https://" or "http://" (any case) in s[0..n), or 0. */
static size_t scheme_prefix(const char *s, size_t n)
{
    static const char *const schemes[] = {"https://", "http://"};
    for (size_t k = 0; k < 2; k++) {
        size_t sl = strlen(schemes[k]);
        if (n < sl)
            continue;
        bool match = true;
        for (size_t j = 0; j < sl && match; j++) {
            char c = s[j];
            if (is_upper(c))
                c = (char)(c - 'A' + 'a');
            match = c == schemes[k][j];
        }
        if (match)
            return sl;
    }
    return 0;
}

/* What is wrong with the host[:port] low[0..dom_n) of a lowercased
 * registry (`has_path`: a path follows), or NULL. */
static const char *registry_domain_problem(const char *low, size_t dom_n, bool has_path)
{
    const char *colon = find_byte(low, dom_n, ':');
    size_t host_n = colon ? (size_t)(colon - low) : dom_n;
    if (host_n == 0)
        return "registry has no host";
    for (size_t i = 0; i < host_n; i++)
        if (!registry_host_char(low[i]))
            return "registry host may only contain letters, digits, '.', '_' and '-'";
    if (colon == NULL)
        return NULL;
    const char *port = colon + 1;
    size_t port_n = dom_n - host_n - 1;
    if (port_n == 0 || port_n > 5 || !all_digits(port, port_n)) {
        /* A non-numeric "port" on a host without a path reads as a tag. */
        return (!has_path && port_n > 0 && !all_digits(port, port_n))
                   ? "registry must not contain a tag or digest"
                   : "registry port must be 1 to 5 digits";
    }
    unsigned long v = 0;
    for (size_t i = 0; i < port_n; i++)
        v = v * 10 + (unsigned long)(port[i] - '0');
    return v > 65535 ? "registry port is out of range (above 65535)" : NULL;
}

/* What is wrong with the ('/' segment)* part low[pos..len), or NULL. */
static const char *registry_path_problem(const char *low, size_t pos, size_t len)
{
    while (pos < len) {
        /* low[pos] == '/' here */
        size_t start = pos + 1;
        size_t end = start;
        while (end < len && low[end] != '/')
            end++;
        if (end == start)
            return end == len ? "registry must not end with '/'"
                              : "registry has an empty path segment";
        for (size_t i = start; i < end; i++)
            if (!registry_segment_char(low[i]))
                return "registry path segments may only contain letters, digits, '.', '_' and '-'";
        pos = end;
    }
    return NULL;
}

/* What is wrong with the lowercased registry low[0..len), or NULL. */
static const char *registry_problem(const char *low, size_t len)
{
    if (len == 0)
        return "registry has no host after the scheme";
    if (find_byte(low, len, '@') != NULL)
        return "registry must not contain a tag or digest";
    const char *slash = find_byte(low, len, '/');
    const char *last_colon = find_last_byte(low, len, ':');
    if (slash != NULL && last_colon != NULL && last_colon > slash)
        return "registry must not contain a tag or digest";
    if (strstr(low, "://") != NULL)
        return "registry must not contain a scheme other than http:// or https://";
    size_t dom_n = slash ? (size_t)(slash - low) : len;
    const char *why = registry_domain_problem(low, dom_n, slash != NULL);
    return why ? why : registry_path_problem(low, dom_n, len);
}

bool imageref_parse_registry(const char *s, size_t n, char *out, size_t outsz,
                             bool *scheme_stripped, const char **why)
{
    const char *dummy_why;
    bool dummy_stripped;
    char low[REGISTRY_MAX + 1];
    size_t len = 0;

    if (why == NULL)
        why = &dummy_why;
    if (scheme_stripped == NULL)
        scheme_stripped = &dummy_stripped;
    *why = NULL;
    *scheme_stripped = false;
    if (out != NULL && outsz > 0)
        out[0] = '\0';
    if (s == NULL || n == 0) {
        *why = "registry is empty";
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_space_or_ctl(s[i])) {
            *why = "registry contains whitespace or control characters";
            return false;
        }
    }
    /* Lowercase first, then strip one scheme prefix. */
    size_t skip = scheme_prefix(s, n);
    *scheme_stripped = skip > 0;
    if (n - skip > REGISTRY_MAX) {
        *why = "registry is too long to form an image name of at most 255 characters";
        return false;
    }
    for (size_t i = skip; i < n; i++) {
        char c = s[i];
        low[len++] = is_upper(c) ? (char)(c - 'A' + 'a') : c;
    }
    low[len] = '\0';
    if ((*why = registry_problem(low, len)) != NULL)
        return false;
    if (out == NULL || outsz <= len) {
        *why = "registry does not fit in the output buffer";
        return false;
    }
    memcpy(out, low, len + 1);
    return true;
}
