/* Tests for h2scan: the counts the server keeps from a client's HTTP/2
 * frames - streams open, resets and control frames per second, body bytes
 * held, and the periodic verdicts. Frames are built byte by byte here. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "h2scan.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

typedef struct {
    uint8_t b[1 << 16];
    size_t n;
} wire_t;

static void frame(wire_t *w, uint8_t type, uint8_t flags, uint32_t id, const uint8_t *p, size_t len)
{
    uint8_t *h = w->b + w->n;
    h[0] = (uint8_t)(len >> 16);
    h[1] = (uint8_t)(len >> 8);
    h[2] = (uint8_t)len;
    h[3] = type;
    h[4] = flags;
    h[5] = (uint8_t)(id >> 24);
    h[6] = (uint8_t)(id >> 16);
    h[7] = (uint8_t)(id >> 8);
    h[8] = (uint8_t)id;
    if (len)
        memcpy(h + 9, p, len);
    w->n += 9 + len;
}

static uint8_t zeros[16384];

#define HEADERS(w, id, fl) frame(w, 1, 0x4 | (fl), id, (const uint8_t *)"\x82", 1)
#define DATA(w, id, n, fl) frame(w, 0, fl, id, zeros, n)
#define RST(w, id)         frame(w, 3, 0, id, (const uint8_t *)"\0\0\0\x8", 4)
#define PING(w, fl)        frame(w, 6, fl, 0, zeros, 8)

static h2scan_limits_t lim = {.max_streams = 4,
                              .max_resets = 3,
                              .max_controls = 5,
                              .max_body = 40000,
                              .body_timeout_ms = 1000,
                              .idle_timeout_ms = 2000,
                              .answer_timeout_ms = 3000};

static h2scan_verdict_t feed(h2scan_t *s, wire_t *w, uint64_t now, long long *delta, unsigned *big)
{
    h2scan_verdict_t v = h2scan_input(s, &lim, w->b, w->n, now, delta, big);
    w->n = 0;
    return v;
}

START_TEST(held_is_a_power_of_two)
{
    ck_assert_uint_eq(h2scan_held(0), 0);
    ck_assert_uint_eq(h2scan_held(1), 8192);
    ck_assert_uint_eq(h2scan_held(8192), 8192);
    ck_assert_uint_eq(h2scan_held(8193), 16384);
    ck_assert_uint_eq(h2scan_held(3u << 20), 4u << 20);
}
END_TEST

START_TEST(preface_then_streams_bodies_and_answers)
{
    h2scan_stream_t slots[4];
    h2scan_t s;
    h2scan_init(&s, slots, 100);
    long long d;
    unsigned big;
    wire_t *w = calloc(1, sizeof *w);
    /* half a preface: nothing read yet */
    memcpy(w->b, preface, 10);
    w->n = 10;
    ck_assert_int_eq(h2scan_input(&s, &lim, w->b, w->n, 100, &d, &big), H2SCAN_OK);
    ck_assert(!s.preface_done);
    memcpy(w->b, preface, 24);
    w->n = 24;
    HEADERS(w, 1, 0);     /* a body follows */
    DATA(w, 1, 10000, 0); /* 10000 bytes: held 16 KiB */
    HEADERS(w, 3, 0x1);   /* no body: awaiting its answer */
    ck_assert_int_eq(feed(&s, w, 200, &d, &big), H2SCAN_OK);
    ck_assert(s.preface_done);
    ck_assert_uint_eq(s.n_recv, 1);
    ck_assert_uint_eq(s.awaiting, 1);
    ck_assert_int_eq(d, 16384);
    ck_assert_uint_eq(s.held, 16384);
    /* the end of stream 1's body: complete, still held until answered */
    DATA(w, 1, 100, 0x1);
    ck_assert_int_eq(feed(&s, w, 300, &d, &big), H2SCAN_OK);
    ck_assert_uint_eq(s.n_recv, 0);
    ck_assert_uint_eq(s.awaiting, 2);
    ck_assert_int_eq(d, 0);
    ck_assert_uint_eq(h2scan_stream_done(&s, 0, 400), 0);
    ck_assert_uint_eq(h2scan_stream_done(&s, 10100, 400), 16384);
    ck_assert_uint_eq(s.awaiting, 0);
    ck_assert_uint_eq(s.held, 0);
    /* an incomplete frame is left for later */
    DATA(w, 5, 100, 0);
    ck_assert_int_eq(h2scan_input(&s, &lim, w->b, w->n - 1, 500, &d, &big), H2SCAN_OK);
    free(w);
}
END_TEST

START_TEST(streams_over_the_limit)
{
    h2scan_stream_t slots[4];
    h2scan_t s;
    h2scan_init(&s, slots, 0);
    s.preface_done = true;
    long long d;
    unsigned big;
    wire_t *w = calloc(1, sizeof *w);
    for (uint32_t id = 1; id <= 7; id += 2)
        HEADERS(w, id, 0);
    ck_assert_int_eq(feed(&s, w, 10, &d, &big), H2SCAN_OK);
    ck_assert_uint_eq(s.n_recv, 4);
    HEADERS(w, 9, 0x1);
    ck_assert_int_eq(feed(&s, w, 20, &d, &big), H2SCAN_STREAMS);
    /* a reset frees a slot (and counts as a reset) */
    h2scan_init(&s, slots, 0);
    s.preface_done = true;
    for (uint32_t id = 1; id <= 7; id += 2)
        HEADERS(w, id, 0);
    RST(w, 3);
    HEADERS(w, 9, 0);
    ck_assert_int_eq(feed(&s, w, 10, &d, &big), H2SCAN_OK);
    ck_assert_uint_eq(s.n_recv, 4);
    free(w);
}
END_TEST

