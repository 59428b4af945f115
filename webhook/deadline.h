/* deadline: how long a request's live checks may take. Pure.
 *
 * kube-apiserver gives up on a webhook call after the webhook's
 * timeoutSeconds and tells the webhook so in the request's query
 * (`?timeout=10s`, a Go duration). The checks of a request must be done
 * before that, and before the webhook's own bound on a request
 * (webhook.requestTimeoutMs), whatever their own timeoutMs says; the
 * shell counts the result from the request's arrival. */
#ifndef WH_DEADLINE_H
#define WH_DEADLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads a Go duration (time.ParseDuration's syntax: "10s", "1m30s",
 * "500ms", "1.5s", "2h45m", "0"; units ns, us, µs, μs, ms, s, m, h) of
 * exactly n bytes, in whole milliseconds (rounded down). False for
 * anything else: an empty string, a missing unit, unknown units, a
 * negative duration, trailing bytes, or more than Go's largest duration. */
bool deadline_parse_duration(const char *s, size_t n, uint64_t *ms);

/* The `timeout` parameter of a URL query (the bytes after '?'; n bytes),
 * percent-decoded and read as a Go duration. False when the query has no
 * such parameter or its value is not a duration (the first one counts). */
bool deadline_query_timeout(const char *query, size_t n, uint64_t *ms);

/* The part of kube-apiserver's timeout the checks may use: the rest is a
 * safety margin for the answer's way back and the clocks' differences.
 * The margin is a tenth of the timeout, but at least 500 ms (half the
 * timeout below 1 s): 10 s -> 9 s, 2 s -> 1.5 s, 1 s -> 500 ms. */
uint64_t deadline_api_share_ms(uint64_t api_timeout_ms);

/* The smallest of the checks' own limit, the share of kube-apiserver's
 * timeout (api_timeout_ms 0: none was sent; its clients never send a zero
 * timeout, which means "no limit" to them) and the webhook's request bound
 * (request_timeout_ms 0: none). */
uint64_t deadline_budget_ms(uint64_t checks_ms, uint64_t api_timeout_ms,
                            uint64_t request_timeout_ms);

#endif
