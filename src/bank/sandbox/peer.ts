/**
 * Judges the client certificate a TLS peer presented. The sandbox's server accepts any client
 * certificate in the handshake (see server.ts for why) and every protected route calls `checkPeer`,
 * which refuses unless the leaf chains to a trusted root, is inside its validity window at the sandbox's
 * clock and may be used for client authentication. Proof of key possession is already done: the TLS
 * handshake verified the client's CertificateVerify signature with the leaf's public key.
 */
import { createHash, X509Certificate } from "node:crypto";
import type { DetailedPeerCertificate, TLSSocket } from "node:tls";

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const MAX_DEPTH = 8;

export interface Peer {
  readonly x509: X509Certificate;
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

/** The certificate the client presented on this socket (undefined when it sent none). */
export function peerOf(socket: TLSSocket): { peer: Peer; intermediates: X509Certificate[] } | undefined {
  const x509 = socket.getPeerX509Certificate();
  if (!x509) return undefined;
  const digest = createHash("sha256").update(x509.raw).digest();
  const peer = { x509, fingerprint: digest.toString("hex"), thumbprint: digest.toString("base64url") };
  return { peer, intermediates: presentedIntermediates(socket) };
}

/** Certificates the client sent after its leaf (its intermediates, and maybe a root). */
function presentedIntermediates(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  for (let depth = 0; current && depth < MAX_DEPTH; depth++) {
    const next: DetailedPeerCertificate | undefined = current.issuerCertificate;
    if (!next || next === current || next.raw.equals(current.raw)) break;
    out.push(new X509Certificate(next.raw));
    current = next;
  }
  return out;
}

const withinValidity = (x509: X509Certificate, now: Date): "expired" | "not_yet_valid" | undefined => {
  if (now.getTime() > new Date(x509.validTo).getTime()) return "expired";
  if (now.getTime() < new Date(x509.validFrom).getTime()) return "not_yet_valid";
  return undefined;
};

const issuedBy = (child: X509Certificate, parent: X509Certificate): boolean =>
  child.checkIssued(parent) && child.verify(parent.publicKey);

/** Trust decision for the socket's client certificate at `now`, against the `anchors` (trusted roots). */
export function checkPeer(socket: TLSSocket, anchors: readonly X509Certificate[], now: Date): PeerCheck {
  const presented = peerOf(socket);
  if (!presented) return { ok: false, reason: "no_certificate" };
  const { peer, intermediates } = presented;
  const leafTime = withinValidity(peer.x509, now);
  if (leafTime) return { ok: false, reason: leafTime, peer };
  const usages = peer.x509.keyUsage;
  if (usages !== undefined && !usages.includes(CLIENT_AUTH))
    return { ok: false, reason: "not_client_auth", peer };
  let current = peer.x509;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const anchor = anchors.find((candidate) => issuedBy(current, candidate));
    if (anchor)
      return withinValidity(anchor, now)
        ? { ok: false, reason: "untrusted_chain", peer }
        : { ok: true, peer };
    const parent = intermediates.find((candidate) => candidate.ca && issuedBy(current, candidate));
    if (!parent || withinValidity(parent, now)) return { ok: false, reason: "untrusted_chain", peer };
    current = parent;
  }
  return { ok: false, reason: "untrusted_chain", peer };
}
