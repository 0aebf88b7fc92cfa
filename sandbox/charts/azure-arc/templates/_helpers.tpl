{{- define "arc.labels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: azure-arc
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "arc.required" -}}
{{- $g := .Values.global -}}
{{- $_ := required "global.subscriptionId is required (from GetHelmSettings)" $g.subscriptionId -}}
{{- $_ := required "global.resourceGroupName is required (from GetHelmSettings)" $g.resourceGroupName -}}
{{- $_ := required "global.resourceName is required (from GetHelmSettings)" $g.resourceName -}}
{{- $_ := required "global.location is required (from GetHelmSettings)" $g.location -}}
{{- $_ := required "global.tenantId is required (from GetHelmSettings)" $g.tenantId -}}
{{- end -}}
