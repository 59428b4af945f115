/* fuzz_yamldoc: the YAML tree reader and its JSON conversion. Limits are
 * small here so that the depth and node bounds are reached often. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzzutil.h"
#include "yamldoc.h"

static size_t count_nodes(const ynode_t *n, size_t depth, size_t max_depth)
{
    FUZZ_CHECK(depth <= max_depth + 1);
    FUZZ_CHECK(n->line >= 1 && n->col >= 1);
    size_t total = 1;
    if (n->kind == YNODE_SCALAR || n->kind == YNODE_ALIAS) {
        FUZZ_CHECK(n->str != NULL && n->items == NULL);
        (void)ydoc_scalar_kind(n, NULL, NULL, NULL);
        return total;
    }
    size_t k = n->kind == YNODE_MAP ? 2 * n->n : n->n;
    for (size_t i = 0; i < k; i++)
        total += count_nodes(n->items[i], depth + 1, max_depth);
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    ydoc_limits_t lim = {.max_depth = 16, .max_nodes = 2000};
    ydoc_error_t err;
    memset(&err, 0, sizeof err);
    ynode_t *doc = ydoc_parse(s, size, &lim, &err);
    if (doc) {
        size_t nodes = count_nodes(doc, 1, lim.max_depth);
        FUZZ_CHECK(nodes <= 2 * lim.max_nodes);
        (void)ydoc_get(doc, "imageBuilder");
        ydoc_error_t jerr;
        memset(&jerr, 0, sizeof jerr);
        cJSON *j = ydoc_to_json(doc, &jerr);
        if (j) {
            char *text = cJSON_PrintUnformatted(j);
            FUZZ_CHECK(text != NULL);
            cJSON *back = cJSON_Parse(text);
            FUZZ_CHECK(back != NULL);
            cJSON_Delete(back);
            cJSON_free(text);
            cJSON_Delete(j);
        } else {
            FUZZ_CHECK(memchr(jerr.msg, '\0', sizeof jerr.msg) && jerr.msg[0]);
        }
        ydoc_free(doc);
    } else {
        FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) && err.msg[0]);
    }
    free(s);
    return 0;
}
