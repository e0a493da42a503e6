#!/bin/sh
# Entry point of the compose stack's worker (and of `docker compose exec worker ... <command>`): puts the
# secrets the stack generated at start-up into the environment variables certrotor.yaml interpolates,
# then runs `certrotor <args>`. In production these variables come from a secret manager (Kubernetes:
# a Secret), never from files like these.
set -eu
kit="${SANDBOX_KIT_DIR:-/var/lib/certrotor/bank}"
approle="${VAULT_APPROLE_DIR:-/var/lib/certrotor/vault}"
BANK_ADMIN_API_KEY="$(node -p "JSON.parse(require('node:fs').readFileSync('$kit/sandbox.json','utf8')).admin_api_key")"
VAULT_ROLE_ID="$(cat "$approle/role-id")"
VAULT_SECRET_ID="$(cat "$approle/secret-id")"
export BANK_ADMIN_API_KEY VAULT_ROLE_ID VAULT_SECRET_ID
# --optimize-for-size as the image's entry point: the worker's heap grows less (docs/deploy/container.md)
exec node --optimize-for-size "${CERTROTOR_BIN:-/app/bin/certrotor.js}" "$@"
