"""Drives a Vault (here: certrotor's emulator) with hvac, the third-party Python client (Debian python3-hvac),
and prints what it observed as one JSON object. It asserts nothing itself: test/emulators/vault-hvac.test.ts
checks the observations against Vault's documented behaviour. Input (stdin, JSON): url, rootToken, and the
tokens, AppRoles and CSRs the test prepared.

Run with Debian's interpreter (/usr/bin/python3): a pyenv python does not see the Debian packages.
"""
import json
import sys

import hvac
import requests


def client(url, token=None):
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and the loopback emulator
    return hvac.Client(url=url, token=token, session=session)


def outcome(call):
    """{"ok": value} or {"error": exception class, "errors": Vault's errors list}."""
    try:
        return {"ok": call()}
    except hvac.exceptions.VaultError as error:
        return {"error": type(error).__name__, "errors": error.errors}


def main():
    cfg = json.load(sys.stdin)
    url = cfg["url"]
    root = client(url, cfg["rootToken"])
    out = {}

    # KV v2 (api-docs/secret/kv/kv-v2.mdx)
    kv = root.secrets.kv.v2
    out["kv_create"] = outcome(lambda: kv.create_or_update_secret("hvac/app", {"a": "1"}, cas=0))
    out["kv_cas_again"] = outcome(lambda: kv.create_or_update_secret("hvac/app", {"a": "2"}, cas=0))
    out["kv_read"] = outcome(lambda: kv.read_secret_version("hvac/app"))
    out["kv_delete"] = outcome(lambda: kv.delete_latest_version_of_secret("hvac/app").status_code)
    out["kv_read_deleted"] = outcome(lambda: kv.read_secret_version("hvac/app"))
    out["kv_read_missing"] = outcome(lambda: kv.read_secret_version("hvac/none"))

    # KV v1 on its own mount, and the preflight `vault kv` makes
    out["kv1_write"] = outcome(lambda: root.secrets.kv.v1.create_or_update_secret("app", {"a": "1"}, mount_point="kv1").status_code)
    out["kv1_read"] = outcome(lambda: root.secrets.kv.v1.read_secret("app", mount_point="kv1"))
    for mount in ("secret", "kv1", "nowhere"):
        out["ui_mounts_" + mount] = outcome(lambda: root.adapter.get("/v1/sys/internal/ui/mounts/" + mount))

    # Token errors (docs/concepts/tokens.mdx § Error Responses)
    out["invalid_token"] = outcome(lambda: client(url, "hvs.not-a-token").secrets.kv.v2.read_secret_version("hvac/app"))
    out["policy_denied"] = outcome(lambda: client(url, cfg["noRulesToken"]).secrets.kv.v2.read_secret_version("hvac/app"))

    # renew-self capped by the token's max TTL, then revoke-self
    capped = client(url, cfg["cappedToken"])
    out["renew_capped"] = outcome(lambda: capped.auth.token.renew_self(increment="1h"))
    out["revoke_self"] = outcome(lambda: capped.auth.token.revoke_self().status_code)
    out["after_revoke"] = outcome(lambda: capped.auth.token.lookup_self())

    # AppRole (api-docs/auth/approle.mdx, path_login.go) and user lockout (partials/user-lockout.mdx)
    role = cfg["approle"]
    out["approle_login"] = outcome(lambda: client(url).auth.approle.login(role["roleId"], role["secretId"]))
    out["approle_missing_secret"] = outcome(lambda: client(url).auth.approle.login(role["lockRoleId"]))
    out["approle_wrong"] = [
        outcome(lambda: client(url).auth.approle.login(role["lockRoleId"], "wrong-%d" % i)) for i in range(5)
    ]
    out["approle_locked"] = outcome(lambda: client(url).auth.approle.login(role["lockRoleId"], role["lockSecretId"]))

    # PKI sign (builtin/logical/pki/issuing/issue_common.go)
    pki = root.secrets.pki
    pki.create_or_update_role("org", extra_params={"allow_any_name": True, "enforce_hostnames": False, "key_type": "any", "max_ttl": "720h"})
    pki.create_or_update_role("strict", extra_params={"allowed_domains": "bank.example", "allow_subdomains": True, "key_type": "any"})
    csrs = cfg["csrs"]
    out["sign_long_label"] = outcome(lambda: pki.sign_certificate("org", csrs["long"], cfg["longCn"]))
    out["sign_long_label_excluded"] = outcome(lambda: pki.sign_certificate("org", csrs["long"], cfg["longCn"], extra_params={"exclude_cn_from_sans": True}))
    out["sign_org_name"] = outcome(lambda: pki.sign_certificate("org", csrs["org"], "Org Exemplo Ltda"))
    out["sign_underscore"] = outcome(lambda: pki.sign_certificate("org", csrs["underscore"], "client_app_01"))
    out["sign_org_name_strict"] = outcome(lambda: pki.sign_certificate("strict", csrs["org"], "Org Exemplo Ltda"))
    out["sign_ttl_capped"] = outcome(lambda: pki.sign_certificate("org", csrs["org"], "Org Exemplo Ltda", extra_params={"ttl": "2000h"}))

    out["health"] = outcome(lambda: root.sys.read_health_status(method="GET"))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
