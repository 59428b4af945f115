/* h2scan: what one HTTP/2 client connection is doing, read from the frames
 * it sends, before libh2o parses them.
 *
 * libh2o 2.2 has no hook to bound a connection's streams, resets or body
 * bytes, so the server reads the decrypted input itself (frame headers
 * only; HPACK is never decoded) and keeps these counts per connection:
 * - streams whose request body is still arriving (a small table, at most
 *   maxConcurrentStreams entries) and streams whose request is complete
 *   but whose answer is not gone yet;
 * - RST_STREAM, PING and SETTINGS frames per one-second window;
 * - body bytes held, as libh2o's buffers hold them (a power of two, at
 *   least 8 KiB per stream).
 * Pure: times are passed in, in milliseconds of any monotonic clock. */
#ifndef WH_H2SCAN_H
#define WH_H2SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned max_streams;       /* streams open at once: receiving + awaiting their answer */
    unsigned max_resets;        /* RST_STREAM frames per second */
    unsigned max_controls;      /* PING and SETTINGS frames (not ACKs) per second */
    size_t max_body;            /* webhook.maxRequestBytes: libh2o refuses a longer body */
    uint64_t body_timeout_ms;   /* a request body must be complete this long after HEADERS */
    uint64_t idle_timeout_ms;   /* none open, no request nor answer for this long: idle */
    uint64_t answer_timeout_ms; /* answers pending and none taken for this long: stuck */
} h2scan_limits_t;

typedef struct {
    uint32_t id;
    size_t bytes;   /* DATA payload so far */
    uint64_t since; /* when its HEADERS came */
} h2scan_stream_t;

typedef struct {
    bool preface_done;
    uint32_t max_id;       /* highest stream the client opened */
    h2scan_stream_t *recv; /* streams whose body is arriving (max_streams slots) */
    size_t n_recv;
    size_t awaiting;           /* complete requests whose stream is not closed yet */
    size_t held;               /* body bytes held, as counted against the budget */
    uint64_t window_start;     /* start of the current one-second window */
    unsigned resets, controls; /* in the current window */
    uint64_t last_request;     /* last HEADERS or DATA of a request */
    uint64_t last_progress;    /* last request completed or answered */
} h2scan_t;

typedef enum {
    H2SCAN_OK = 0,
    H2SCAN_STREAMS,      /* more streams open than max_streams */
    H2SCAN_RESETS,       /* more RST_STREAM in a second than max_resets */
    H2SCAN_FLOOD,        /* more PING/SETTINGS in a second than max_controls */
    H2SCAN_BODY_TIMEOUT, /* a body not complete within body_timeout_ms */
    H2SCAN_IDLE,         /* nothing open, no request for idle_timeout_ms */
    H2SCAN_STUCK,        /* answers pending, none taken for answer_timeout_ms */
} h2scan_verdict_t;

/* `recv` must have room for limits->max_streams entries; zeroes the rest. */
void h2scan_init(h2scan_t *s, h2scan_stream_t *recv, uint64_t now);

/* Reads the complete frames at the start of in[0..len) (what libh2o will
 * parse next; an incomplete frame at the end is left for the next call)
 * and updates the counts. *held_delta: change of s->held (may be
 * negative); *too_large: bodies that passed max_body (libh2o refuses
 * them). A verdict other than OK means: close the connection. */
h2scan_verdict_t h2scan_input(h2scan_t *s, const h2scan_limits_t *lim, const uint8_t *in,
                              size_t len, uint64_t now, long long *held_delta, unsigned *too_large);

/* One complete request's stream ended (its answer was sent or it was
 * reset) with a body of `body_len` bytes; returns the bytes to release. */
size_t h2scan_stream_done(h2scan_t *s, size_t body_len, uint64_t now);

/* The periodic check: a stalled body, an idle or a stuck connection. */
h2scan_verdict_t h2scan_check(const h2scan_t *s, const h2scan_limits_t *lim, uint64_t now);

/* Bytes libh2o holds for a request body of `n` bytes (0 for none). */
size_t h2scan_held(size_t n);

#endif
