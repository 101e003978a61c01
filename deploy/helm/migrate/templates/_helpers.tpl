{{/* Names, labels, hook annotations and the migrate containers, shared by every template. */}}

{{- define "migrate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's name unless overridden (not prefixed with the chart name: the Job is "<release>-migrate"). */}}
{{- define "migrate.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "migrate.jobName" -}}
{{- printf "%s-migrate" (include "migrate.fullname" .) -}}
{{- end -}}

{{- define "migrate.configMapName" -}}
{{- default (printf "%s-migrate-sql" (include "migrate.fullname" .)) .Values.migrations.configMap.name -}}
{{- end -}}

{{- define "migrate.secretName" -}}
{{- default (printf "%s-db" (include "migrate.fullname" .)) .Values.database.secretName -}}
{{- end -}}

{{- define "migrate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "migrate.jobName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The `service` label of the run's metrics: metrics.service, else the release's name. */}}
{{- define "migrate.metricsService" -}}
{{- default (include "migrate.fullname" .) .Values.metrics.service -}}
{{- end -}}

{{- define "migrate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "migrate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "migrate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "migrate.labels" -}}
{{ include "migrate.selectorLabels" . }}
app.kubernetes.io/component: migration
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | quote }}
{{- if .Values.helmLabels }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Hook annotations for the Job (offset 0) or for a resource it needs before it runs (the ServiceAccount at
offset 1, the SQL ConfigMap at offset 2): ArgoCD sync wave and Helm hook weight lowered by the offset. Only
in job mode: in initContainer mode every resource is an ordinary one. Called with (dict "root" $ "offset" 0).
*/}}
{{- define "migrate.hookAnnotations" -}}
{{- $job := .root.Values.job -}}
{{- if eq .root.Values.mode "job" -}}
{{- if $job.argocd.enabled }}
argocd.argoproj.io/hook: {{ $job.argocd.hook }}
argocd.argoproj.io/sync-wave: {{ sub (atoi $job.argocd.syncWave) .offset | toString | quote }}
argocd.argoproj.io/hook-delete-policy: {{ $job.argocd.hookDeletePolicy }}
{{- end }}
{{- if $job.helmHooks.enabled }}
helm.sh/hook: {{ $job.helmHooks.hook }}
helm.sh/hook-weight: {{ sub (atoi $job.helmHooks.weight) .offset | toString | quote }}
helm.sh/hook-delete-policy: {{ $job.helmHooks.deletePolicy }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Value combinations the schema cannot refuse; a clear message instead of a broken manifest. */}}
{{- define "migrate.validate" -}}
{{- if and .Values.database.urlKey .Values.database.params -}}
{{- fail "database.params cannot be used with database.urlKey: put the parameters in the URL" -}}
{{- end -}}
{{- if and .Values.clickhouse.cluster (ne .Values.driver "clickhouse") -}}
{{- fail "clickhouse.cluster is set but driver is not clickhouse" -}}
{{- end -}}
{{- if and .Values.fleet.enabled (ne .Values.mode "job") -}}
{{- fail "fleet.enabled needs mode job (an Indexed Job whose pods share the workspace's targets)" -}}
{{- end -}}
{{- if and (eq .Values.mode "initContainer") (not .Values.deployment.containers) -}}
{{- fail "mode initContainer needs the application's containers in deployment.containers" -}}
{{- end -}}
{{- if and (eq .Values.migrations.source "configMap") (not .Values.migrations.configMap.name) (not .Values.migrations.configMap.files) -}}
{{- fail "migrations.source is configMap: name an existing ConfigMap in migrations.configMap.name or give migrations.configMap.files" -}}
{{- end -}}
{{- end -}}

{{/* The variables migrate builds its connection from: parts from the Secret (or plain values), or DATABASE_URL. */}}
{{- define "migrate.databaseEnv" -}}
{{- $db := .Values.database -}}
{{- $secret := include "migrate.secretName" . -}}
{{- if $db.urlKey }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $db.urlKey }}
{{- else }}
{{- $prefix := ternary "POSTGRES" "CLICKHOUSE" (eq .Values.driver "postgres") }}
{{- $userVar := ternary "POSTGRES_USER" "CLICKHOUSE_USERNAME" (eq .Values.driver "postgres") }}
{{- $parts := list
      (dict "var" (printf "%s_HOST" $prefix) "key" $db.keys.host "value" $db.host "optional" false)
      (dict "var" (printf "%s_PORT" $prefix) "key" $db.keys.port "value" $db.port "optional" true)
      (dict "var" $userVar "key" $db.keys.user "value" $db.user "optional" false)
      (dict "var" (printf "%s_PASSWORD" $prefix) "key" $db.keys.password "value" "" "optional" false)
      (dict "var" (printf "%s_DATABASE" $prefix) "key" $db.keys.database "value" $db.name "optional" false) }}
{{- range $parts }}
- name: {{ .var }}
{{- if toString .value }}
  value: {{ toString .value | quote }}
{{- else }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ default .var .key }}
{{- if .optional }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The project file, its environment, the backup directory and the metrics push (docs/environments.md). */}}
{{- define "migrate.featureEnv" -}}
{{- with .Values.config }}
- name: MIGRATE_CONFIG
  value: {{ . | quote }}
{{- end }}
{{- if .Values.fleet.enabled }}
- name: MIGRATE_SHARDS
  value: {{ .Values.fleet.shards | quote }}
{{- end }}
{{- with .Values.environment }}
- name: MIGRATE_ENVIRONMENT
  value: {{ . | quote }}
{{- end }}
{{- if .Values.backup.enabled }}
- name: MIGRATE_BACKUP_DIR
  value: {{ .Values.backup.mountPath | quote }}
{{- end }}
{{- with .Values.metrics.pushUrl }}
- name: MIGRATE_METRICS_PUSH
  value: {{ . | quote }}
{{- end }}
{{- if or .Values.metrics.pushUrl .Values.metrics.service }}
- name: MIGRATE_SERVICE
  value: {{ include "migrate.metricsService" . | quote }}
{{- end }}
{{- end -}}

