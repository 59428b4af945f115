/* verdict: how a rule records its answer (see rules_int.h): the pod
 * allowed, denied with a one-line message, warnings and reasons (only
 * when the caller reads them), each
 * message one line of bounded length with control characters made spaces. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rules_int.h"

#define MAX_WARNINGS 16
#define WARNING_MAX  240 /* bytes; the API asks for short warnings */

/* The decision's arrays double as they grow: their room is the power of
 * two at or above their length, so appending reallocates only at lengths
 * 0, 1, 2, 4, ... and a pod's worth of appends costs linear time. */
void *verdict_grow(void *v, size_t n, size_t size)
{
    return (n & (n - 1)) == 0 ? realloc(v, (n ? 2 * n : 1) * size) : v;
}

static bool push_str(ctx_t *x, char ***v, size_t *n, char *s)
{
    char **nv = s ? verdict_grow(*v, *n, sizeof **v) : NULL;
    if (!nv) {
        free(s);
        x->oom = true;
        return false;
    }
    nv[(*n)++] = s;
    *v = nv;
    return true;
}

/* printf into one line of at most `max` bytes (0: no limit), control
 * characters made spaces, cut text marked with "...". */
static char *vformat_oneline(size_t max, const char *fmt, va_list ap)
{
    buf_t raw = BUF_INIT, clean = BUF_INIT;
    buf_vprintf(&raw, fmt, ap);
    if (raw.oom) {
        buf_free(&raw);
        return NULL;
    }
    size_t n = raw.len;
    if (max && n > max) {
        n = max - 3;
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)raw.data[n] & 0xC0) == 0x80)
            n--;
    }
    buf_put_oneline(&clean, raw.data ? raw.data : "", n);
    if (n < raw.len)
        buf_puts(&clean, "...");
    buf_free(&raw);
    return buf_steal(&clean);
}

/* A warning for the user (the API server shows it to kubectl). */
void verdict_warn(ctx_t *x, const char *fmt, ...)
{
    if (x->d->n_warnings >= MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat_oneline(WARNING_MAX, fmt, ap);
    va_end(ap);
    push_str(x, &x->d->warnings, &x->d->n_warnings, s);
}

static void vreason(ctx_t *x, const char *fmt, va_list ap)
{
    if (!x->reasons)
        return; /* nobody reads them: not even formatted */
    push_str(x, &x->d->reasons, &x->d->n_reasons, vformat_oneline(0, fmt, ap));
}

/* Why, for people (review --explain), when the caller asked for reasons. */
void verdict_reason(ctx_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(x, fmt, ap);
    va_end(ap);
}

/* Ends the evaluation: the pod is allowed unchanged, for the reason given. */
rule_result_t verdict_allow_unchanged(ctx_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreason(x, fmt, ap);
    va_end(ap);
    return RULE_DONE;
}

/* Ends the evaluation: the pod is denied with `code` and a one-line message. */
rule_result_t verdict_deny(ctx_t *x, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat_oneline(1024, fmt, ap);
    va_end(ap);
    if (!s) {
        x->oom = true;
        return RULE_DONE;
    }
    free(x->d->message);
    x->d->message = s;
    x->d->code = code;
    x->d->outcome = OUTCOME_DENIED;
    return RULE_DONE;
}

rule_result_t verdict_out_of_memory(ctx_t *x)
{
    x->oom = true;
    return RULE_DONE;
}

/* The string member `key` of `obj`, NULL when absent or not a string. */
const char *verdict_str_member(const cJSON *obj, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* What snprintf(dst, n, "ImageSpec \"%.*s\"", CLIP(sp->name, 80)) writes,
 * without the printf machinery: every placed image names its spec. */
void verdict_spec_what(const imagespec_t *sp, char *dst, size_t n)
{
    static const char pre[] = "ImageSpec \"";
    char line[sizeof pre + 80 + 1];
    size_t k = strnlen(sp->name, 80), len = sizeof pre - 1 + k + 1;
    memcpy(line, pre, sizeof pre - 1);
    memcpy(line + sizeof pre - 1, sp->name, k);
    line[len - 1] = '"';
    if (!n)
        return;
    if (len > n - 1)
        len = n - 1;
    memcpy(dst, line, len);
    dst[len] = '\0';
}

void verdict_classify_ref(const imageref_t *r, registry_info_t *info)
{
    registry_classify(r->domain.p ? r->domain.p : "", r->domain.n, r->path.p ? r->path.p : "",
                      r->path.n, info);
}
