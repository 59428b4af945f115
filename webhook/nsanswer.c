/* nsanswer: the namespace API's answer read as present/absent/failed (see nsanswer.h). */
#include "nsanswer.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "errmsg.h"

void nsanswer_parse(long status, const char *body, size_t len, const char *ns, const char *note,
                    nsanswer_t *out)
{
    memset(out, 0, sizeof *out);
    out->answer = CHECK_FAILED;
    if (status == 404) {
        out->answer = CHECK_ABSENT;
        errmsg_set(out->detail, sizeof out->detail, "HTTP 404: namespace %s does not exist", ns);
        return;
    }
    bool rbac = status == 401 || status == 403;
    if (status != 200) {
        errmsg_set(out->detail, sizeof out->detail, "API answered HTTP %ld%s%s%s", status,
                   rbac ? " (RBAC: the service account needs get on namespaces)" : "",
                   note && note[0] ? "; " : "", note ? note : "");
        errmsg_set(out->reason, sizeof out->reason, "API answered %ld%s", status,
                   rbac ? " (RBAC)" : "");
        return;
    }
    cJSON *root = cJSON_ParseWithLength(body ? body : "", len);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
    if (cJSON_IsString(kind) && strcmp(kind->valuestring, "Namespace") == 0 &&
        cJSON_IsString(name) && strcmp(name->valuestring, ns) == 0) {
        out->answer = CHECK_PRESENT;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "status");
        const cJSON *ph = cJSON_GetObjectItemCaseSensitive(st, "phase");
        out->terminating = cJSON_IsString(ph) && strcmp(ph->valuestring, "Terminating") == 0;
        errmsg_set(out->detail, sizeof out->detail, "HTTP 200, namespace %s%s", ns,
                   out->terminating ? " (terminating)" : "");
    } else {
        errmsg_set(out->detail, sizeof out->detail, "HTTP 200 but the body is not the Namespace %s",
                   ns);
        errmsg_set(out->reason, sizeof out->reason, "unexpected API answer");
    }
    cJSON_Delete(root);
}

check_answer_t nsanswer_read(long status, const char *body, size_t len, const char *ns,
                             const char *note, char *detail, size_t dsz)
{
    nsanswer_t a;
    nsanswer_parse(status, body, len, ns, note, &a);
    errmsg_set(detail, dsz, "%s", a.detail);
    return a.answer;
}