{{/* Arguments every command that connects shares. */}}
{{- define "migrate.dbArgs" -}}
- --driver
- {{ .Values.driver }}
{{- range .Values.database.params }}
- --db-param
- {{ . | quote }}
{{- end }}
{{- with .Values.migrations.table }}
- --table
- {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "migrate.runArgs" -}}
{{- $run := .Values.run -}}
{{- if .Values.fleet.enabled }}
{{- /* Every target of the workspace migrate.toml; each pod its shard (JOB_COMPLETION_INDEX/MIGRATE_SHARDS). */}}
- up
- --all
- --jobs
- {{ .Values.fleet.jobs | quote }}
{{- with .Values.fleet.services }}
- --services
- {{ join "," . | quote }}
{{- end }}
{{- if .Values.fleet.failFast }}
- --fail-fast
{{- end }}
{{- else }}
- {{ $run.command }}
- --dir
- {{ .Values.migrations.dir | quote }}
{{ include "migrate.dbArgs" . }}
{{- end }}
{{- with $run.timeout }}
- --timeout
- {{ . | quote }}
{{- end }}
{{- with $run.lockWait }}
- --lock-wait
- {{ . | quote }}
{{- end }}
{{- if $run.allowMissing }}
- --allow-missing
{{- end }}
{{- if $run.verbose }}
- --verbose
{{- end }}
{{- if not .Values.lint.enabled }}
- --no-lint
{{- end }}
{{- with .Values.clickhouse.cluster }}
- --clickhouse-cluster
- {{ . | quote }}
{{- if $.Values.clickhouse.clusterStrict }}
- --clickhouse-cluster-strict
{{- end }}
{{- with $.Values.clickhouse.ddlTimeout }}
- --clickhouse-ddl-timeout
- {{ . | quote }}
{{- end }}
{{- end }}
{{- range $run.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* What both containers share: image, variables, security, mounts. */}}
{{- define "migrate.containerCommon" -}}
image: {{ include "migrate.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
env:
{{- include "migrate.databaseEnv" . | trim | nindent 2 }}
{{- with include "migrate.featureEnv" . | trim }}
{{- . | nindent 2 }}
{{- end }}
{{- with .Values.extraEnv }}
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.extraEnvFrom }}
envFrom:
{{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
{{- toYaml .Values.securityContext | nindent 2 }}
resources:
{{- toYaml .Values.resources | nindent 2 }}
{{- $mounts := include "migrate.volumeMounts" . | trim }}
{{- if $mounts }}
volumeMounts:
{{- $mounts | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "migrate.volumeMounts" -}}
{{- if eq .Values.migrations.source "configMap" }}
- name: migrations
  mountPath: {{ .Values.migrations.dir }}
  readOnly: true
{{- end }}
{{- if .Values.backup.enabled }}
- name: backups
  mountPath: {{ .Values.backup.mountPath }}
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "migrate.volumes" -}}
{{- if eq .Values.migrations.source "configMap" }}
- name: migrations
  configMap:
    name: {{ include "migrate.configMapName" . }}
{{- end }}
{{- if .Values.backup.enabled }}
- name: backups
{{- with .Values.backup.persistentVolumeClaim }}
  persistentVolumeClaim:
    claimName: {{ . }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* `migrate wait`, then `migrate up`: the Job's init container and container, or a Deployment's init containers. */}}
{{- define "migrate.waitContainer" -}}
- name: wait
  args:
    - wait
    {{- include "migrate.dbArgs" . | trim | nindent 4 }}
    - --timeout
    - {{ .Values.wait.timeout | quote }}
  {{- include "migrate.containerCommon" . | trim | nindent 2 }}
{{- end -}}

{{- define "migrate.migrateContainer" -}}
- name: migrate
  args:
    {{- include "migrate.runArgs" . | trim | nindent 4 }}
  {{- include "migrate.containerCommon" . | trim | nindent 2 }}
{{- end -}}

{{/* The pod spec fields both modes share. */}}
{{- define "migrate.podCommon" -}}
{{- with include "migrate.serviceAccountName" . }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
securityContext:
{{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
{{- toYaml . | nindent 2 }}
{{- end }}
{{- $volumes := include "migrate.volumes" . | trim }}
{{- if $volumes }}
volumes:
{{- $volumes | nindent 2 }}
{{- end }}
{{- end -}}
