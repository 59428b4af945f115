/* fuzz_jsonscan: the strict JSON scanner. Whatever the bytes, it answers
 * within them: offsets inside the text, one-line paths that fit; on
 * success the ranges it gives are valid JSON values by themselves, in
 * order, inside the top-level value; a duplicate's path ends with its
 * name. When cJSON also reads the text, json_count_values is at least the
 * number of nodes cJSON made (the bound the admission path relies on). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzzutil.h"
#include "jsonscan.h"

#define MAX_ELEMS 16

static size_t count_nodes(const cJSON *n)
{
    size_t k = 0;
    for (; n; n = n->next)
        k += 1 + count_nodes(n->child);
    return k;
}

static void check_ok(const char *s, size_t size, const jsonscan_result_t *r,
                     const jsonscan_range_t *el)
{
    FUZZ_CHECK(r->value.len > 0 && r->value.off + r->value.len <= size);
    FUZZ_CHECK(r->is_array == (s[r->value.off] == '['));
    FUZZ_CHECK(r->is_array || r->n_elems == 0);
    size_t prev_end = r->value.off + 1;
    for (size_t i = 0; i < r->n_elems && i < MAX_ELEMS; i++) {
        FUZZ_CHECK(el[i].off >= prev_end && el[i].len > 0);
        FUZZ_CHECK(el[i].off + el[i].len < r->value.off + r->value.len);
        prev_end = el[i].off + el[i].len;
        jsonscan_result_t sub;
        FUZZ_CHECK(jsonscan(s + el[i].off, el[i].len, NULL, 0, &sub) == JSONSCAN_OK);
        FUZZ_CHECK(sub.value.off == 0 && sub.value.len == el[i].len);
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, size, &end, false);
    if (root) {
        FUZZ_CHECK(count_nodes(root) <= json_count_values(s, size));
        cJSON_Delete(root);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_copy(data, size);
    jsonscan_range_t el[MAX_ELEMS];
    jsonscan_result_t r;
    jsonscan_status_t st = jsonscan(s, size, el, MAX_ELEMS, &r);
    FUZZ_CHECK(st == r.status);
    FUZZ_CHECK(memchr(r.path, '\0', sizeof r.path) != NULL);
    FUZZ_CHECK(memchr(r.name, '\0', sizeof r.name) != NULL);
    FUZZ_CHECK(strchr(r.path, '\n') == NULL);
    switch (st) {
    case JSONSCAN_OK:
        check_ok(s, size, &r, el);
        break;
    case JSONSCAN_DUPLICATE: {
        FUZZ_CHECK(r.offset < size);
        size_t pn = strlen(r.path), nn = strlen(r.name);
        /* the path ends with the name (whole when it is short) */
        if (nn <= 40)
            FUZZ_CHECK(pn >= nn && memcmp(r.path + pn - nn, r.name, nn) == 0);
        break;
    }
    default:
        FUZZ_CHECK(r.offset <= size);
        break;
    }
    (void)json_count_values(s, size);
    free(s);
    return 0;
}
