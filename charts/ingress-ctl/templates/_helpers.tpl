{{- define "ingress-ctl.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ingress-ctl.labels" -}}
app.kubernetes.io/name: ingress-ctl
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ingress-ctl.selector" -}}
app.kubernetes.io/name: ingress-ctl
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* HAProxy binds a port below 1024 as uid 10001: the image's file capability needs this. */}}
{{- define "ingress-ctl.privilegedPorts" -}}
{{- if or (lt (int .Values.ports.http) 1024) (lt (int .Values.ports.https) 1024) }}true{{ end -}}
{{- end -}}
