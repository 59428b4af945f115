/* nsanswer: the namespace API's answer read as present/absent/failed (see nsanswer.h). */
#include "nsanswer.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "errmsg.h"

check_answer_t nsanswer_read(long status, const char *body, size_t len, const char *ns,
                             const char *note, char *detail, size_t dsz)
{
    if (status == 404) {
        errmsg_set(detail, dsz, "HTTP 404: namespace %s does not exist", ns);
        return CHECK_ABSENT;
    }
    if (status != 200) {
        errmsg_set(detail, dsz, "API answered HTTP %ld%s%s%s", status,
                   status == 401 || status == 403
                       ? " (RBAC: the service account needs get on namespaces)"
                       : "",
                   note && note[0] ? "; " : "", note ? note : "");
        return CHECK_FAILED;
    }
    check_answer_t ans = CHECK_FAILED;
    cJSON *root = cJSON_ParseWithLength(body ? body : "", len);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
    if (cJSON_IsString(kind) && strcmp(kind->valuestring, "Namespace") == 0 &&
        cJSON_IsString(name) && strcmp(name->valuestring, ns) == 0) {
        ans = CHECK_PRESENT;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(st, "phase");
        errmsg_set(detail, dsz, "HTTP 200, namespace %s%s", ns,
                   cJSON_IsString(ph) && strcmp(ph->valuestring, "Terminating") == 0
                       ? " (terminating)"
                       : "");
    } else {
        errmsg_set(detail, dsz, "HTTP 200 but the body is not the Namespace %s", ns);
    }
    cJSON_Delete(root);
    return ans;
}
