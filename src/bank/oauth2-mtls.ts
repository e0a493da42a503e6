/**
 * The `oauth2-mtls` adapter of the bank port: a standard RFC 6749 § 4.4 client_credentials token call
 * over mTLS (form-encoded body at `tokenPath`, the client authenticated by HTTP Basic or in the body per
 * `clientAuth`), and an optional protected GET (`probe.path`). No slot API and no CSR signing: the bank
 * kind for portal banks (seed 000: a person binds or signs in the portal) and banks that trust the
 * institution's CA (seed 002: nothing to bind).
 *
 *   const bank = createOauth2Mtls("portal", config.banks.portal);
 *   await bank.verify({ certPem, keyPem }, { clientId, clientSecret });
 *
 * TLS, sessions, retries and the error table: shared with banking-api (token-endpoint.ts, answers.ts).
 */
import type { Oauth2MtlsConfig } from "../config/schema.js";
import { createTokenClient } from "./token-client.js";
import { type BankOptions, bankConnection, createTokenEndpoint } from "./token-endpoint.js";
import type { BankClient } from "./types.js";

/** `path` with `{accountId}` replaced by the encoded account id. */
const probePathOf =
  (path: string) =>
  (accountId: string): string =>
    path.replaceAll("{accountId}", encodeURIComponent(accountId));

export function createOauth2Mtls(
  name: string,
  config: Oauth2MtlsConfig,
  options: BankOptions = {},
): BankClient {
  const connection = bankConnection(name, config, options);
  const tokens = createTokenClient({
    baseUrl: config.url,
    ...connection.common,
    style: {
      kind: "form",
      path: config.tokenPath,
      clientAuth: config.clientAuth,
      ...(config.scope !== undefined ? { scope: config.scope } : {}),
    },
    ...(config.probe ? { probePath: probePathOf(config.probe.path) } : {}),
  });
  return {
    kind: "oauth2-mtls",
    name,
    ...createTokenEndpoint(name, config, connection, tokens, options.logger),
    // mTLS agents keep no sockets and their sessions are weakly held: nothing to release
    async close() {},
  };
}
