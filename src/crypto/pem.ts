/**
 * PEM framing: finds the blocks in a text, checks their kind, and turns DER back into PEM. Every error
 * names the `where` label the caller passed (a file path, "store current material") and the block label
 * found, never the block's content.
 */
import { CertrotorError } from "../errors.js";

export interface PemBlock {
  label: string;
  der: Buffer;
  /** RFC 1421 headers (legacy OpenSSL encrypted keys carry "Proc-Type: 4,ENCRYPTED"). */
  headers: Record<string, string>;
  /** The block's own PEM text, BEGIN to END line. */
  text: string;
}

const CERT_LABELS = ["CERTIFICATE", "X509 CERTIFICATE"] as const;
export const PRIVATE_KEY_LABELS = [
  "PRIVATE KEY",
  "RSA PRIVATE KEY",
  "EC PRIVATE KEY",
  "ENCRYPTED PRIVATE KEY",
];
export const CSR_LABELS = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

function malformed(where: string, why: string): CertrotorError {
  return new CertrotorError("PEM_MALFORMED", `${where}: ${why}`, { details: { where } });
}

function decodeBody(body: string, label: string, where: string): Omit<PemBlock, "label" | "text"> {
  const headers: Record<string, string> = {};
  let text = body;
  const split = /\r?\n\r?\n/.exec(body);
  if (split && body.slice(0, split.index).includes(":")) {
    for (const line of body.slice(0, split.index).split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    text = body.slice(split.index + split[0].length);
  }
  const compact = text.replace(/\s+/g, "");
  if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw malformed(where, `the "${label}" PEM block is not valid base64`);
  }
  // The DER inside is checked by whoever parses it (X.509, PKCS#8, PKCS#10), each with its own coded error.
  return { der: Buffer.from(compact, "base64"), headers };
}

/** Every PEM block in `text`, in order. Throws PEM_MALFORMED when there is none or one is broken. */
function pemBlocks(text: string, where: string): PemBlock[] {
  if (typeof text !== "string") throw malformed(where, "expected PEM text");
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, begin, body, end] = match as unknown as [string, string, string, string];
    if (begin !== end) throw malformed(where, `PEM block "BEGIN ${begin}" ends with "END ${end}"`);
    blocks.push({ label: begin, ...decodeBody(body, begin, where), text: match[0] });
  }
  const begins = text.match(/-----BEGIN /g)?.length ?? 0;
  if (blocks.length === 0) throw malformed(where, "no PEM block found");
  if (begins !== blocks.length) throw malformed(where, "a PEM block has no matching END line");
  return blocks;
}

function wrongKind(where: string, expected: string, label: string): CertrotorError {
  return new CertrotorError(
    "PEM_WRONG_KIND",
    `${where}: expected ${expected}, found a "${label}" PEM block`,
    {
      details: { where, label },
    },
  );
}

/**
 * The first block of `text` carrying one of `labels`; other blocks around it are ignored (a combined
 * cert+key file works), but a text with no such block is PEM_WRONG_KIND naming the first label found.
 */
export function expectBlock(
  text: string,
  labels: readonly string[],
  expected: string,
  where: string,
): PemBlock {
  const blocks = pemBlocks(text, where);
  const found = blocks.find((block) => labels.includes(block.label));
  if (!found) throw wrongKind(where, expected, blocks[0]!.label);
  return found;
}

/** DER of the first certificate in `pem` (a leaf followed by its chain is accepted). */
export function certificateDer(pem: string, where: string): Buffer {
  return expectBlock(pem, CERT_LABELS, "a certificate", where).der;
}

/** DER of every certificate in `pem`; every block must be a certificate. */
export function certificatesDer(pem: string, where: string): Buffer[] {
  return pemBlocks(pem, where).map((block) => {
    if (!(CERT_LABELS as readonly string[]).includes(block.label))
      throw wrongKind(where, "certificates", block.label);
    return block.der;
  });
}

export function toPem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Normalises a bundle of certificates to LF-terminated PEM blocks, one per certificate. */
export function certificatesPem(ders: readonly Buffer[]): string {
  return ders.map((der) => toPem("CERTIFICATE", der)).join("");
}
