/**
 * The institution's own private CA (seed 002) as an issuer. The CA's key and certificate are held in a
 * secret store (as `certPem`/`keyPem` of the material at `path`), never in config or on local disk.
 */
import { assertKeyMatchesCertificate } from "../crypto/match.js";
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { LoadedCa } from "../crypto/ca.js";
import type { CredentialRef, SecretStore } from "../stores/types.js";
import type { IssueRequest, IssuedCertificate, Issuer } from "./types.js";

export interface LocalCaOptions {
  store: SecretStore;
  path: string;
  validityMs: number;
}

interface CaMaterial {
  certPem: string;
  keyPem: string;
  chainPem: string;
}

let caModule: Promise<typeof import("../crypto/ca.js")> | undefined;

export function createLocalCaIssuer(name: string, options: LocalCaOptions): Issuer {
  const ref: CredentialRef = { credentialId: `issuer:${name}`, path: options.path };
  let cached: Promise<CaMaterial> | undefined;
  /** The CA key parsed and checked once per loaded material, not per signature. */
  let loaded: { from: CaMaterial; ca: Promise<LoadedCa> } | undefined;

  const loadCa = (): Promise<CaMaterial> => {
    cached ??= options.store.readCurrent(ref).then(
      ({ material }) => ({
        certPem: material.certPem,
        keyPem: material.keyPem,
        chainPem: material.chainPem ?? "",
      }),
      (error: unknown) => {
        cached = undefined;
        if (isCertrotorError(error, "NOT_FOUND") || isCertrotorError(error, "MATERIAL_INVALID")) {
          throw new CertrotorError(
            "CA_KEY_MISSING",
            `issuer "${name}": the CA key and certificate are not in store "${options.store.name}" at "${options.path}"`,
            { cause: error, details: { issuer: name, path: options.path } },
          );
        }
        throw error;
      },
    );
    return cached;
  };

  return {
    kind: "local-ca",
    name,
    subjectMatch: "exact",
    async check(): Promise<void> {
      const ca = await loadCa();
      assertKeyMatchesCertificate(
        ca.keyPem,
        ca.certPem,
        `issuer "${name}" CA in store "${options.store.name}" at "${options.path}"`,
      );
    },
    async issue(request: IssueRequest): Promise<IssuedCertificate> {
      const ca = await loadCa();
      // the CA code (@peculiar/x509) loads on the first issue: a command that only reads (status) skips it
      // (the promise is kept: each import() of a loaded module still goes through the resolver)
      caModule ??= import("../crypto/ca.js");
      const { loadSigningCa, signClientCsr } = await caModule;
      if (loaded?.from !== ca) {
        const parsing = loadSigningCa(ca.certPem, ca.keyPem);
        loaded = { from: ca, ca: parsing };
        parsing.catch(() => {
          if (loaded?.ca === parsing) loaded = undefined; // a bad CA is reported on each issue, not kept
        });
      }
      const certPem = await signClientCsr({
        loaded: await loaded.ca,
        csrPem: request.csrPem,
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        validityMs: options.validityMs,
        now: request.now,
      });
      return { certPem, chainPem: [ca.chainPem.trim(), ca.certPem.trim()].filter(Boolean).join("\n") + "\n" };
    },
    async trustBundle(): Promise<string> {
      const ca = await loadCa();
      return ca.chainPem ? `${ca.chainPem.trim()}\n${ca.certPem.trim()}\n` : ca.certPem;
    },
    async close(): Promise<void> {},
  };
}
