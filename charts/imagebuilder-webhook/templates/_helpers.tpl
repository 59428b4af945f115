{{/* Names, labels and the webhook's configuration file, shared by the templates. */}}

{{- define "imagebuilder-webhook.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "imagebuilder-webhook.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "imagebuilder-webhook.labels" -}}
{{ include "imagebuilder-webhook.selectorLabels" . }}
app.kubernetes.io/component: webhook
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
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
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
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
{{- $_ = set $wh "listen" ":8443" -}}
{{- $_ = set $wh "metricsListen" ":9090" -}}
{{- $_ = set $wh "tls" (dict "certFile" "/etc/imagebuilder-webhook/tls/tls.crt" "keyFile" "/etc/imagebuilder-webhook/tls/tls.key") -}}
{{- toYaml (dict "imageBuilder" $ib "webhook" $wh) -}}
{{- end -}}
