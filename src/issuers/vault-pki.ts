/**
 * Vault PKI as an issuer: `POST <mount>/sign/<role>` with the CSR, over the shared Vault client (auth,
 * renewal, TLS trust, retries and error mapping live there). The CN is taken from the CSR; the role
 * decides what it allows.
 *
 * Vault copies the CN into the DNS SANs unless told not to (builtin/logical/pki/issuing/issue_common.go
 * GenerateCreationBundle): it runs the CN through idna ToASCII with DNS length checks first, so a CN with a
 * label over 63 characters is refused outright (`idna: invalid label`). A client certificate's CN is often
 * not a hostname at all (an organisation name, `client_app_01`), so for such a CN the request carries
 * `exclude_cn_from_sans: true`; a hostname CN keeps Vault's default (CN also in the DNS SANs).
 */
import type { IssuerConfig } from "../config/schema.js";
import { formatName, verifyCsr } from "../crypto/index.js";
import { CertrotorError } from "../errors.js";
import { commonName } from "./check.js";
import { createVaultClient, isVaultStatus, type VaultClient } from "../stores/vault-client.js";
import type { IssueRequest, IssuedCertificate, Issuer } from "./types.js";

type VaultPkiConfig = Extract<IssuerConfig, { kind: "vault-pki" }>;

/** One label of Vault's hostname pattern (issue_common.go labelPattern). */
const LABEL = /^([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;

/**
 * Whether Vault would put `cn` into the DNS SANs itself: ASCII labels of 1–63 characters matching its
 * hostname pattern, at most 253 characters (a trailing dot and a leading `*.` wildcard label allowed).
 * Non-ASCII names count as not hostnames: excluding them is always accepted.
 */
export function isVaultHostname(cn: string): boolean {
  const name = cn.endsWith(".") ? cn.slice(0, -1) : cn;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  return labels.every(
    (label, index) =>
      label.length <= 63 && (LABEL.test(label) || (index === 0 && label === "*" && labels.length > 1)),
  );
}

function asString(value: unknown, field: string, name: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new CertrotorError("ISSUER_FAILED", `issuer "${name}": Vault's sign answer has no "${field}"`);
  }
  return value;
}

export async function createVaultPkiIssuer(
  name: string,
  config: VaultPkiConfig,
  client?: VaultClient,
  logger?: (line: object) => void,
): Promise<Issuer> {
  const vault =
    client ??
    (await createVaultClient(config, {
      label: `vault-pki issuer "${name}"`,
      unavailableCode: "ISSUER_FAILED",
      ...(logger ? { logger } : {}),
    }));
  let caPem: string | undefined;
  return {
    kind: "vault-pki",
    name,
    subjectMatch: "common-name",
    async check(): Promise<void> {},
    async issue(request: IssueRequest): Promise<IssuedCertificate> {
      const { csrPem } = request;
      // The CSR's subject is what we sign; pass its CN because Vault requires common_name unless the role
      // uses the CSR's. Other attributes come from the CSR when the role has use_csr_* set.
      const cn = commonName(formatName(verifyCsr(csrPem, `issuer "${name}" CSR`).subject));
      let body: Record<string, unknown> | undefined;
      try {
        body = await vault.request("POST", `${config.mount}/sign/${config.role}`, {
          csr: csrPem,
          ...(cn ? { common_name: cn } : {}),
          // An email CN becomes an email SAN in Vault, which is harmless; only a non-hostname is excluded.
          ...(cn && !cn.includes("@") && !isVaultHostname(cn) ? { exclude_cn_from_sans: true } : {}),
          format: "pem",
          ...(config.ttl ? { ttl: `${Math.floor(config.ttl / 1000)}s` } : {}),
        });
      } catch (error) {
        if (isVaultStatus(error, 400)) {
          throw new CertrotorError(
            "ISSUER_FAILED",
            `issuer "${name}": Vault refused to sign: ${error.errors.join("; ")}`,
            {
              cause: error,
              retryable: false,
            },
          );
        }
        throw error;
      }
      const data = (body?.data ?? {}) as Record<string, unknown>;
      const certPem = asString(data.certificate, "certificate", name);
      const issuing = asString(data.issuing_ca, "issuing_ca", name);
      const chain = Array.isArray(data.ca_chain)
        ? (data.ca_chain as unknown[]).filter((c): c is string => typeof c === "string")
        : [issuing];
      caPem = chain.at(-1) ?? issuing;
      return { certPem: `${certPem.trim()}\n`, chainPem: `${chain.map((c) => c.trim()).join("\n")}\n` };
    },
    async trustBundle(): Promise<string> {
      if (caPem) return caPem;
      const body = await vault.request("GET", `${config.mount}/cert/ca`);
      caPem = asString((body?.data as Record<string, unknown> | undefined)?.certificate, "certificate", name);
      return caPem;
    },
    close: () => vault.close(),
  };
}
