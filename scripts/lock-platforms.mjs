#!/usr/bin/env node
// The package registry reachable from our machines lacks some platform builds of optional packages
// (e.g. @biomejs/cli-win32-x64, @msgpackr-extract/msgpackr-extract-darwin-arm64), so `npm install`
// leaves them out of package-lock.json and `npm ci` then refuses the lock ("Missing: ... from lock
// file"). This adds the missing optional platform entries (version, os, cpu, libc; never fetched on a
// machine of another platform) so `npm ci` works here and elsewhere. Run it after `npm install`.
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
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: added ${added} optional platform entr${added === 1 ? "y" : "ies"}`);
