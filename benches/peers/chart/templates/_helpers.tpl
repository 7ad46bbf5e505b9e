{{- define "bench.labels" -}}
app.kubernetes.io/managed-by: homelabc
app.kubernetes.io/name: {{ .name }}
{{- end }}

{{- define "bench.meta" -}}
name: {{ .name }}
namespace: {{ .ns }}
labels:
  {{- include "bench.labels" . | nindent 2 }}
{{- end }}

{{- define "bench.selector" -}}
matchLabels:
  app.kubernetes.io/name: {{ .name }}
{{- end }}

{{- define "bench.peer" -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ .ns }}
  podSelector:
    matchLabels:
      app.kubernetes.io/name: {{ .name }}
{{- end }}

{{- define "bench.externalSecret" -}}
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {{ .name }}
  namespace: {{ .ns }}
  labels:
    app.kubernetes.io/managed-by: homelabc
spec:
  dataFrom:
    - extract:
        key: {{ .key }}
  refreshInterval: 1h
  secretStoreRef:
    name: vault
    kind: ClusterSecretStore
  target:
    name: {{ .name }}
    creationPolicy: Owner
{{- end }}
