{{/*
What kvsync may do where it syncs VaultSecrets: cluster-wide (ClusterRole) when watchNamespaces is
empty, else in each watched namespace (Role). Least privilege; each rule says why it is there.
*/}}
{{- define "kvsync.workloadRules" -}}
# Informers list and watch VaultSecrets; reconcile re-reads one by name.
- apiGroups: ["kvsync.io"]
  resources: ["vaultsecrets"]
  verbs: ["get", "list", "watch"]
# Status (Ready, ExpiringSoon, synced objects) is written with server-side apply to the status
# subresource; the spec and metadata of a tenant's VaultSecret are never changed (only the copies a
# ClusterVaultSecret keeps, below).
- apiGroups: ["kvsync.io"]
  resources: ["vaultsecrets/status"]
  verbs: ["get", "patch", "update"]
# Owner-mode Secrets carry an ownerReference with blockOwnerDeletion, which clusters running the
# OwnerReferencesPermissionEnforcement admission plugin (e.g. OpenShift) check against this.
- apiGroups: ["kvsync.io"]
  resources: ["vaultsecrets/finalizers"]
  verbs: ["update"]
# The VaultSecrets a ClusterVaultSecret keeps in each selected namespace: created and updated by
# server-side apply, deleted when the namespace is no longer selected (with a uid precondition, so
# only the one kvsync saw it own). kvsync changes no other VaultSecret; the <release>-vaultsecrets
# admission policy refuses it any other.
- apiGroups: ["kvsync.io"]
  resources: ["vaultsecrets"]
  verbs: ["create", "patch", "delete"]
# The Secrets kvsync writes. Its informer lists and watches only Secrets labelled
# app.kubernetes.io/managed-by=kvsync, but RBAC cannot express a label selector, so list/watch
# cover every Secret in scope. get: Merge mode reads the existing Secret, clientSecretRef reads the
# fallback credential; once Entra ID refuses that credential, kvsync also watches that one Secret
# (by name) until it works, so fixing it retries at once. create/update/patch: Owner and Orphan
# Secrets, server-side apply for Merge. No delete: Owner Secrets are garbage collected through
# their ownerReference, and kvsync never removes a Secret because Key Vault or Entra ID failed.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "patch"]
# Events on VaultSecrets (synced, rotated, expiring soon, failures).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.perNamespaceIdentity.enabled }}
# Per-namespace identities (spec.vault.identity.serviceAccountName): read the ServiceAccount's
# azure.workload.identity/client-id and tenant-id annotations, and request a short-lived token for
# it with audience api://AzureADTokenExchange (TokenRequest) to exchange with Entra ID. RBAC cannot
# limit this to federated ServiceAccounts; the CRD's schema keeps the reference in the
# VaultSecret's own namespace. list/watch: from the first failure of such an identity, kvsync
# watches ServiceAccounts so that fixing one retries its VaultSecrets at once. Turn off with
# perNamespaceIdentity.enabled=false.
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
  verbs: ["create"]
{{- end }}
{{- if .Values.rolloutRestart.enabled }}
# spec.rolloutRestart (opt-in): stamp the pod template of the named workloads with a hash of the
# synced data. get: skip paused Deployments and compare the current hash first.
- apiGroups: ["apps"]
  resources: ["deployments", "statefulsets", "daemonsets"]
  verbs: ["get", "patch"]
- apiGroups: ["argoproj.io"]
  resources: ["rollouts"]
  verbs: ["get", "patch"]
{{- end }}
{{- end -}}
