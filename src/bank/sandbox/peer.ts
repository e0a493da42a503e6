/**
 * Judges the client certificate a TLS peer presented. The sandbox's server accepts any client
 * certificate in the handshake (see server.ts for why) and every protected route calls `checkPeer`,
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
} from "../../crypto/index.js";
import { isCertrotorError } from "../../errors.js";

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

/** The certificate the client presented on this socket (undefined when it sent none), and what followed it. */
export function peerOf(socket: TLSSocket): { peer: Peer; chainPem: string } | undefined {
  const x509 = socket.getPeerX509Certificate();
  if (!x509) return undefined;
  const certPem = toPem("CERTIFICATE", x509.raw);
  const digest = createHash("sha256").update(x509.raw).digest();
  const peer = {
    certPem,
    info: inspectCertificate(certPem, "client certificate"),
    fingerprint: digest.toString("hex"),
    thumbprint: digest.toString("base64url"),
  };
  return { peer, chainPem: presentedChain(socket) };
}

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

/** Trust decision for the socket's client certificate at `now`, against `anchorsPem` (the trusted CA bundle). */
export function checkPeer(socket: TLSSocket, anchorsPem: string, now: Date): PeerCheck {
  const presented = peerOf(socket);
  if (!presented) return { ok: false, reason: "no_certificate" };
  const { peer, chainPem } = presented;
  if (now > peer.info.notAfter) return { ok: false, reason: "expired", peer };
  if (now < peer.info.notBefore) return { ok: false, reason: "not_yet_valid", peer };
  if (!hasClientAuth(peer.info)) return { ok: false, reason: "not_client_auth", peer };
  try {
    verifyChain(peer.certPem, chainPem, anchorsPem, now, "client certificate");
  } catch (error) {
    if (isCertrotorError(error)) return { ok: false, reason: "untrusted_chain", peer };
    throw error;
  }
  return { ok: true, peer };
}
