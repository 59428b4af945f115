/* k8sname: RFC 1123 names as Kubernetes validates them (see k8sname.h). */
#include "k8sname.h"

bool k8s_dns_label(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && i > 0 && i + 1 < n))
            return false;
    }
    return true;
}

bool k8s_dns_subdomain(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!k8s_dns_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}
