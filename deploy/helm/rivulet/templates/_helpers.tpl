{{- define "rivulet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rivulet.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "rivulet.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "rivulet.secretName" -}}
{{- default (include "rivulet.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{- define "rivulet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "rivulet.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Kafka and schema registry security.

rivulet.noClearSecrets fails when a map of connector or worker keys holds a
secret in clear (it would land in a ConfigMap): a key ending in password,
user.info, bearer.auth.token, client.secret or ssl.keystore.key must refer
to ${env:...}, ${file:...} or ${directory:...}; a JAAS config must not
write a password or clientSecret in clear. Call with (list "where" $map).
*/}}
{{- define "rivulet.noClearSecrets" -}}
{{- $where := index . 0 -}}
{{- range $k, $v := index . 1 -}}
{{- $s := toString $v -}}
{{- $fix := "write ${env:NAME} and fill NAME from a Secret with secretEnv, or ${directory:PATH:FILE} with secretMounts" -}}
{{- if and (regexMatch "(password|user\\.info|bearer\\.auth\\.token|client\\.secret|ssl\\.keystore\\.key)$" $k) (not (contains "${" $s)) -}}
{{- fail (printf "%s.%s holds a secret in clear, which would be stored in a ConfigMap: %s" $where $k $fix) -}}
{{- end -}}
{{- if and (hasSuffix "jaas.config" $k) (regexMatch "(?i)(password|clientSecret)\\s*=\\s*\"?[^\"$\\s]" $s) -}}
{{- fail (printf "%s.%s holds a password or clientSecret in clear, which would be stored in a ConfigMap: %s" $where $k $fix) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* rivulet.secretMountPath is where secretMounts item . is mounted. */}}
{{- define "rivulet.secretMountPath" -}}
{{- $p := default (printf "/etc/rivulet-secrets/%s" .secretName) .mountPath -}}
{{- if or (eq (trimSuffix "/" $p) "/etc/rivulet") (hasPrefix "/etc/rivulet/" $p) (hasPrefix "/var/lib/rivulet" $p) -}}
{{- fail (printf "secretMounts %s: mountPath %s is inside the config or data volume; mount it elsewhere, such as /etc/rivulet-secrets/%s" .secretName $p .secretName) -}}
{{- end -}}
{{- $p -}}
{{- end -}}

{{/*
rivulet.iam is "true" when the connector authenticates to RDS/Aurora with
IAM (database.iam.authentication.enabled): no database password then, the
pod signs a token with its AWS identity (IRSA: serviceAccount.awsRoleArn).
*/}}
{{- define "rivulet.iam" -}}
{{- if eq (lower (toString (index .Values.connector.config "database.iam.authentication.enabled"))) "true" -}}true{{- end -}}
{{- end -}}
