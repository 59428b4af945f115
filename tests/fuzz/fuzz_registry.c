/* fuzz_registry: the registry host classifier and the authenticationType
 * reach rule. The input is split at its first '/' into host and path. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzzutil.h"
#include "registry.h"

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_dup(data, size);
    const char *slash = memchr(s, '/', size);
    size_t host_n = slash ? (size_t)(slash - s) : size;
    const char *path = slash ? slash + 1 : s + size;
    size_t path_n = slash ? size - host_n - 1 : 0;

    registry_info_t info;
    memset(&info, 0xA5, sizeof info);
    registry_classify(s, host_n, path, path_n, &info);
    FUZZ_CHECK(info.kind >= REGISTRY_OTHER && info.kind <= REGISTRY_ACR);
    FUZZ_CHECK(terminated(info.account, sizeof info.account));
    FUZZ_CHECK(terminated(info.region, sizeof info.region));
    FUZZ_CHECK(terminated(info.project, sizeof info.project));
    FUZZ_CHECK(terminated(info.acr_name, sizeof info.acr_name));
    FUZZ_CHECK(registry_kind_name(info.kind) != NULL);
    if (info.kind == REGISTRY_ECR)
        FUZZ_CHECK(strlen(info.account) == 12);

    /* Anchored matching: a host with a trailing label is never a cloud registry. */
    if (host_n > 0 && host_n < 200 && !memchr(s, ':', host_n)) {
        char longer[256];
        memcpy(longer, s, host_n);
        memcpy(longer + host_n, ".attacker.example", 17);
        registry_info_t other;
        registry_classify(longer, host_n + 17, path, path_n, &other);
        FUZZ_CHECK(other.kind == REGISTRY_OTHER);
    }

    for (int t = AUTH_NOOP; t <= AUTH_BASIC; t++) {
        bool with = registry_auth_reaches((auth_type_t)t, &info, true);
        bool without = registry_auth_reaches((auth_type_t)t, &info, false);
        if (t == AUTH_NOOP)
            FUZZ_CHECK(with && without);
        if (t == AUTH_BASIC)
            FUZZ_CHECK(with && !without);
        if (t == AUTH_AWS)
            FUZZ_CHECK(with == (info.kind == REGISTRY_ECR));
        if (t == AUTH_AZURE)
            FUZZ_CHECK(with == (info.kind == REGISTRY_ACR));
        if (t == AUTH_GOOGLE)
            FUZZ_CHECK(with == (info.kind == REGISTRY_GCR || info.kind == REGISTRY_GAR));
        FUZZ_CHECK(auth_type_reach((auth_type_t)t) != NULL);
        auth_type_t back;
        FUZZ_CHECK(auth_type_parse(auth_type_name((auth_type_t)t), &back) && (int)back == t);
    }
    auth_type_t parsed;
    if (auth_type_parse(s, &parsed))
        FUZZ_CHECK(strcmp(auth_type_name(parsed), s) == 0);
    free(s);
    return 0;
}
