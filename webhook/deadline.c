/* deadline: the time budget of a request's live checks: Go durations,
 * the `timeout` query parameter and the budget itself (see deadline.h). */
#include "deadline.h"

#include <string.h>

/* Go's largest duration, in nanoseconds (math.MaxInt64). */
#define MAX_NS 9223372036854775807ull

typedef struct {
    const char *name;
    size_t len;
    uint64_t ns;
} unit_t;

static const unit_t UNITS[] = {
    {"ns", 2, 1ull},           {"us", 2, 1000ull},
    {"\xc2\xb5s", 3, 1000ull}, /* U+00B5 MICRO SIGN */
    {"\xce\xbcs", 3, 1000ull}, /* U+03BC GREEK SMALL LETTER MU */
    {"ms", 2, 1000000ull},     {"s", 1, 1000000000ull},
    {"m", 1, 60000000000ull},  {"h", 1, 3600000000000ull},
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The unit at s[*i..n): Go takes every byte up to the next '.' or digit. */
static const unit_t *read_unit(const char *s, size_t n, size_t *i)
{
    size_t start = *i;
    while (*i < n && s[*i] != '.' && !is_digit(s[*i]))
        (*i)++;
    size_t len = *i - start;
    for (size_t u = 0; u < sizeof UNITS / sizeof UNITS[0]; u++)
        if (UNITS[u].len == len && memcmp(UNITS[u].name, s + start, len) == 0)
            return &UNITS[u];
    return NULL;
}

/* One "<number><unit>" at s[*i..n), added to *total (nanoseconds). */
static bool read_component(const char *s, size_t n, size_t *i, uint64_t *total)
{
    uint64_t whole = 0;
    size_t digits = 0;
    for (; *i < n && is_digit(s[*i]); (*i)++, digits++) {
        unsigned d = (unsigned)(s[*i] - '0');
        if (whole > (MAX_NS - d) / 10)
            return false;
        whole = whole * 10 + d;
    }
    double frac = 0, scale = 1;
    size_t fdigits = 0;
    if (*i < n && s[*i] == '.') {
        for ((*i)++; *i < n && is_digit(s[*i]); (*i)++, fdigits++)
            if (scale < 1e18) { /* further digits are below a nanosecond */
                frac = frac * 10 + (s[*i] - '0');
                scale *= 10;
            }
    }
    if (digits == 0 && fdigits == 0)
        return false; /* "", ".", "s" */
    const unit_t *u = read_unit(s, n, i);
    if (!u || whole > MAX_NS / u->ns)
        return false;
    uint64_t v = whole * u->ns;
    double f = frac / scale * (double)u->ns;
    if (f >= (double)(MAX_NS - v))
        return false;
    v += (uint64_t)f;
    if (*total > MAX_NS - v)
        return false;
    *total += v;
    return true;
}

bool deadline_parse_duration(const char *s, size_t n, uint64_t *ms)
{
    size_t i = 0;
    if (n > 0 && s[0] == '+')
        i++;
    if (n - i == 1 && s[i] == '0') { /* the only number without a unit */
        *ms = 0;
        return true;
    }
    if (i == n)
        return false;
    uint64_t ns = 0;
    while (i < n)
        if (!read_component(s, n, &i, &ns))
            return false;
    *ms = ns / 1000000ull;
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes v[0..n) into out (at most outsz bytes, '+' is a space
 * as in a form); false when malformed or too long. */
static bool query_decode(const char *v, size_t n, char *out, size_t outsz, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_value(v[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(v[i + 2]) : -1;
            if (lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o == outsz)
            return false;
        out[o++] = c;
    }
    *outlen = o;
    return true;
}

bool deadline_query_timeout(const char *query, size_t n, uint64_t *ms)
{
    static const char key[] = "timeout=";
    size_t kl = sizeof key - 1;
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && query[end] != '&' && query[end] != ';')
            end++;
        if (end - i >= kl && memcmp(query + i, key, kl) == 0) {
            char buf[64];
            size_t len;
            return query_decode(query + i + kl, end - i - kl, buf, sizeof buf, &len) &&
                   deadline_parse_duration(buf, len, ms);
        }
        i = end + 1;
    }
    return false;
}

uint64_t deadline_api_share_ms(uint64_t api_timeout_ms)
{
    uint64_t margin = api_timeout_ms / 10;
    uint64_t floor = api_timeout_ms < 1000 ? api_timeout_ms / 2 : 500;
    if (margin < floor)
        margin = floor;
    return api_timeout_ms - margin;
}

uint64_t deadline_budget_ms(uint64_t checks_ms, uint64_t api_timeout_ms,
                            uint64_t request_timeout_ms)
{
    uint64_t b = checks_ms;
    if (api_timeout_ms) {
        uint64_t share = deadline_api_share_ms(api_timeout_ms);
        if (share < b)
            b = share;
    }
    if (request_timeout_ms && request_timeout_ms < b)
        b = request_timeout_ms;
    return b;
}
