{{/* Chart name, overridable. */}}
{{- define "kvsync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of every object the release creates: the release name alone when it already says kvsync. */}}
{{- define "kvsync.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "kvsync.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "kvsync.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kvsync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kvsync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kvsync.labels" -}}
{{ include "kvsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: kvsync
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kvsync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kvsync.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kvsync.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "kvsync.leaseName" -}}
{{- default (include "kvsync.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/*
Seconds in a Go-style duration ("90s", "15m", "1h30m", "2d"); "0" gives 0. Used to derive the
"data is stale" alert threshold from the refresh interval.
*/}}
{{- define "kvsync.durationSeconds" -}}
{{- $units := dict "ms" 0 "s" 1 "m" 60 "h" 3600 "d" 86400 -}}
{{- $total := 0 -}}
{{- range regexFindAll "[0-9]+(ms|s|m|h|d)" (toString .) -1 -}}
{{- $n := regexFind "^[0-9]+" . | atoi -}}
{{- $unit := regexFind "(ms|s|m|h|d)$" . -}}
{{- $total = add $total (mul $n (get $units $unit)) -}}
{{- end -}}
{{- $total -}}
{{- end -}}

{{/* Whether the chart grants the rules for per-namespace identities (issue 7). */}}
{{- define "kvsync.rbac.namespaced" -}}
{{- if .Values.watchNamespaces -}}true{{- end -}}
{{- end -}}
