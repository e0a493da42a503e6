/**
 * `certrotor issuer import`: put the institution's own CA (seed 002) into the store a `local-ca` issuer
 * reads it from, so a fleet signed by an existing CA can be onboarded without writing to the store by
 * hand. Checked before anything is written: the issuer is a local-ca one, the certificate is a CA that
 * may sign certificates and is valid now, and the key is its key. A different CA already there is only
 * replaced when asked (the certificates it signed stay trusted only where the bank trusts both). Written
 * like an import: compare-and-set against the version read, the old CA kept as previous.
 */
import { assertKeyMatchesCertificate, fingerprintOf, inspectCertificate } from "../crypto/index.js";
import { CertrotorError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import type { CredentialRef, Material } from "../stores/types.js";
import { newWriteId, readCurrentOrNull, writeCurrent } from "./write-current.js";

export interface CaInput {
  certPem: string;
  keyPem: string;
  chainPem?: string;
}

export interface CaImportResult {
  store: string;
  path: string;
  fingerprint: string;
  notAfter: string;
  unchanged: boolean;
  replacedFingerprint?: string;
}

function refused(where: string, why: string, hint: string): CertrotorError {
  return new CertrotorError("IMPORT_REJECTED", `${where}: ${why}; nothing was written`, { hint });
}

/** The issuer's config, or BAD_ARGUMENT naming what is configured. */
function localCaIssuer(runtime: Runtime, name: string): { store: string; path: string } {
  const issuer = runtime.config.issuers[name];
  if (!issuer) {
    const known = Object.keys(runtime.config.issuers).join(", ") || "none";
    throw new CertrotorError("BAD_ARGUMENT", `issuer "${name}" is not in the config (issuers: ${known})`, {
      hint: "certrotor issuer import <issuer> names an entry under issuers of kind local-ca",
    });
  }
  if (issuer.kind !== "local-ca") {
    throw new CertrotorError(
      "BAD_ARGUMENT",
      `issuer "${name}" is of kind ${issuer.kind}: only a local-ca issuer keeps its CA in a store`,
      { hint: "a vault-pki, bank or bank-portal issuer's CA lives at Vault or at the bank" },
    );
  }
  return { store: issuer.store, path: issuer.path };
}

export async function importCa(
  runtime: Runtime,
  issuerName: string,
  input: CaInput,
  options: { replace: boolean },
): Promise<CaImportResult> {
  const target = localCaIssuer(runtime, issuerName);
  const where = `issuer ${issuerName} CA`;
  const info = inspectCertificate(input.certPem, `${where} --cert`);
  if (!info.isCa)
    throw refused(
      where,
      "the certificate is not a CA that may sign certificates (basicConstraints cA with keyCertSign)",
      "give the issuing CA's certificate, not a client certificate",
    );
  const now = runtime.now();
  if (info.notAfter <= now || info.notBefore > now)
    throw refused(
      where,
      `the CA certificate is valid from ${info.notBefore.toISOString()} to ${info.notAfter.toISOString()}, not now`,
      "give a CA certificate that is valid now",
    );
  assertKeyMatchesCertificate(input.keyPem, input.certPem, `${where} --key`);

  const store = runtime.stores.get(target.store);
  if (!store)
    throw new CertrotorError("CONFIG_INVALID", `issuers.${issuerName}.store: no store "${target.store}"`);
  const ref: CredentialRef = { credentialId: `issuer:${issuerName}`, path: target.path };
  const before = await readCurrentOrNull(store, ref);
  const fingerprint = fingerprintOf(input.certPem);
  const result = {
    store: target.store,
    path: target.path,
    fingerprint,
    notAfter: info.notAfter.toISOString(),
  };
  if (before?.material.fingerprint === fingerprint && before.material.keyPem === input.keyPem)
    return { ...result, unchanged: true };
  if (before && !options.replace)
    throw refused(
      where,
      `store "${target.store}" already holds CA ${before.material.fingerprint.slice(0, 16)}… at "${target.path}"`,
      "add --replace to make this CA the one that signs from now on (the old one is kept as previous)",
    );
  const material: Material = {
    clientId: "-",
    certPem: input.certPem,
    keyPem: input.keyPem,
    ...(input.chainPem?.trim() ? { chainPem: input.chainPem } : {}),
    fingerprint,
    notAfter: result.notAfter,
  };
  await writeCurrent(store, ref, material, newWriteId("import"), before);
  return {
    ...result,
    unchanged: false,
    ...(before ? { replacedFingerprint: before.material.fingerprint } : {}),
  };
}
