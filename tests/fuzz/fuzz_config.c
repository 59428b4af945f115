/* fuzz_config: the configuration loader, YAML bytes in. A loaded config
 * has its invariants; a refused one has at least one error with text. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    config_errors_t errs;
    memset(&errs, 0, sizeof errs);
    wh_config_t *c = config_load_buffer("fuzz.yaml", s, size, &errs);
    if (c) {
        FUZZ_CHECK(c->server.path && c->server.path[0] == '/');
        FUZZ_CHECK(c->policy.production_namespace && c->policy.production_namespace[0]);
        bool found = false;
        for (size_t i = 0; i < c->policy.domains.n; i++)
            found |= strcmp(c->policy.domains.items[i], c->policy.production_domain) == 0;
        FUZZ_CHECK(found);
        FUZZ_CHECK(c->server.max_request_bytes >= 1024);
        FUZZ_CHECK(repo_layout_name(c->policy.layout) != NULL);
        config_free(c);
    } else {
        FUZZ_CHECK(errs.n > 0);
        for (size_t i = 0; i < errs.n; i++)
            FUZZ_CHECK(errs.items[i].msg && errs.items[i].msg[0]);
        buf_t b = BUF_INIT;
        FUZZ_CHECK(config_errors_format(&errs, &b));
        FUZZ_CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
        buf_free(&b);
    }
    config_errors_free(&errs);
    free(s);
    return 0;
}
