{{/*
Names, labels and the pieces every shopsynth pod shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "shopsynth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: fullnameOverride, else "<release>-<name>",
or just the release name when it already contains the chart name. Kept to 50
characters so that suffixes such as "-scheduler" stay within 63.
*/}}
{{- define "shopsynth.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<chart>-<version>", for the helm.sh/chart label. */}}
{{- define "shopsynth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every resource carries. */}}
{{- define "shopsynth.labels" -}}
helm.sh/chart: {{ include "shopsynth.chart" . }}
{{ include "shopsynth.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shopsynth
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the release's pods (add a component label to them). */}}
{{- define "shopsynth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shopsynth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: call with (dict "root" $ "component" "api"). */}}
{{- define "shopsynth.componentLabels" -}}
{{ include "shopsynth.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "shopsynth.componentSelectorLabels" -}}
{{ include "shopsynth.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "shopsynth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "shopsynth.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The shopsynth image reference. */}}
{{- define "shopsynth.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/* Name of the ConfigMap holding service.yaml. */}}
{{- define "shopsynth.configMapName" -}}
{{- printf "%s-config" (include "shopsynth.fullname" .) }}
{{- end }}

{{/* Name of the Secret holding the API keys. */}}
{{- define "shopsynth.apiKeysSecretName" -}}
{{- default (printf "%s-api-keys" (include "shopsynth.fullname" .)) .Values.apiKeys.existingSecret }}
{{- end }}

{{/* Name of the Secret holding the S3 credentials. */}}
{{- define "shopsynth.s3SecretName" -}}
{{- default (printf "%s-s3" (include "shopsynth.fullname" .)) .Values.s3Credentials.existingSecret }}
{{- end }}

{{/* Name of the bundled Redis Deployment and Service. */}}
{{- define "shopsynth.redisName" -}}
{{- printf "%s-redis" (include "shopsynth.fullname" .) }}
{{- end }}

{{/*
Refuses contradictory settings; included by every workload so that any
render (lint, template, install) stops with the reason.
*/}}
{{- define "shopsynth.validate" -}}
{{- $r := .Values.redis }}
{{- $sources := 0 }}
{{- if $r.url }}{{ $sources = add1 $sources }}{{ end }}
{{- if $r.existingSecret }}{{ $sources = add1 $sources }}{{ end }}
{{- if $r.bundled.enabled }}{{ $sources = add1 $sources }}{{ end }}
{{- if ne (int $sources) 1 }}
{{- fail "redis: set exactly one of redis.url, redis.existingSecret or redis.bundled.enabled" }}
{{- end }}
{{- if and $r.url (contains "@" $r.url) }}
{{- fail "redis.url carries credentials: put the URL in a Secret and name it in redis.existingSecret" }}
{{- end }}
{{- if and .Values.apiKeys.create .Values.apiKeys.existingSecret }}
{{- fail "apiKeys: set either existingSecret or create, not both" }}
{{- end }}
{{- if and .Values.s3Credentials.create .Values.s3Credentials.existingSecret }}
{{- fail "s3Credentials: set either existingSecret or create, not both" }}
{{- end }}
{{- if and .Values.s3Credentials.create (not .Values.s3Credentials.enabled) }}
{{- fail "s3Credentials: create is true but enabled is false" }}
{{- end }}
{{- if and .Values.localRootClaim (not .Values.config.local_root) }}
{{- fail "localRootClaim is set but config.local_root is empty: name the path to mount it at" }}
{{- end }}
{{- range .Values.config.stores }}
{{- if or (hasKey . "access_key_id") (hasKey . "secret_access_key") }}
{{- fail "config.stores: credentials do not belong in the ConfigMap; use s3Credentials" }}
{{- end }}
{{- end }}
{{- end }}

{{/* SHOPSYNTH_REDIS_URL, from the bundled Redis, redis.url or a Secret. */}}
{{- define "shopsynth.redisEnv" -}}
- name: SHOPSYNTH_REDIS_URL
{{- if .Values.redis.bundled.enabled }}
  value: {{ printf "redis://%s:%d/0" (include "shopsynth.redisName" .) (int .Values.redis.bundled.port) | quote }}
{{- else if .Values.redis.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.existingSecretKey }}
{{- else }}
  value: {{ .Values.redis.url | quote }}
{{- end }}
{{- end }}

{{/* AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the S3 Secret. */}}
{{- define "shopsynth.s3Env" -}}
{{- if .Values.s3Credentials.enabled -}}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "shopsynth.s3SecretName" . }}
      key: {{ .Values.s3Credentials.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "shopsynth.s3SecretName" . }}
      key: {{ .Values.s3Credentials.secretAccessKeyKey }}
{{- end }}
{{- end }}

{{/* Environment shared by every shopsynth container. */}}
{{- define "shopsynth.commonEnv" -}}
- name: SHOPSYNTH_CONFIG
  value: /etc/shopsynth/service.yaml
{{ include "shopsynth.redisEnv" . }}
- name: SHOPSYNTH_LOG
  value: {{ .Values.logLevel | quote }}
- name: SHOPSYNTH_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
# The root file system is read-only: caches (CUDA's included) and temporary
# files go to the /tmp emptyDir.
- name: HOME
  value: /tmp
- name: TMPDIR
  value: /tmp
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volume mounts of every shopsynth container. */}}
{{- define "shopsynth.volumeMounts" -}}
- name: config
  mountPath: /etc/shopsynth
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .Values.localRootClaim }}
- name: local-root
  mountPath: {{ .Values.config.local_root }}
{{- end }}
{{- end }}

{{/* Volumes of every shopsynth pod: call with (dict "root" $ "tmpSizeLimit" "1Gi"). */}}
{{- define "shopsynth.volumes" -}}
- name: config
  configMap:
    name: {{ include "shopsynth.configMapName" .root }}
    defaultMode: 0444
- name: tmp
  emptyDir:
    {{- with .tmpSizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- if .root.Values.localRootClaim }}
- name: local-root
  persistentVolumeClaim:
    claimName: {{ .root.Values.localRootClaim }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every pod. */}}
{{- define "shopsynth.podCommon" -}}
serviceAccountName: {{ include "shopsynth.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Pod annotations that roll the pods when their configuration changes. */}}
{{- define "shopsynth.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secrets: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- end }}

{{/*
The configuration file, in deploy/service.yaml's format. Only the settings
named here are written, so nothing secret can reach the ConfigMap.
*/}}
{{- define "shopsynth.serviceConfig" -}}
{{- $c := .Values.config }}
{{- $stores := list }}
{{- range $c.stores }}
{{- $store := dict "bucket" (required "config.stores: every store needs a bucket" .bucket) }}
{{- range $key, $value := . }}
{{- if and (has $key (list "endpoint" "region" "path_style" "allow_http")) (not (kindIs "invalid" $value)) (ne (toString $value) "") }}
{{- $_ := set $store $key $value }}
{{- end }}
{{- end }}
{{- $stores = append $stores $store }}
{{- end }}
{{- $file := dict "listen" (printf "0.0.0.0:%d" (int .Values.api.containerPort)) "key_prefix" $c.key_prefix "stores" $stores "limits" $c.limits "worker" $c.worker }}
{{- with $c.local_root }}
{{- $_ := set $file "local_root" . }}
{{- end }}
{{- toYaml $file }}
{{- end }}
