/**
 * Credentials the sandbox starts with: given in code (`startSandbox({ credentials })`) or read from a JSON
 * file. File format (snake_case, as the admin API):
 *
 *   { "credentials": [ { "client_id": "acme", "client_secret": "…", "status": "active",
 *       "allowed_ips": ["127.0.0.1", "10.0.0.0/8"],
 *       "certificates": ["-----BEGIN CERTIFICATE-----…"], "certificate_files": ["acme.pem"],
 *       "portal_only": false, "max_certificates": 2, "trust_ca": { "subject": "CN=acme,O=Acme,C=BR" } } ] }
 *
 * `certificate_files` are read relative to the seed file. Certificates are registered and bound in order.
 * Modes (state.ts): `portal_only` (the admin API refuses bind/unbind), `max_certificates` 1 or 2,
 * `trust_ca` (seed 002: a certificate from a trusted CA with this subject needs no binding).
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { CertrotorError } from "../errors.js";
import { HttpError } from "./http.js";
import type { CredentialModes, CredentialStatus, SandboxState } from "./state.js";

export interface SeedCredential extends Partial<CredentialModes> {
  clientId: string;
  clientSecret: string;
  status?: CredentialStatus;
  /** Default: loopback only (127.0.0.0/8, ::1). */
  allowedIps?: string[];
  /** PEM certificates registered and bound to the credential (at most `maxCertificates`). */
  certificates?: string[];
}

const fileSchema = z.strictObject({
  credentials: z.array(
    z.strictObject({
      client_id: z.string().min(1),
      client_secret: z.string().min(1),
      status: z.enum(["active", "inactive"]).optional(),
      allowed_ips: z.array(z.string()).optional(),
      certificates: z.array(z.string()).optional(),
      certificate_files: z.array(z.string()).optional(),
      portal_only: z.boolean().optional(),
      max_certificates: z.literal([1, 2]).optional(),
      trust_ca: z.strictObject({ subject: z.string().min(1) }).optional(),
    }),
  ),
});

export async function loadSeedFile(path: string): Promise<SeedCredential[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CertrotorError("CONFIG_NOT_FOUND", `sandbox seed file ${path} cannot be read`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CertrotorError("CONFIG_INVALID", `sandbox seed file ${path} is not valid JSON`, {
      cause: error,
    });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new CertrotorError(
      "CONFIG_INVALID",
      `sandbox seed file ${path}: ${first.path.join(".") || "(root)"}: ${first.message}`,
    );
  }
  const base = dirname(resolve(path));
  return Promise.all(
    parsed.data.credentials.map(async (entry) => {
      const fromFiles = await Promise.all(
        (entry.certificate_files ?? []).map((file) => readFile(resolve(base, file), "utf8")),
      );
      return {
        clientId: entry.client_id,
        clientSecret: entry.client_secret,
        ...(entry.status ? { status: entry.status } : {}),
        ...(entry.allowed_ips ? { allowedIps: entry.allowed_ips } : {}),
        ...(entry.portal_only !== undefined ? { portalOnly: entry.portal_only } : {}),
        ...(entry.max_certificates !== undefined ? { maxCertificates: entry.max_certificates } : {}),
        ...(entry.trust_ca ? { trustCa: entry.trust_ca } : {}),
        certificates: [...(entry.certificates ?? []), ...fromFiles],
      };
    }),
  );
}

/** Creates the credentials in `state` and binds their certificates; CONFIG_INVALID naming the credential. */
export function applySeed(state: SandboxState, credentials: readonly SeedCredential[]): void {
  for (const seed of credentials) {
    try {
      applyOne(state, seed);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      throw new CertrotorError(
        "CONFIG_INVALID",
        `sandbox seed credential "${seed.clientId}": ${error.description}`,
      );
    }
  }
}

function applyOne(state: SandboxState, seed: SeedCredential): void {
  state.createCredential({
    clientId: seed.clientId,
    clientSecret: seed.clientSecret,
    ...(seed.status ? { status: seed.status } : {}),
    ...(seed.allowedIps ? { allowedIps: seed.allowedIps } : {}),
    ...(seed.portalOnly !== undefined ? { portalOnly: seed.portalOnly } : {}),
    ...(seed.maxCertificates !== undefined ? { maxCertificates: seed.maxCertificates } : {}),
    ...(seed.trustCa ? { trustCa: seed.trustCa } : {}),
  });
  for (const pem of seed.certificates ?? []) {
    const { record } = state.registerCertificate(pem);
    state.bind(seed.clientId, { certificateId: record.id });
  }
}
