{{- define "azureml.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: azureml
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "azureml.enabled" -}}
{{- if eq (toString .) "" }}false{{ else }}{{ eq (lower (toString .)) "true" }}{{ end -}}
{{- end -}}
