/* jsonout: JSON text written straight into a buffer, for the answers the
 * webhook builds (the JSON Patch, the AdmissionReview response, the build
 * container). The one place that escapes a string for JSON output, exactly
 * as cJSON's printer does, so that text written here is byte for byte what
 * printing a cJSON tree of the same values gives. Pure: no I/O. */
#ifndef WH_JSONOUT_H
#define WH_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends s[0..n) escaped as the inside of a JSON string (no quotes):
 * '"' and '\\' get a backslash; backspace, form feed, newline, carriage
 * return and tab their short escapes; every other byte below 0x20 (NUL
 * included) "\u00xx" with lowercase hex digits; every other byte, UTF-8 or
 * not, is copied as it is. Runs of bytes that need no escape are copied at
 * once. False when out of memory (b->oom). */
bool json_put_chars(buf_t *b, const char *s, size_t n);

/* Appends s[0..n) as a JSON string literal: json_put_chars between double
 * quotes. */
bool json_put_string(buf_t *b, const char *s, size_t n);

/* json_put_string of the NUL-terminated `s`. */
bool json_put_str(buf_t *b, const char *s);

#endif
