/**
 * PKI roles (`pki/roles/:name`, builtin/logical/pki/path_roles.go): the fields sign/:role consults, with
 * Vault's defaults, parsed from a role write and shown back on read.
 */
import { parseDurationSeconds } from "./time.js";

export interface PkiRole {
  allowedDomains: string[];
  allowAnyName: boolean;
  allowSubdomains: boolean;
  allowBareDomains: boolean;
  allowLocalhost: boolean;
  clientFlag: boolean;
  serverFlag: boolean;
  keyType: "rsa" | "ec" | "any";
  ttl: number;
  maxTtl: number;
  useCsrCommonName: boolean;
  useCsrSans: boolean;
  enforceHostnames: boolean;
  /** `cn_validations` (default ["email", "hostname"]; ["disabled"] turns CN checks off). */
  cnValidations: string[];
  /** `require_cn` (default true). */
  requireCn: boolean;
  /** `allow_ip_sans` (default true). */
  allowIpSans: boolean;
  organization: string[];
  ou: string[];
  country: string[];
  /** Our names (digitalSignature, ...); Vault's are DigitalSignature, ... */
  keyUsage: string[];
}

const DEFAULT_KEY_USAGE = ["DigitalSignature", "KeyAgreement", "KeyEncipherment"];

/** TypeCommaStringSlice: an array or a comma-separated string. */
function stringList(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String).filter((s) => s !== "");
  if (typeof raw === "string")
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  return [];
}

function bool(raw: unknown, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  return raw === true || raw === "true" || raw === 1 || raw === "1";
}

/** The role after a write (fields absent keep their defaults), or the 400 error text. */
export function parseRole(data: Record<string, unknown>): PkiRole | string {
  const keyType = data.key_type === undefined ? "rsa" : String(data.key_type);
  if (keyType !== "rsa" && keyType !== "ec" && keyType !== "any") return `unknown key type ${keyType}`;
  const ttl = data.ttl === undefined ? 0 : parseDurationSeconds(data.ttl);
  const maxTtl = data.max_ttl === undefined ? 0 : parseDurationSeconds(data.max_ttl);
  if (ttl === undefined || maxTtl === undefined) return "invalid ttl or max_ttl";
  if (maxTtl > 0 && ttl > maxTtl) return `"ttl" value must be less than "max_ttl" value`;
  const usage = data.key_usage === undefined ? DEFAULT_KEY_USAGE : stringList(data.key_usage);
  return {
    allowedDomains: stringList(data.allowed_domains),
    allowAnyName: bool(data.allow_any_name, false),
    allowSubdomains: bool(data.allow_subdomains, false),
    allowBareDomains: bool(data.allow_bare_domains, false),
    allowLocalhost: bool(data.allow_localhost, true),
    clientFlag: bool(data.client_flag, true),
    serverFlag: bool(data.server_flag, true),
    keyType,
    ttl,
    maxTtl,
    useCsrCommonName: bool(data.use_csr_common_name, true),
    useCsrSans: bool(data.use_csr_sans, true),
    enforceHostnames: bool(data.enforce_hostnames, true),
    cnValidations:
      data.cn_validations === undefined ? ["email", "hostname"] : stringList(data.cn_validations),
    requireCn: bool(data.require_cn, true),
    allowIpSans: bool(data.allow_ip_sans, true),
    organization: stringList(data.organization),
    ou: stringList(data.ou),
    country: stringList(data.country),
    keyUsage: usage.map((u) => u.charAt(0).toLowerCase() + u.slice(1)),
  };
}

export function roleView(role: PkiRole): Record<string, unknown> {
  return {
    allow_any_name: role.allowAnyName,
    allow_bare_domains: role.allowBareDomains,
    allow_localhost: role.allowLocalhost,
    allow_subdomains: role.allowSubdomains,
    allowed_domains: role.allowedDomains,
    allow_ip_sans: role.allowIpSans,
    client_flag: role.clientFlag,
    cn_validations: role.cnValidations,
    country: role.country,
    enforce_hostnames: role.enforceHostnames,
    ext_key_usage: [],
    key_type: role.keyType,
    key_usage: role.keyUsage.map((u) => u.charAt(0).toUpperCase() + u.slice(1)),
    max_ttl: role.maxTtl,
    organization: role.organization,
    ou: role.ou,
    require_cn: role.requireCn,
    server_flag: role.serverFlag,
    ttl: role.ttl,
    use_csr_common_name: role.useCsrCommonName,
    use_csr_sans: role.useCsrSans,
  };
}
