/**
 * The checks `certrotor import` makes before it writes anything: the PKCS#12 opens, the key is the
 * certificate's, the certificate allows TLS client authentication, is valid now and chains to the trust
 * bundle of the credential's issuer (what every later rotation's certificate must chain to, and what the
 * bank trusts). Each failure is one coded error naming the flag, never the content; the ones that are not
 * bad input elsewhere (CERT_INVALID, CHAIN_INVALID: a rotation's issued certificate) become
 * IMPORT_REJECTED here, since what is wrong is the operator's file.
 */
import {
  buildPfx,
  checkClientMaterial,
  inspectCertificate,
  loadPrivateKey,
  randomPassphrase,
  readPfx,
  verifyChain,
} from "../crypto/index.js";
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { Material } from "../stores/types.js";
import type { ImportInput } from "./import-input.js";

export interface ImportTarget {
  credentialId: string;
  clientId: string;
  /** The credential's consumers read a PKCS#12 too (config `pfx`). */
  pfx: boolean;
  /**
   * The CA bundle of the credential's issuer; absent where the issuer's CA is not known before it signs
   * (a bank issuer without caFile): the bank's token call is then the only proof, and import requires it.
   */
  trustBundlePem?: string;
  issuerName: string;
  now: Date;
}

function rejected(where: string, why: string, hint: string): CertrotorError {
  return new CertrotorError("IMPORT_REJECTED", `${where}: ${why}; nothing was written`, {
    hint,
    details: { where },
  });
}

/** Certificate blocks after the first one in a --cert file are its chain. */
function splitLeaf(certPem: string): { leaf: string; rest: string } {
  const blocks = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length <= 1) return { leaf: certPem, rest: "" };
  return { leaf: `${blocks[0]}\n`, rest: `${blocks.slice(1).join("\n")}\n` };
}

function openSource(input: ImportInput): {
  certPem: string;
  keyPem: string;
  chainPem?: string;
  where: string;
} {
  const { source } = input;
  if (source.kind === "pfx") {
    const where = `--pfx ${source.file}`;
    const contents = readPfx(source.pfx, source.passphrase, where);
    return { ...contents, ...(contents.chainPem ? { chainPem: contents.chainPem } : {}), where };
  }
  const where = `--cert ${source.files.cert}`;
  const { leaf, rest } = splitLeaf(source.certPem);
  const chainPem = [rest.trim(), source.chainPem?.trim() ?? ""].filter(Boolean).join("\n");
  const keyPem = loadPrivateKey(source.keyPem, undefined, `--key ${source.files.key}`);
  return { certPem: leaf, keyPem, ...(chainPem ? { chainPem: `${chainPem}\n` } : {}), where };
}

/** The material to write as current, after every check passed. */
export function checkImport(input: ImportInput, target: ImportTarget): Material {
  const { certPem, keyPem, chainPem, where } = openSource(input);
  try {
    checkClientMaterial({ certPem, keyPem }, where);
  } catch (error) {
    if (isCertrotorError(error, "CERT_INVALID"))
      throw rejected(
        where,
        "the certificate does not allow TLS client authentication (no clientAuth)",
        "import the credential's client certificate, issued with extendedKeyUsage clientAuth",
      );
    throw error;
  }
  const info = inspectCertificate(certPem, where);
  if (info.isCa)
    throw rejected(
      where,
      "the certificate is a CA certificate",
      "import the credential's client certificate, not its CA",
    );
  const now = target.now;
  if (info.notAfter <= now)
    throw rejected(
      where,
      `the certificate expired at ${info.notAfter.toISOString()}`,
      "import a certificate that is still valid (an expired one cannot obtain a token)",
    );
  if (info.notBefore > now)
    throw rejected(
      where,
      `the certificate is not valid before ${info.notBefore.toISOString()}`,
      "check the clock, or import the certificate once it is valid",
    );
  try {
    if (target.trustBundlePem !== undefined)
      verifyChain(certPem, chainPem, target.trustBundlePem, now, where);
  } catch (error) {
    if (!isCertrotorError(error, "CHAIN_INVALID")) throw error;
    throw rejected(
      where,
      `${error.message.replace(`${where}: `, "")} (trust bundle of issuer "${target.issuerName}")`,
      "import a certificate issued by the credential's issuer CA, with its intermediates in --chain",
    );
  }
  const material: Material = {
    clientId: target.clientId,
    clientSecret: input.clientSecret,
    certPem,
    ...(chainPem ? { chainPem } : {}),
    keyPem,
    fingerprint: info.fingerprint,
    notAfter: info.notAfter.toISOString(),
  };
  if (target.pfx) {
    // consumers read the PKCS#12 with the passphrase stored beside it: a fresh one, as a rotation makes
    const passphrase = randomPassphrase();
    const pfx = buildPfx({
      keyPem,
      certPem,
      ...(chainPem ? { chainPem } : {}),
      passphrase,
      friendlyName: target.credentialId,
    });
    material.pfxBase64 = pfx.toString("base64");
    material.pfxPassphrase = passphrase;
  }
  return material;
}
