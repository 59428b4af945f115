/* h2scan: per-connection counts read from a client's HTTP/2 frames (see
 * h2scan.h). Frame layout and types from RFC 9113 §4.1 and §6. */
#include "h2scan.h"

#include <string.h>

#define PREFACE_LEN  24 /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
#define FRAME_HEADER 9
#define MAX_FRAME    16384 /* libh2o 2.2's SETTINGS_MAX_FRAME_SIZE: larger ends the connection */
#define MIN_HELD     8192  /* libh2o's first buffer for a body */
#define WINDOW_MS    1000

enum { T_DATA = 0, T_HEADERS = 1, T_RST_STREAM = 3, T_SETTINGS = 4, T_PING = 6 };
enum { F_END_STREAM = 0x1, F_ACK = 0x1, F_PADDED = 0x8 };

size_t h2scan_held(size_t n)
{
    if (n == 0)
        return 0;
    size_t p = MIN_HELD;
    while (p < n && p <= SIZE_MAX / 2)
        p *= 2;
    return p;
}

void h2scan_init(h2scan_t *s, h2scan_stream_t *recv, uint64_t now)
{
    memset(s, 0, sizeof *s);
    s->recv = recv;
    s->window_start = s->last_request = s->last_progress = now;
}

static h2scan_stream_t *find(h2scan_t *s, uint32_t id)
{
    for (size_t i = 0; i < s->n_recv; i++)
        if (s->recv[i].id == id)
            return &s->recv[i];
    return NULL;
}

/* Takes stream `st` out of the table; *delta loses its bytes unless they
 * stay held for a request now complete (`complete`). */
static void drop(h2scan_t *s, h2scan_stream_t *st, bool complete, long long *delta, uint64_t now)
{
    if (complete) {
        s->awaiting++;
        s->last_progress = now;
    } else {
        size_t h = h2scan_held(st->bytes);
        s->held -= h;
        *delta -= (long long)h;
    }
    *st = s->recv[--s->n_recv];
}

static h2scan_verdict_t on_headers(h2scan_t *s, const h2scan_limits_t *lim, uint8_t flags,
                                   uint32_t id, uint64_t now, long long *delta)
{
    if (id == 0 || (id & 1) == 0)
        return H2SCAN_OK; /* a protocol error libh2o ends the connection for */
    s->last_request = now;
    if (id <= s->max_id) {
        h2scan_stream_t *st = find(s, id);
        if (st && (flags & F_END_STREAM))
            drop(s, st, true, delta, now); /* trailers end the body */
        return H2SCAN_OK;
    }
    s->max_id = id;
    if (s->n_recv + s->awaiting >= lim->max_streams)
        return H2SCAN_STREAMS;
    if (flags & F_END_STREAM) {
        s->awaiting++;
        s->last_progress = now;
    } else {
        s->recv[s->n_recv++] = (h2scan_stream_t){id, 0, now};
    }
    return H2SCAN_OK;
}

static void on_data(h2scan_t *s, const h2scan_limits_t *lim, uint8_t flags, uint32_t id,
                    const uint8_t *p, size_t flen, uint64_t now, long long *delta,
                    unsigned *too_large)
{
    size_t n = flen;
    if (flags & F_PADDED) {
        if (flen < 1 || (size_t)p[0] >= flen)
            return; /* a protocol error libh2o ends the connection for */
        n = flen - 1 - p[0];
    }
    h2scan_stream_t *st = find(s, id);
    if (!st)
        return;
    s->last_request = now;
    size_t before = h2scan_held(st->bytes);
    if (st->bytes + n > lim->max_body) {
        ++*too_large; /* libh2o resets the stream and frees its body */
        drop(s, st, false, delta, now);
        return;
    }
    st->bytes += n;
    size_t after = h2scan_held(st->bytes);
    s->held += after - before;
    *delta += (long long)(after - before);
    if (flags & F_END_STREAM)
        drop(s, st, true, delta, now);
}

static h2scan_verdict_t on_frame(h2scan_t *s, const h2scan_limits_t *lim, const uint8_t *f,
                                 uint64_t now, long long *delta, unsigned *too_large)
{
    size_t flen = ((size_t)f[0] << 16) | ((size_t)f[1] << 8) | f[2];
    uint8_t type = f[3], flags = f[4];
    uint32_t id = (((uint32_t)f[5] << 24) | ((uint32_t)f[6] << 16) | ((uint32_t)f[7] << 8) | f[8]) &
                  0x7fffffffu;
    switch (type) {
    case T_HEADERS:
        return on_headers(s, lim, flags, id, now, delta);
    case T_DATA:
        on_data(s, lim, flags, id, f + FRAME_HEADER, flen, now, delta, too_large);
        return H2SCAN_OK;
    case T_RST_STREAM: {
        if (++s->resets > lim->max_resets)
            return H2SCAN_RESETS;
        h2scan_stream_t *st = find(s, id);
        if (st)
            drop(s, st, false, delta, now);
        return H2SCAN_OK;
    }
    case T_PING:
    case T_SETTINGS:
        if (!(flags & F_ACK) && ++s->controls > lim->max_controls)
            return H2SCAN_FLOOD;
        return H2SCAN_OK;
    default:
        return H2SCAN_OK;
    }
}

h2scan_verdict_t h2scan_input(h2scan_t *s, const h2scan_limits_t *lim, const uint8_t *in,
                              size_t len, uint64_t now, long long *held_delta, unsigned *too_large)
{
    *held_delta = 0;
    *too_large = 0;
    size_t off = 0;
    if (!s->preface_done) {
        if (len < PREFACE_LEN)
            return H2SCAN_OK;
        s->preface_done = true;
        off = PREFACE_LEN;
    }
    if (now - s->window_start >= WINDOW_MS) {
        s->window_start = now;
        s->resets = s->controls = 0;
    }
    while (len - off >= FRAME_HEADER) {
        const uint8_t *f = in + off;
        size_t flen = ((size_t)f[0] << 16) | ((size_t)f[1] << 8) | f[2];
        if (flen > MAX_FRAME || len - off - FRAME_HEADER < flen)
            break; /* too large: libh2o closes the connection; short: not complete yet */
        h2scan_verdict_t v = on_frame(s, lim, f, now, held_delta, too_large);
        if (v != H2SCAN_OK)
            return v;
        off += FRAME_HEADER + flen;
    }
    return H2SCAN_OK;
}

size_t h2scan_stream_done(h2scan_t *s, size_t body_len, uint64_t now)
{
    if (s->awaiting > 0)
        s->awaiting--;
    s->last_progress = now;
    size_t h = h2scan_held(body_len);
    if (h > s->held)
        h = s->held;
    s->held -= h;
    return h;
}

h2scan_verdict_t h2scan_check(const h2scan_t *s, const h2scan_limits_t *lim, uint64_t now)
{
    for (size_t i = 0; i < s->n_recv; i++)
        if (now - s->recv[i].since > lim->body_timeout_ms)
            return H2SCAN_BODY_TIMEOUT;
    uint64_t last = s->last_request > s->last_progress ? s->last_request : s->last_progress;
    if (s->n_recv == 0 && s->awaiting == 0 && now - last > lim->idle_timeout_ms)
        return H2SCAN_IDLE;
    if (s->awaiting > 0 && now - s->last_progress > lim->answer_timeout_ms)
        return H2SCAN_STUCK;
    return H2SCAN_OK;
}
