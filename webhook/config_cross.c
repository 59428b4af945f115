/* config_cross: the configuration's checks across keys (repository vs
 * authenticationType, production domain in domains, namespace template,
 * a builder exists, pod selection, TLS pair, metrics port, buffer budget),
 * each its own function, run after every key has been read. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "config_int.h"
#include "imageref.h"
#include "k8sname.h"
#include "registry.h"
#include "strlist.h"
#include "yamldoc.h"

/* ---- checks across keys ---------------------------------------------------- */

static const ynode_t *find(const ynode_t *root, const char *a, const char *b, const char *c3)
{
    const ynode_t *n = ydoc_get(root, a);
    if (n && b)
        n = ydoc_get(n, b);
    if (n && c3)
        n = ydoc_get(n, c3);
    return n;
}

/* Replaces every `pat` in `s` with `with`. */
static char *replace_all(const char *s, const char *pat, const char *with)
{
    buf_t b = BUF_INIT;
    size_t pl = strlen(pat);
    const char *p;
    while ((p = strstr(s, pat)) != NULL) {
        buf_append(&b, s, (size_t)(p - s));
        buf_puts(&b, with);
        s = p + pl;
    }
    buf_puts(&b, s);
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* defaultRepository against authenticationType: the configured credentials
 * must be able to push to the repository images are built into. */
static void cross_repository_auth(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (!x->repo_ok || !c->policy.default_repository[0])
        return;
    const char *host;
    size_t host_n;
    registry_info_t info;
    cfg_repo_host(c->policy.default_repository, &host, &host_n, &info);
    if (registry_auth_reaches(c->policy.auth, &info, true))
        return;
    const ynode_t *at = find(root, "imageBuilder", "defaultRepository", NULL);
    if (!at)
        at = find(root, "imageBuilder", "authenticationType", NULL);
    CFG_ERR(x, at,
            "imageBuilder.defaultRepository: %s is a %s repository, which "
            "authenticationType \"%s\" cannot log in to (it reaches %s); use such a "
            "repository or change imageBuilder.authenticationType",
            cfg_show(c->policy.default_repository, strlen(c->policy.default_repository)).s,
            registry_kind_name(info.kind), auth_type_name(c->policy.auth),
            auth_type_reach(c->policy.auth));
}

/* Not a check: basicAuth.registries, when not given, is the default
 * repository's host. */
static void default_basic_auth_registries(cfg_ctx_t *x, wh_config_t *c)
{
    if (!x->repo_ok || !c->policy.default_repository[0] || x->basic_set)
        return;
    const char *host;
    size_t host_n;
    registry_info_t info;
    cfg_repo_host(c->policy.default_repository, &host, &host_n, &info);
    char *h = cfg_dup(x, host, host_n);
    if (!h)
        return;
    const char *items[1] = {h};
    if (!strlist_set(&c->policy.basic_auth_registries, items, 1))
        x->oom = true;
    free(h);
}

/* productionDomain must be one of domains. */
static void cross_production_domain(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (!x->domains_ok || !x->prod_ok ||
        strlist_contains(&c->policy.domains, c->policy.production_domain))
        return;
    char *list = strlist_join(&c->policy.domains, ", ");
    if (!list)
        x->oom = true;
    const ynode_t *at = find(root, "imageBuilder", "productionDomain", NULL);
    if (!at)
        at = find(root, "imageBuilder", "domains", NULL);
    CFG_ERR(x, at,
            "imageBuilder.productionDomain: %s is not in imageBuilder.domains [%s]; "
            "add it to imageBuilder.domains or set productionDomain to one of them",
            cfg_show(c->policy.production_domain, strlen(c->policy.production_domain)).s,
            list ? list : "");
    free(list);
}

/* namespaceTemplate with buildProject and productionDomain must give a
 * valid namespace name: the production namespace, kept in the config. */
static void cross_namespace_template(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (!x->template_ok || !x->project_ok || !x->prod_ok)
        return;
    char *a = replace_all(c->policy.namespace_template, "{{ project }}", c->policy.build_project);
    char *ns = a ? replace_all(a, "{{ domain }}", c->policy.production_domain) : NULL;
    free(a);
    if (!ns) {
        x->oom = true;
        return;
    }
    if (k8s_dns_label(ns, strlen(ns))) {
        free(c->policy.production_namespace);
        c->policy.production_namespace = ns;
        return;
    }
    const ynode_t *at = find(root, "imageBuilder", "namespaceTemplate", NULL);
    if (!at)
        at = find(root, "imageBuilder", "buildProject", NULL);
    if (!at)
        at = find(root, "imageBuilder", "productionDomain", NULL);
    CFG_ERR(x, at,
            "imageBuilder.namespaceTemplate: it gives the namespace %s, which is not a "
            "valid namespace name; " LABEL_RULE,
            cfg_show(ns, strlen(ns)).s);
    free(ns);
}

/* Something must build the images: buildkitUri or the chart's buildkit
 * (buildkit.enabled), unless the webhook is disabled. */
static void cross_builder_exists(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (!c->policy.enabled || c->policy.buildkit_uri[0] != '\0' || c->policy.buildkit_enabled)
        return;
    const ynode_t *at = find(root, "imageBuilder", "buildkit", "enabled");
    if (!at)
        at = find(root, "imageBuilder", "buildkitUri", NULL);
    if (!at)
        at = ydoc_get(root, "imageBuilder");
    CFG_ERR(x, at,
            "imageBuilder.buildkit.enabled is false and imageBuilder.buildkitUri is empty, so "
            "nothing can build images; set buildkitUri (e.g. "
            "tcp://buildkitd.buildkit.svc.cluster.local:1234) or enable buildkit");
}

/* Selecting pods by logical registry needs a logical registry. */
static void cross_pod_selection(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (c->policy.pod_select != POD_SELECT_LOGICAL || c->policy.logical_registries.n > 0)
        return;
    CFG_ERR(x, find(root, "imageBuilder", "podSelection", NULL),
            "imageBuilder.podSelection is logicalRegistry but imageBuilder.logicalRegistries is "
            "empty, so no pod would be selected by its image; list a registry such as "
            "cr.union.ai or use podSelection: label");
}

/* TLS files come in pairs. */
static void cross_tls_pair(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    bool cert = c->server.tls_cert_file[0] != '\0', key = c->server.tls_key_file[0] != '\0';
    if (cert == key)
        return;
    const ynode_t *at = find(root, "webhook", "tls", cert ? "certFile" : "keyFile");
    CFG_ERR(x, at, "webhook.tls.%s is set but webhook.tls.%s is not; set both or neither",
            cert ? "certFile" : "keyFile", cert ? "keyFile" : "certFile");
}

/* Metrics on their own address. */
static void cross_metrics_port(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (c->server.metrics_listen[0] && strcmp(c->server.metrics_listen, c->server.listen) == 0)
        CFG_ERR(x, find(root, "webhook", "metricsListen", NULL),
                "webhook.metricsListen: %s is also webhook.listen; give metrics another port",
                cfg_show(c->server.metrics_listen, strlen(c->server.metrics_listen)).s);
}

/* One request of the largest size allowed must fit in the buffer budget. */
static void cross_buffer_budget(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    if (c->server.max_buffered_bytes >= c->server.max_request_bytes)
        return;
    const ynode_t *at = find(root, "webhook", "maxBufferedBytes", NULL);
    if (!at)
        at = find(root, "webhook", "maxRequestBytes", NULL);
    CFG_ERR(x, at,
            "webhook.maxBufferedBytes (%zu) is smaller than webhook.maxRequestBytes (%zu), so no "
            "request of the largest allowed size could be read; raise maxBufferedBytes",
            c->server.max_buffered_bytes, c->server.max_request_bytes);
}

void cfg_cross_checks(cfg_ctx_t *x, const ynode_t *root, wh_config_t *c)
{
    cross_repository_auth(x, root, c);
    default_basic_auth_registries(x, c);
    cross_production_domain(x, root, c);
    cross_namespace_template(x, root, c);
    cross_builder_exists(x, root, c);
    cross_pod_selection(x, root, c);
    cross_tls_pair(x, root, c);
    cross_metrics_port(x, root, c);
    cross_buffer_budget(x, root, c);
}
