/**
 * Judges the client certificate a TLS peer presented. The sandbox's server accepts any client
 * certificate in the handshake (see server.ts for why) and every protected route asks a `PeerJudge`,
 * which refuses unless the leaf chains to a trusted root, is inside its validity window at the sandbox's
 * clock and may be used for client authentication. Proof of key possession is already done: the TLS
 * handshake verified the client's CertificateVerify signature with the leaf's public key.
 */
import { createHash } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";
import {
  type CertificateInfo,
  hasClientAuth,
  inspectCertificate,
  toPem,
  verifyChain,
} from "../crypto/index.js";
import { isCertrotorError } from "../errors.js";

const MAX_DEPTH = 8;

export interface Peer {
  readonly certPem: string;
  readonly info: CertificateInfo;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  /** SHA-256 of the DER, base64url (RFC 8705 x5t#S256). */
  readonly thumbprint: string;
}

export type PeerCheck =
  | { ok: true; peer: Peer }
  | {
      ok: false;
      reason: "no_certificate" | "untrusted_chain" | "expired" | "not_yet_valid" | "not_client_auth";
      peer?: Peer;
    };

/** PEM of the certificates the client sent after its leaf (its intermediates, maybe a root). */
function presentedChain(socket: TLSSocket): string {
  const out: string[] = [];
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  for (let depth = 0; current && depth < MAX_DEPTH; depth++) {
    const next: DetailedPeerCertificate | undefined = current.issuerCertificate;
    if (!next || next === current || next.raw.equals(current.raw)) break;
    out.push(toPem("CERTIFICATE", next.raw));
    current = next;
  }
  return out.join("");
}

interface Judged {
  peer: Peer;
  chainOk: boolean;
  /** Sandbox time of the chain verification. */
  checkedAt: number;
}

/** A chain verdict is reused for this long (sandbox clock); the leaf's own validity is checked every time. */
const CHAIN_VERDICT_TTL_MS = 60_000;
const MAX_CACHED = 1_000;

/**
 * Trust decisions against one CA bundle. Parsing and chain verification cost more than the handshake
 * itself, and a client presents the same certificate on every new connection, so a leaf found to chain
 * to a trusted CA is remembered (bounded, for at most a minute of sandbox time). A refusal is never
 * cached: the same leaf may come back with the intermediate it lacked.
 */
export class PeerJudge {
  private readonly cache = new Map<string, Judged>();

  constructor(private readonly anchorsPem: string) {}

  check(socket: TLSSocket, now: Date): PeerCheck {
    const x509 = socket.getPeerX509Certificate();
    if (!x509) return { ok: false, reason: "no_certificate" };
    const judged = this.judge(socket, x509.raw, now);
    const { peer } = judged;
    if (now > peer.info.notAfter) return { ok: false, reason: "expired", peer };
    if (now < peer.info.notBefore) return { ok: false, reason: "not_yet_valid", peer };
    if (!hasClientAuth(peer.info)) return { ok: false, reason: "not_client_auth", peer };
    return judged.chainOk ? { ok: true, peer } : { ok: false, reason: "untrusted_chain", peer };
  }

  private judge(socket: TLSSocket, leafDer: Buffer, now: Date): Judged {
    const digest = createHash("sha256").update(leafDer).digest();
    const key = digest.toString("hex");
    const cached = this.cache.get(key);
    if (cached && Math.abs(now.getTime() - cached.checkedAt) < CHAIN_VERDICT_TTL_MS) return cached;
    const chainPem = presentedChain(socket);
    const certPem = toPem("CERTIFICATE", leafDer);
    const peer: Peer = {
      certPem,
      info: inspectCertificate(certPem, "client certificate"),
      fingerprint: digest.toString("hex"),
      thumbprint: digest.toString("base64url"),
    };
    let chainOk = true;
    try {
      verifyChain(certPem, chainPem, this.anchorsPem, now, "client certificate");
    } catch (error) {
      if (!isCertrotorError(error)) throw error;
      chainOk = false;
    }
    const judged = { peer, chainOk, checkedAt: now.getTime() };
    if (!chainOk) return judged;
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, judged);
    return judged;
  }
}
