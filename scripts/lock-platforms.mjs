#!/usr/bin/env node
// The package registry reachable from our machines lacks some platform builds of optional packages
// (e.g. @biomejs/cli-win32-x64, @msgpackr-extract/msgpackr-extract-darwin-arm64), so `npm install`
// leaves them out of package-lock.json and `npm ci` then refuses the lock ("Missing: ... from lock
// file"). This adds the missing optional platform entries (version, os, cpu, libc; never fetched on a
// machine of another platform) so `npm ci` works here and elsewhere. Run it after `npm install`.
// Every entry also gets the registry's `integrity` hash (asked of the registry by name and version), so
// `npm ci` anywhere checks each tarball it fetches: no lock entry goes unverified.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;
const OS = ["android", "darwin", "freebsd", "linux", "openbsd", "sunos", "win32", "aix"];
const CPU = ["arm64", "x64", "arm", "ia32", "ppc64", "s390x", "riscv64", "loong64"];

function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  if (!os || !cpu) return undefined;
  return {
    os: [os],
    cpu: [cpu],
    ...(parts.includes("musl") ? { libc: ["musl"] } : parts.includes("gnu") ? { libc: ["glibc"] } : {}),
  };
}

/** The registry's integrity of name@version (`npm view` asks the configured registry). */
function integrityOf(name, version) {
  const out = execFileSync("npm", ["view", `${name}@${version}`, "dist.integrity"], { encoding: "utf8" });
  const integrity = out.trim();
  if (!/^sha512-/.test(integrity))
    throw new Error(`${name}@${version}: the registry gave no sha512 integrity`);
  return integrity;
}

let added = 0;
for (const [key, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    if (packages[depKey] || packages[`${key}/node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    packages[depKey] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}
let hashed = 0;
for (const [key, entry] of Object.entries(packages)) {
  if (key === "" || entry.link || entry.integrity) continue;
  const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
  // Where npm writes it (right after the version), so the lock diff stays one line per entry.
  const { version, ...rest } = entry;
  packages[key] = { version, integrity: integrityOf(name, version), ...rest };
  hashed++;
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  `lock-platforms: added ${added} optional platform entr${added === 1 ? "y" : "ies"}, hashed ${hashed}`,
);
