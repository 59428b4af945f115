/* jsonscan: a strict reader of JSON text (RFC 8259) that builds no tree.
 *
 * It answers what cJSON cannot: whether a member name appears twice in one
 * object (at any depth, names compared after unescaping, as every reader
 * that keeps "the last one" compares them), whether a string holds U+0000
 * (which cJSON silently cuts strings at), and the exact byte range of the
 * top-level value and of each element of a top-level array, so that the
 * text can be handed on byte for byte instead of re-printed. It also
 * refuses what RFC 8259 does not allow and lenient readers let through:
 * leading zeros, "1." or ".5", unpaired surrogate escapes, control
 * characters in strings, invalid UTF-8, blanks other than the four of JSON.
 *
 * Pure. Time linear in the text, apart from sorting the names of each
 * object when it closes; memory: the nesting stack and the names of the
 * objects still open. Also json_count_values(), a cheap bound of how many
 * values a text holds, for refusing a text before a tree is built. */
#ifndef WH_JSONSCAN_H
#define WH_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSONSCAN_MAX_DEPTH 1000 /* the same nesting limit as cJSON's */
#define JSONSCAN_PATH_MAX  160

typedef enum {
    JSONSCAN_OK = 0,
    JSONSCAN_SYNTAX,    /* not JSON text: `offset` is the first byte that cannot be read */
    JSONSCAN_DEPTH,     /* nested deeper than JSONSCAN_MAX_DEPTH */
    JSONSCAN_DUPLICATE, /* a member name given twice in one object: `path` ends with it */
    JSONSCAN_NUL,       /* a string (member name or value) holds \u0000: `path` names it */
    JSONSCAN_OOM,
} jsonscan_status_t;

typedef struct {
    size_t off, len;
} jsonscan_range_t;

typedef struct {
    jsonscan_status_t status;
    size_t offset; /* where the problem is (the later of two duplicate names) */
    /* Where, from the top: member names as written (without quotes) and
     * array indexes, e.g. "[1].builder_options.imagepull_secret_name";
     * "" for the top-level value itself. Long paths are cut with "...". */
    char path[JSONSCAN_PATH_MAX];
    char name[64];          /* JSONSCAN_DUPLICATE: the name given twice, as written (cut) */
    jsonscan_range_t value; /* JSONSCAN_OK: the top-level value, blanks around it left out */
    bool is_array;          /* the top-level value is an array */
    size_t n_elems;         /* its number of elements */
} jsonscan_result_t;

/* Scans text[0..len) (no NUL terminator needed). The first `max_elems`
 * elements of a top-level array get their ranges in `elems` (which may be
 * NULL when max_elems is 0); n_elems counts them all. */
jsonscan_status_t jsonscan(const char *text, size_t len, jsonscan_range_t *elems, size_t max_elems,
                           jsonscan_result_t *out);

/* "not JSON text", "nested too deeply", ... for messages. */
const char *jsonscan_strerror(jsonscan_status_t st);

/* At least the number of values in text[0..len) when it is JSON text (one
 * more than the brackets and commas outside strings); for any bytes, a
 * number the scan makes in one pass without allocating. */
size_t json_count_values(const char *text, size_t len);

#endif
