/* k8sname: Kubernetes object-name grammars (RFC 1123 DNS labels and
 * subdomains), shared by the configuration checks, the namespace check
 * and anything else that validates a name the API server will judge. */
#ifndef WH_K8SNAME_H
#define WH_K8SNAME_H

#include <stdbool.h>
#include <stddef.h>

/* A DNS label (namespace names, Service names): 1-63 of [a-z0-9-],
 * starting and ending with [a-z0-9]. */
bool k8s_dns_label(const char *s, size_t n);

/* A DNS subdomain (ConfigMap and most object names): at most 253
 * characters, dot-separated DNS labels. */
bool k8s_dns_subdomain(const char *s, size_t n);

#endif
