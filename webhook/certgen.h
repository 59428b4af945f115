/* certgen: the `certgen` command, run by the chart's hook Jobs
 * (certificates.mode: job) so that no key material is rendered by Helm.
 *
 * It keeps the kubernetes.io/tls Secret of the webhook's serving
 * certificate (tls.crt, tls.key, ca.crt): the Secret is created when it is
 * absent and replaced by a new CA and certificate when its certificate
 * does not parse, does not match its key or CA, does not name the Service
 * or expires within 30 days; otherwise it is left alone, so a second run
 * changes nothing. With --webhook-configuration it then writes the
 * Secret's ca.crt into the caBundle of every webhook of that
 * MutatingWebhookConfiguration that does not hold it (a JSON Patch).
 *
 * A create that finds the Secret made meanwhile (409), an update that
 * finds it changed (409) and a patch whose webhooks moved (409, or 422 for
 * a failed `test`) read the object again and decide again, up to three
 * times. Every API call is bounded by --timeout-ms. The outcome is one line
 * on standard output; a failure is one line on standard error and a
 * non-zero exit (1; 2 for a usage error). */
#ifndef WH_CERTGEN_H
#define WH_CERTGEN_H

#define CERTGEN_RENEW_DAYS 30 /* a certificate expiring sooner is replaced */

/* Runs `certgen` with the arguments after the command name; the exit code. */
int certgen_main(int argc, char **argv);

#endif
