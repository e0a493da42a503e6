/**
 * `certrotor sandbox portal bind|unbind|sign ...`: plays the person at the bank's portal against a
 * running sandbox (tests and demos of manual registration and portal signing). Connection details come
 * from the `sandbox.json` that `certrotor sandbox --out DIR` wrote (`--sandbox` names it or its folder);
 * the portal key stays in that file and is never printed. Calls go over TLS pinned to the sandbox's
 * server CA (the `bank-ca.pem` beside it), through the bank client's own transport.
 *
 *   certrotor sandbox portal bind   --client-id ID --cert new.pem           [--sandbox DIR]
 *   certrotor sandbox portal unbind --client-id ID --cert old.pem | --fingerprint HEX
 *   certrotor sandbox portal sign   --csr request.csr --out signed.pem [--chain-out chain.pem]
 */
import { readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { bankText } from "../../bank/answers.js";
import { plainSession } from "../../bank/mtls.js";
import { type HttpAnswer, send } from "../../bank/transport.js";
import { fingerprintOf, inspectCertificate } from "../../crypto/index.js";
import { CertrotorError } from "../../errors.js";
import type { SandboxDetails } from "../../sandbox/kit.js";

interface Portal {
  call(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<HttpAnswer>;
  close(): void;
}

const bad = (message: string, hint?: string): CertrotorError =>
  new CertrotorError("BAD_ARGUMENT", message, hint ? { hint } : {});

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new CertrotorError("CONFIG_NOT_FOUND", `${flag}: ${path} cannot be read (${code})`, {
      cause: error,
    });
  }
}

/** sandbox.json at `path`, or inside the folder `path`. */
async function loadDetails(path: string): Promise<{ details: SandboxDetails; file: string }> {
  const isDir = await stat(path).then(
    (found) => found.isDirectory(),
    () => false,
  );
  const file = isDir ? join(path, "sandbox.json") : path;
  const text = await readText(file, "--sandbox");
  let details: Partial<SandboxDetails>;
  try {
    details = JSON.parse(text) as Partial<SandboxDetails>;
  } catch (error) {
    throw new CertrotorError("CONFIG_INVALID", `--sandbox: ${file} is not valid JSON`, { cause: error });
  }
  const missing = (["portal_url", "portal_api_key", "server_ca_file"] as const).filter(
    (key) => typeof details[key] !== "string",
  );
  if (missing.length > 0) {
    throw new CertrotorError("CONFIG_INVALID", `--sandbox: ${file} has no ${missing.join(", ")}`, {
      hint: "it was written by an older certrotor sandbox: restart `certrotor sandbox --out DIR`",
    });
  }
  return { details: details as SandboxDetails, file };
}

async function openPortal(sandboxPath: string): Promise<Portal> {
  const { details, file } = await loadDetails(resolve(sandboxPath));
  const caPem = await readText(resolve(dirname(file), details.server_ca_file), "--sandbox");
  const session = plainSession({ caPem, minVersion: "TLSv1.2", maxVersion: "TLSv1.3" });
  const base = details.portal_url.replace(/\/+$/, "");
  return {
    call: (method, path, body) =>
      send({
        method,
        url: new URL(`${base}${path}`),
        headers: { authorization: `Bearer ${details.portal_api_key}` },
        body,
        session,
        timeoutMs: 15_000,
      }),
    close: () => session.agent.destroy(),
  };
}

/** A refusal of the portal as the CLI's one line (the portal's own description, never the key). */
function refusal(answer: HttpAnswer, what: string): CertrotorError {
  const said = bankText(answer);
  const text = `${what}: the portal answered ${answer.status}${said ? `: ${said}` : ""}`;
  if (answer.status === 409) return new CertrotorError("SLOTS_FULL", text);
  if (answer.status === 401) {
    return bad(
      text,
      "the portal key in sandbox.json is not this sandbox's: point --sandbox at its --out folder",
    );
  }
  if (answer.status >= 500) return new CertrotorError("BANK_UNAVAILABLE", text);
  return bad(text);
}

async function withPortal<T>(sandboxPath: string, run: (portal: Portal) => Promise<T>): Promise<T> {
  const portal = await openPortal(sandboxPath);
  try {
    return await run(portal);
  } finally {
    portal.close();
  }
}

const credentialPath = (clientId: string): string =>
  `/credentials/${encodeURIComponent(clientId)}/certificates`;

function describe(certPem: string): string {
  const info = inspectCertificate(certPem, "the certificate");
  return `${info.fingerprint} (${info.subject}, notAfter ${info.notAfter.toISOString()})`;
}