START_TEST(rapid_reset_and_ping_flood)
{
    h2scan_stream_t slots[4];
    h2scan_t s;
    h2scan_init(&s, slots, 0);
    s.preface_done = true;
    long long d;
    unsigned big;
    wire_t *w = calloc(1, sizeof *w);
    for (uint32_t id = 1; id <= 5; id += 2) {
        HEADERS(w, id, 0);
        RST(w, id);
    }
    ck_assert_int_eq(feed(&s, w, 10, &d, &big), H2SCAN_OK);
    ck_assert_uint_eq(s.n_recv, 0);
    /* the fourth reset in the same second */
    HEADERS(w, 7, 0);
    RST(w, 7);
    ck_assert_int_eq(feed(&s, w, 900, &d, &big), H2SCAN_RESETS);
    /* a new second starts the count again */
    h2scan_init(&s, slots, 0);
    s.preface_done = true;
    for (int i = 0; i < 3; i++)
        RST(w, 1);
    ck_assert_int_eq(feed(&s, w, 10, &d, &big), H2SCAN_OK);
    for (int i = 0; i < 3; i++)
        RST(w, 1);
    ck_assert_int_eq(feed(&s, w, 1500, &d, &big), H2SCAN_OK);
    /* PINGs: ACKs are free, five a second allowed */
    for (int i = 0; i < 20; i++)
        PING(w, 0x1);
    for (int i = 0; i < 5; i++)
        PING(w, 0);
    ck_assert_int_eq(feed(&s, w, 1600, &d, &big), H2SCAN_OK);
    PING(w, 0);
    ck_assert_int_eq(feed(&s, w, 1700, &d, &big), H2SCAN_FLOOD);
    free(w);
}
END_TEST

START_TEST(bodies_past_the_limit_are_refused_and_released)
{
    h2scan_stream_t slots[4];
    h2scan_t s;
    h2scan_init(&s, slots, 0);
    s.preface_done = true;
    long long d;
    unsigned big;
    wire_t *w = calloc(1, sizeof *w);
    HEADERS(w, 1, 0);
    DATA(w, 1, 16384, 0);
    DATA(w, 1, 16384, 0);
    ck_assert_int_eq(feed(&s, w, 10, &d, &big), H2SCAN_OK);
    ck_assert_int_eq(d, 32768);
    DATA(w, 1, 16384, 0); /* 49152 > 40000 */
    ck_assert_int_eq(feed(&s, w, 20, &d, &big), H2SCAN_OK);
    ck_assert_uint_eq(big, 1);
    ck_assert_int_eq(d, -32768);
    ck_assert_uint_eq(s.held, 0);
    ck_assert_uint_eq(s.n_recv, 0);
    /* padding is not body */
    HEADERS(w, 3, 0);
    uint8_t padded[101] = {50};
    frame(w, 0, 0x8, 3, padded, sizeof padded);
    ck_assert_int_eq(feed(&s, w, 30, &d, &big), H2SCAN_OK);
    ck_assert_uint_eq(s.recv[0].bytes, 50);
    free(w);
}
END_TEST

START_TEST(periodic_verdicts)
{
    h2scan_stream_t slots[4];
    h2scan_t s;
    h2scan_init(&s, slots, 0);
    s.preface_done = true;
    long long d;
    unsigned big;
    wire_t *w = calloc(1, sizeof *w);
    /* idle: nothing open and no request for 2 s, whatever PINGs come */
    PING(w, 0);
    ck_assert_int_eq(feed(&s, w, 1500, &d, &big), H2SCAN_OK);
    ck_assert_int_eq(h2scan_check(&s, &lim, 1999), H2SCAN_OK);
    ck_assert_int_eq(h2scan_check(&s, &lim, 2001), H2SCAN_IDLE);
    /* a body that stalls */
    HEADERS(w, 1, 0);
    DATA(w, 1, 10, 0);
    ck_assert_int_eq(feed(&s, w, 3000, &d, &big), H2SCAN_OK);
    ck_assert_int_eq(h2scan_check(&s, &lim, 3900), H2SCAN_OK);
    ck_assert_int_eq(h2scan_check(&s, &lim, 4001), H2SCAN_BODY_TIMEOUT);
    /* an answer that is never taken */
    DATA(w, 1, 10, 0x1);
    ck_assert_int_eq(feed(&s, w, 3500, &d, &big), H2SCAN_OK);
    ck_assert_int_eq(h2scan_check(&s, &lim, 6400), H2SCAN_OK);
    ck_assert_int_eq(h2scan_check(&s, &lim, 6501), H2SCAN_STUCK);
    h2scan_stream_done(&s, 20, 6600);
    ck_assert_int_eq(h2scan_check(&s, &lim, 7000), H2SCAN_OK);
    free(w);
}
END_TEST

Suite *suite_h2scan(void)
{
    Suite *s = suite_create("h2scan");
    TCase *tc = tcase_create("h2scan");
    tcase_add_test(tc, held_is_a_power_of_two);
    tcase_add_test(tc, preface_then_streams_bodies_and_answers);
    tcase_add_test(tc, streams_over_the_limit);
    tcase_add_test(tc, rapid_reset_and_ping_flood);
    tcase_add_test(tc, bodies_past_the_limit_are_refused_and_released);
    tcase_add_test(tc, periodic_verdicts);
    suite_add_tcase(s, tc);
    return s;
}
