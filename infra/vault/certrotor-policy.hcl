# Vault policy for the certrotor worker: exactly the calls the Vault KV v2 store (src/stores/vault*.ts)
# and the Vault PKI issuer (src/issuers/vault-pki.ts) make, and nothing else.
#
#   vault policy write certrotor infra/vault/certrotor-policy.hcl
#
# Written for the defaults: KV v2 mounted at `secret/`, credentials under `certrotor/` (the credentials'
# `path` and the discovery `prefix` must stay under it), PKI at `pki/` with the role `certrotor-client`.
# For other names, replace the four names in the paths below, e.g.
#   sed -e 's#secret/#kv/#' -e 's#/certrotor/#/bank-mtls/#' -e 's#pki/#pki-int/#' \
#       -e 's#certrotor-client#client-mtls#' infra/vault/certrotor-policy.hcl
#
# The pending sibling: the store stages new material at `<path><pendingSuffix>` (default `.pending`), e.g.
# `certrotor/acme.pending` beside `certrotor/acme`, so it lives under the same prefix and the same two
# rules cover it. Vault's globs match prefixes only (no `*.pending`), so `delete` cannot be narrowed to
# the pending keys: the store only ever deletes `<path>.pending`, never a current key.

# Read current, pending and previous versions (`GET data/<path>[?version=N]`); stage pending
# (`create`: the key is new) and promote onto current (`update`: compare-and-set on the version).
path "secret/data/certrotor/*" {
  capabilities = ["create", "read", "update"]
}

# Discovery: `LIST metadata/<folder>/` and the tag filter reads `custom_metadata`
# (`GET metadata/<path>`); promote and rollback delete the pending key (`DELETE metadata/<path>.pending`).
path "secret/metadata/certrotor/*" {
  capabilities = ["read", "list", "delete"]
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

# AppRole tokens are renewed at 2/3 of their TTL. Vault's `default` policy also grants this; listed for
# tokens created without it (token_no_default_policy).
path "auth/token/renew-self" {
  capabilities = ["update"]
}