interface Common {
  sandbox: string;
}

async function bind(flags: Common & { clientId: string; cert: string }): Promise<void> {
  const certPem = await readText(resolve(flags.cert), "--cert");
  describe(certPem); // a file that is no certificate fails here, before the portal is asked
  await withPortal(flags.sandbox, async (portal) => {
    const answer = await portal.call("POST", credentialPath(flags.clientId), { pem: certPem });
    if (answer.status !== 200 && answer.status !== 201) throw refusal(answer, "portal bind");
    const already = answer.status === 200 ? " (it was already bound)" : "";
    process.stdout.write(`bound ${describe(certPem)} to credential "${flags.clientId}"${already}\n`);
  });
}

async function unbind(
  flags: Common & { clientId: string; cert?: string; fingerprint?: string },
): Promise<void> {
  if ((flags.cert === undefined) === (flags.fingerprint === undefined)) {
    throw bad("give exactly one of --cert <file> and --fingerprint <sha256 hex>");
  }
  const fingerprint =
    flags.fingerprint !== undefined
      ? flags.fingerprint.replace(/:/g, "").toLowerCase()
      : fingerprintOf(await readText(resolve(flags.cert!), "--cert"), "--cert");
  if (!/^[0-9a-f]{64}$/.test(fingerprint)) throw bad("--fingerprint: expected 64 hex digits (SHA-256)");
  await withPortal(flags.sandbox, async (portal) => {
    const answer = await portal.call("DELETE", `${credentialPath(flags.clientId)}/${fingerprint}`);
    if (answer.status !== 204 && answer.status !== 200) throw refusal(answer, "portal unbind");
    process.stdout.write(`unbound ${fingerprint} from credential "${flags.clientId}"\n`);
  });
}

async function sign(flags: Common & { csr: string; out: string; chainOut?: string }): Promise<void> {
  const csrPem = await readText(resolve(flags.csr), "--csr");
  const signed = await withPortal(flags.sandbox, async (portal) => {
    const answer = await portal.call("POST", "/certificate-requests", { csr: csrPem });
    if (answer.status !== 201 && answer.status !== 200) throw refusal(answer, "portal sign");
    const body = answer.json as { certificate_pem?: unknown; chain_pem?: unknown } | undefined;
    if (typeof body?.certificate_pem !== "string" || typeof body.chain_pem !== "string") {
      throw new CertrotorError(
        "BANK_PROTOCOL",
        "portal sign: the answer has no certificate_pem and chain_pem",
      );
    }
    return { certPem: body.certificate_pem, chainPem: body.chain_pem };
  });
  const write = async (path: string, content: string, flag: string): Promise<void> => {
    try {
      await writeFile(resolve(path), content, { mode: 0o644 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      throw bad(`${flag}: cannot write ${path} (${code})`);
    }
  };
  await write(flags.out, signed.certPem, "--out");
  if (flags.chainOut !== undefined) await write(flags.chainOut, signed.chainPem, "--chain-out");
  process.stdout.write(`signed ${describe(signed.certPem)} written to ${flags.out}\n`);
}

export function registerPortal(sandbox: Command): void {
  const portal = sandbox
    .command("portal")
    .description("Play the person at the sandbox bank's portal: bind, unbind, sign (reads sandbox.json)");
  const sandboxOption = ["--sandbox <path>", "sandbox.json, or the --out folder holding it", "."] as const;
  portal
    .command("bind")
    .description("Bind a certificate to a credential in the portal (works for portal-only credentials)")
    .requiredOption("--client-id <id>", "the credential's client_id")
    .requiredOption("--cert <file>", "PEM certificate to bind")
    .option(...sandboxOption)
    .action(bind);
  portal
    .command("unbind")
    .description("Unbind a certificate from a credential in the portal")
    .requiredOption("--client-id <id>", "the credential's client_id")
    .option("--cert <file>", "PEM certificate to unbind")
    .option("--fingerprint <sha256>", "SHA-256 (hex) of the certificate to unbind")
    .option(...sandboxOption)
    .action(unbind);
  portal
    .command("sign")
    .description("Have the bank's CA sign a CSR, as seed 000's portal does")
    .requiredOption("--csr <file>", "PEM certificate signing request")
    .requiredOption("--out <file>", "where to write the signed certificate (PEM)")
    .option("--chain-out <file>", "where to write the bank's CA chain (PEM)")
    .option(...sandboxOption)
    .action(sign);
}
