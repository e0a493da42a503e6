/**
 * Source-IP allowlists (seed 001: "IP de origem permitido"; seed 002: a static registered egress IP).
 * Entries are exact addresses or CIDR blocks, IPv4 or IPv6. An IPv4 client reaching a dual-stack socket
 * shows up as `::ffff:a.b.c.d`; it is matched as the IPv4 address it is.
 */
import { BlockList, isIP } from "node:net";

/** The entry in canonical form, or an error text naming what is wrong with it. */
export function parseAllowEntry(entry: string): { ok: true; value: string } | { ok: false; why: string } {
  const [address = "", prefixText, extra] = entry.trim().split("/");
  const family = isIP(unmapIpv4(address));
  if (extra !== undefined || family === 0)
    return { ok: false, why: `"${entry}" is not an IP address or CIDR block` };
  if (prefixText === undefined) return { ok: true, value: unmapIpv4(address) };
  const prefix = Number(prefixText);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefixText) || prefix > max) {
    return { ok: false, why: `"${entry}" has a prefix length outside 0-${max}` };
  }
  return { ok: true, value: `${unmapIpv4(address)}/${prefix}` };
}

/** `::ffff:127.0.0.1` → `127.0.0.1`; anything else unchanged. */
function unmapIpv4(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match ? match[1]! : address;
}

/** True when `remote` (as the socket reports it) matches one of the canonical `entries`. */
export function ipAllowed(entries: readonly string[], remote: string | undefined): boolean {
  if (!remote) return false;
  const address = unmapIpv4(remote);
  const family = isIP(address);
  if (family === 0) return false;
  const list = new BlockList();
  for (const entry of entries) {
    const [base = "", prefix] = entry.split("/");
    const type = isIP(base) === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(base, type);
    else list.addSubnet(base, Number(prefix), type);
  }
  return list.check(address, family === 4 ? "ipv4" : "ipv6");
}
