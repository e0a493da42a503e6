/**
 * Credentials the sandbox starts with: given in code (`startSandbox({ credentials })`) or read from a JSON
 * file. File format (snake_case, as the admin API):
 *
 *   { "credentials": [ { "client_id": "acme", "client_secret": "…", "status": "active",
 *       "allowed_ips": ["127.0.0.1", "10.0.0.0/8"],
 *       "certificates": ["-----BEGIN CERTIFICATE-----…"], "certificate_files": ["acme.pem"] } ] }
 *
 * `certificate_files` are read relative to the seed file. Certificates are registered and bound in order.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { CertrotorError } from "../errors.js";
import { HttpError } from "./http.js";
import type { CredentialStatus, SandboxState } from "./state.js";

export interface SeedCredential {
  clientId: string;
  clientSecret: string;
  status?: CredentialStatus;
  /** Default: loopback only (127.0.0.0/8, ::1). */
  allowedIps?: string[];
  /** PEM certificates registered and bound to the credential (at most 2). */
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
  });
  for (const pem of seed.certificates ?? []) {
    const { record } = state.registerCertificate(pem);
    state.bind(seed.clientId, { certificateId: record.id });
  }
}
