/**
 * How Vault's PKI decides the names of a certificate (builtin/logical/pki/issuing/issue_common.go:
 * GenerateCreationBundle, ValidateNames, ValidateCommonName), ported rule for rule:
 *
 * - the CN goes into the SANs unless `exclude_cn_from_sans`: an email CN as an email SAN, anything else through
 *   `idna.New(StrictDomainName(true), VerifyDNSLength(true)).ToASCII` (an error there, e.g. a label longer
 *   than 63 characters, refuses the request with the idna text) and only then as a DNS SAN if it matches the
 *   hostname pattern (`Org Exemplo Ltda` or `client_app_01` are signed without a DNS SAN);
 * - the CN itself is then checked against the role (enforce_hostnames, allow_any_name, allowed_domains, ...),
 *   excluded from the SANs or not;
 * - each DNS and email SAN is checked the same way.
 */
import { domainToASCII } from "node:url";
import type { PkiRole } from "./pki-role.js";

/** labelPattern / wildHostnamePattern of issue_common.go. */
const LABEL = "([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])";
const LEFT_WILD = `(\\*|\\*${LABEL}|${LABEL}\\*|${LABEL}\\*${LABEL})`;
export const WILD_HOSTNAME = new RegExp(`^(${LEFT_WILD}\\.)?(${LABEL}\\.)*${LABEL}\\.?$`);

/** Go's %q for the strings seen here (printable text): a JSON string literal is the same quoting. */
const goQuote = (text: string): string => JSON.stringify(text);

/**
 * golang.org/x/net/idna Profile{useSTD3Rules, verifyDNSLength}.ToASCII (idna10.0.0.go process): no mapping,
 * so ASCII passes unchanged whatever its characters; empty labels and labels over 63 bytes (after punycode)
 * and names over 253 bytes fail with `idna: invalid label "<label or name>"`. Non-ASCII labels are encoded
 * with Node's punycode (domainToASCII), which also maps case: close enough for the ASCII names tests use.
 */
export function idnaToAscii(name: string): { ascii: string } | { error: string } {
  const invalid = (label: string) => ({ error: `idna: invalid label ${goQuote(label)}` });
  if (name === "") return invalid(name);
  const labels = name.split(".");
  // labelIter skips the last label when it is empty (a trailing dot).
  const checked = labels.at(-1) === "" ? labels.slice(0, -1) : labels;
  if (checked.some((label) => label === "")) return invalid(name);
  const converted = labels.map((label) => {
    if ([...label].every((char) => char.charCodeAt(0) < 0x80)) return label;
    const ace = domainToASCII(label);
    return ace === "" ? undefined : ace;
  });
  for (const [index, label] of converted.entries()) {
    if (index === labels.length - 1 && labels[index] === "") continue;
    if (label === undefined) return invalid(labels[index]!);
    if (label.length === 0 || label.length > 63) return invalid(label);
  }
  const ascii = converted.join(".");
  const length = ascii.endsWith(".") ? ascii.length - 1 : ascii.length;
  if (length > 253) return invalid(ascii);
  return { ascii };
}

/** A DNS SAN as Vault adds one: the A-label form when it is a hostname, undefined when it is not one. */
export function hostnameSan(name: string): { san?: string } | { error: string } {
  const converted = idnaToAscii(name);
  if ("error" in converted) return converted;
  return WILD_HOSTNAME.test(converted.ascii) ? { san: converted.ascii } : {};
}

/** ValidateNames: the first name the role refuses, or undefined. */
export function firstRefusedName(role: PkiRole, names: readonly string[]): string | undefined {
  for (const name of names) {
    let reduced = name;
    let isEmail = false;
    if (reduced.includes("@")) {
      const parts = reduced.split("@");
      if (parts.length !== 2) return name;
      reduced = parts[1]!;
      isEmail = true;
    }
    let wildcardLabel = "";
    const isWildcard = reduced.includes("*");
    if (isWildcard) {
      if ((reduced.match(/\*/g) ?? []).length > 1) return name;
      const split = reduced.split(".");
      wildcardLabel = split[0]!;
      reduced = split.slice(1).join(".");
      if (reduced.includes("*")) return name;
      if (isEmail) return name;
    }
    if (role.enforceHostnames && reduced !== "") {
      const converted = idnaToAscii(reduced);
      if ("error" in converted) return name;
      const candidate = isWildcard ? `${wildcardLabel}.${converted.ascii}` : converted.ascii;
      if (!WILD_HOSTNAME.test(candidate)) return name;
    }
    if (role.allowAnyName) continue;
    if (role.allowLocalhost && (reduced === "localhost" || reduced === "localdomain")) continue;
    const domainMatch = role.allowedDomains.some((domain) => {
      if (domain === "") return false;
      const bare =
        role.allowBareDomains && (sameFold(name, domain) || (isEmail && sameFold(reduced, domain)));
      const sub =
        role.allowSubdomains && (reduced.endsWith(`.${domain}`) || (isWildcard && sameFold(reduced, domain)));
      return bare || sub;
    });
    if (domainMatch) continue;
    return name;
  }
  return undefined;
}

const sameFold = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** ValidateCommonName: the CN when the role refuses it, undefined when it may be the subject. */
export function refusedCommonName(role: PkiRole, cn: string): string | undefined {
  if (role.cnValidations.length === 1 && role.cnValidations[0] === "disabled") return undefined;
  if (firstRefusedName(role, [cn]) !== undefined) return cn;
  if (role.cnValidations.length === 0) return undefined;
  const kind = cn.includes("@") ? "email" : "hostname";
  return role.cnValidations.includes(kind) ? undefined : cn;
}
