{{/* Names, labels and the webhook's configuration file, shared by the templates. */}}

{{- define "imagebuilder-webhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "imagebuilder-webhook.fullname" -}}
{{- $name := include "imagebuilder-webhook.name" . -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "imagebuilder-webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "imagebuilder-webhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* commonLabels go on every object the chart renders (never into selectors). */}}
{{- define "imagebuilder-webhook.commonLabels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "imagebuilder-webhook.labels" -}}
{{ include "imagebuilder-webhook.selectorLabels" . }}
app.kubernetes.io/component: webhook
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{ include "imagebuilder-webhook.commonLabels" . }}
{{- end -}}

{{- define "imagebuilder-webhook.certgenLabels" -}}
{{ include "imagebuilder-webhook.selectorLabels" . }}
app.kubernetes.io/component: certgen
{{ include "imagebuilder-webhook.commonLabels" . }}
{{- end -}}

{{/* The webhook image: repository@digest when a digest is given (it wins
     over the tag), else repository:tag (the tag defaults to appVersion). */}}
{{- define "imagebuilder-webhook.image" -}}
{{- $img := .Values.deployment.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (toString ($img.tag | default .Chart.AppVersion)) -}}
{{- end -}}
{{- end -}}

{{/* The container's ports: the HTTPS (admission) port and the plain HTTP
     port of /metrics, /healthz and /readyz. */}}
{{- define "imagebuilder-webhook.port" -}}
{{- .Values.deployment.ports.webhook | default 8443 -}}
{{- end -}}
{{- define "imagebuilder-webhook.metricsPort" -}}
{{- .Values.deployment.ports.metrics | default 9090 -}}
{{- end -}}

{{- define "imagebuilder-webhook.buildkitName" -}}
{{- printf "%s-buildkit" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "imagebuilder-webhook.buildkitSelectorLabels" -}}
app.kubernetes.io/name: imagebuilder-buildkit
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "imagebuilder-webhook.buildkitLabels" -}}
{{ include "imagebuilder-webhook.buildkitSelectorLabels" . }}
app.kubernetes.io/component: buildkit
{{ include "imagebuilder-webhook.commonLabels" . }}
{{- end -}}

{{- define "imagebuilder-webhook.buildkitEnabled" -}}
{{- if and .Values.imageBuilder.enabled .Values.imageBuilder.buildkit .Values.imageBuilder.buildkit.enabled -}}true{{- end -}}
{{- end -}}

{{/* The buildkit URI both ConfigMaps carry: the configured one, else the
     chart's own buildkitd, else empty (refused below). */}}
{{- define "imagebuilder-webhook.buildkitUri" -}}
{{- if .Values.imageBuilder.buildkitUri -}}
{{- .Values.imageBuilder.buildkitUri -}}
{{- else if include "imagebuilder-webhook.buildkitEnabled" . -}}
{{- printf "tcp://%s.%s.svc.cluster.local:%v" (include "imagebuilder-webhook.buildkitName" .) .Release.Namespace (.Values.imageBuilder.buildkit.service.port | default 1234) -}}
{{- else if .Values.imageBuilder.enabled -}}
{{- fail "imageBuilder.buildkitUri is empty and imageBuilder.buildkit.enabled is false: there is no builder; set one of them" -}}
{{- end -}}
{{- end -}}

{{- define "imagebuilder-webhook.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "secret" -}}
{{- required "certificates.secret.name is required when certificates.mode is secret" .Values.certificates.secret.name -}}
{{- else -}}
{{- printf "%s-tls" (include "imagebuilder-webhook.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "imagebuilder-webhook.serviceHost" -}}
{{- printf "%s.%s.svc" (include "imagebuilder-webhook.fullname" .) .Release.Namespace -}}
{{- end -}}

{{/* The webhook's configuration file: imageBuilder as given (with the
     buildkit URI resolved) and webhook with the chart's own listeners and
     TLS paths. Nothing else: the webhook refuses unknown keys. */}}
{{- define "imagebuilder-webhook.config" -}}
{{- $ib := deepCopy .Values.imageBuilder -}}
{{- $_ := set $ib "buildkitUri" (include "imagebuilder-webhook.buildkitUri" .) -}}
{{- if .Values.registryCredentials.secretName -}}
{{- $rc := deepCopy ($ib.registryCheck | default dict) -}}
{{- $_ = set $rc "dockerConfig" "/etc/imagebuilder-webhook/docker/config.json" -}}
{{- $_ = set $ib "registryCheck" $rc -}}
{{- end -}}
{{- $wh := deepCopy (.Values.webhook | default dict) -}}
{{- $_ = set $wh "listen" (printf ":%s" (include "imagebuilder-webhook.port" .)) -}}
{{- $_ = set $wh "metricsListen" (printf ":%s" (include "imagebuilder-webhook.metricsPort" .)) -}}
{{- $_ = set $wh "tls" (dict "certFile" "/etc/imagebuilder-webhook/tls/tls.crt" "keyFile" "/etc/imagebuilder-webhook/tls/tls.key") -}}
{{- toYaml (dict "imageBuilder" $ib "webhook" $wh) -}}
{{- end -}}
