# Vault policy for the certrotor worker: exactly the calls the Vault KV v2 store (src/stores/vault*.ts)
# and the Vault PKI issuer (src/issuers/vault-pki.ts) make, and nothing else.
#
#   vault policy write certrotor infra/vault/certrotor-policy.hcl
#
# Written for: KV v2 mounted at `secret/`, credentials under `certrotor/` (the credentials' `path` and the
# discovery `prefix` must stay under it), the store's `pendingPrefix: certrotor-pending/`, PKI at `pki/`
# with the role `certrotor-client`. For other names, replace the five names in the paths below, e.g.
#   sed -e 's#secret/#kv/#' -e 's#/certrotor/#/bank-mtls/#' -e 's#/certrotor-pending/#/bank-mtls-pending/#' \
#       -e 's#pki/#pki-int/#' -e 's#certrotor-client#client-mtls#' infra/vault/certrotor-policy.hcl
#
# Pending material lives under its own prefix (`<pendingPrefix><path>`, e.g.
# `certrotor-pending/certrotor/acme`), so `delete` is granted there only: this policy cannot delete a
# current credential. (Without `pendingPrefix` the store keeps the pending copy beside the credential at
# `<path>.pending`; Vault's globs match prefixes only, so that layout needs `delete` on the whole
# `secret/metadata/certrotor/*` and is not what this file grants.)

# Current material: read (also `?version=N` for previous) and promote (a compare-and-set write onto the
# existing key: `update`). certrotor never creates or deletes a credential.
path "secret/data/certrotor/*" {
  capabilities = ["read", "update"]
}

# Discovery: `LIST metadata/<folder>/`, and the tag filter reads `custom_metadata` (`GET metadata/<path>`).
path "secret/metadata/certrotor/*" {
  capabilities = ["read", "list"]
}

# Pending material: stage (`create`: a new key), re-stage for the same rotation (`update`, with CAS),
# read it back.
path "secret/data/certrotor-pending/*" {
  capabilities = ["create", "read", "update"]
}

# Promote and rollback delete the pending key with all its versions (`DELETE metadata/<pending path>`).
path "secret/metadata/certrotor-pending/*" {
  capabilities = ["delete"]
}

# The vault-pki issuer signs the rotation's CSR with this role; the key never leaves the worker.
path "pki/sign/certrotor-client" {
  capabilities = ["update"]
}

# The issuing CA certificate (trust bundle). Vault serves it without a token anyway; listed so the
# policy names every path certrotor touches. It is a public certificate.
path "pki/cert/ca" {
  capabilities = ["read"]
}

# AppRole tokens are renewed at 2/3 of their TTL, and revoked when the worker stops. Vault's `default`
# policy also grants both; listed for tokens created without it (token_no_default_policy).
path "auth/token/renew-self" {
  capabilities = ["update"]
}

path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Not listed because Vault needs no rule for it: the store's one-time check that `secret/` is KV v2
# (`GET sys/internal/ui/mounts/secret`, as `vault kv` does) is answered to any token with a rule under
# the mount.
