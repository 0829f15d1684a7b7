{{- define "tessera.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tessera.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tessera.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "tessera.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "gateway") */}}
{{- define "tessera.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tessera.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tessera.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "tessera.registryUrl" -}}
{{- if .Values.gateway.supergraph.registry.url }}
{{- .Values.gateway.supergraph.registry.url }}
{{- else }}
{{- printf "http://%s-registry:%v" (include "tessera.fullname" .) .Values.registry.port }}
{{- end }}
{{- end }}

{{/*
The two tokens the chart makes for its registry, as YAML. Made once per render (kept in .Values,
so the Secret and the registry's digests agree) and kept across upgrades (read back with lookup).
*/}}
{{- define "tessera.registryTokens" -}}
{{- if not (hasKey .Values "_registryTokens") }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (printf "%s-registry-tokens" (include "tessera.fullname" .)) | default dict }}
{{- $data := get $secret "data" | default dict }}
{{- $gateway := get $data "gateway" | default "" | b64dec | default (randAlphaNum 40) }}
{{- $ci := get $data "ci" | default "" | b64dec | default (randAlphaNum 40) }}
{{- $_ := set .Values "_registryTokens" (dict "gateway" $gateway "ci" $ci) }}
{{- end }}
{{- toYaml (get .Values "_registryTokens") }}
{{- end }}

{{/* Seconds of the preStop sleep: server.shutdown.readinessDelayMs, rounded up. */}}
{{- define "tessera.preStopSeconds" -}}
{{- div (add (int .Values.gateway.shutdown.readinessDelayMs) 999) 1000 }}
{{- end }}

{{/* preStop sleep + the gateway's own readiness delay + drain, and 5 s to spare. */}}
{{- define "tessera.terminationGraceSeconds" -}}
{{- add (include "tessera.preStopSeconds" . | int) (div (add (int .Values.gateway.shutdown.readinessDelayMs) (int .Values.gateway.shutdown.drainTimeoutMs) 999) 1000) 5 }}
{{- end }}

{{/* The gateway's tessera.yaml: the user's config with what the chart owns set on top. */}}
{{- define "tessera.gatewayConfig" -}}
{{- $config := deepCopy .Values.gateway.config }}
{{- $server := get $config "server" | default dict }}
{{- $_ := set $server "host" "0.0.0.0" }}
{{- $_ := set $server "port" (int .Values.gateway.port) }}
{{- $_ := set $server "shutdown" (dict "readinessDelayMs" (int .Values.gateway.shutdown.readinessDelayMs) "drainTimeoutMs" (int .Values.gateway.shutdown.drainTimeoutMs)) }}
{{- if .Values.gateway.tls.secretName }}
{{- $_ := set $server "tls" (merge (dict "cert" "/etc/tessera/tls/tls.crt" "key" "/etc/tessera/tls/tls.key") (get $server "tls" | default dict)) }}
{{- end }}
{{- $_ := set $config "server" $server }}
{{- $sg := .Values.gateway.supergraph }}
{{- if eq $sg.source "registry" }}
{{- /* The token comes from a Secret, through TESSERA_SUPERGRAPH_REGISTRY_TOKEN. */}}
{{- $_ := set $config "supergraph" (dict "registry" (dict "url" (include "tessera.registryUrl" .) "graph" $sg.registry.graph "variant" $sg.registry.variant "pollIntervalMs" (int $sg.registry.pollIntervalMs) "cacheFile" "/var/cache/tessera/registry-supergraph.graphql")) }}
{{- else }}
{{- $_ := required "gateway.supergraph.configMap.name is required when gateway.supergraph.source is configMap" $sg.configMap.name }}
{{- $_ := set $config "supergraph" (dict "file" (printf "/etc/tessera/supergraph/%s" $sg.configMap.key)) }}
{{- end }}
{{- toYaml $config }}
{{- end }}
