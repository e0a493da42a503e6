#!/bin/sh
# One rotation done by hand, the seeds' way (seed 002's OpenSSL recipe, seed 001's curl token call):
# a new key, a CSR with the credential's subject, the institution CA's signature, a PKCS#12, and a token
# call with the new certificate. bench/rotation.ts runs it once per rotation and compares it with a
# certrotor rotation of the same credential. The binding at the bank is a person's portal work in that
# recipe: the bench's sandbox credential trusts the CA (seed 002), so the new certificate is accepted
# unbound and no binding step is timed here.
#
# Environment: KEY_TYPE (p256 | rsa2048), SUBJECT (openssl -subj form), SAN (e.g. DNS:host), WORK (a
# directory holding ca.pem, ca.key, ext.cnf, bank-ca.pem, token-request.json), URL (the bank's base URL),
# PFX_PASS (the PKCS#12 passphrase). Secrets stay in files; nothing secret is printed.
set -eu
cd "$WORK"
case "$KEY_TYPE" in
  p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client.key ;;
  rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out client.key ;;
  *) echo "rotate.sh: KEY_TYPE must be p256 or rsa2048" >&2; exit 2 ;;
esac
openssl req -new -key client.key -subj "$SUBJECT" -addext "subjectAltName=$SAN" -out client.csr
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAserial ca.srl -CAcreateserial \
  -days 90 -sha256 -extfile ext.cnf -out client.pem 2>/dev/null
openssl pkcs12 -export -inkey client.key -in client.pem -certfile ca.pem -passout env:PFX_PASS -out client.pfx
curl --fail --silent --show-error -X POST "$URL/public/gw_banking/v1/auth/token-v2" \
  --cert client.pem --key client.key --cacert bank-ca.pem \
  -H "Content-Type: application/json" -d @token-request.json -o token.json
