/** The console's pure parts: fleet paging and sorting, .ics line folding, scrypt hashes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/schema.js";
import type { FleetRow } from "../../src/console/fleet.js";
import { parseFleetQuery, queryFleet } from "../../src/console/fleet-query.js";
import { escapeText, foldLine } from "../../src/console/ics.js";
import { hashPassword, verifyPassword } from "../../src/console/password.js";
import { escapeHtml, html } from "../../src/console/views/html.js";

const rows: FleetRow[] = Array.from({ length: 60 }, (_, i) => ({
  id: `cred-${String(i).padStart(2, "0")}`,
  bank: i % 2 === 0 ? "even-bank" : "odd-bank",
  store: "main",
  daysLeft: 100 - i,
  state: i < 5 ? "expired" : "ok",
  message: "",
  openAlerts: 0,
}));

describe("console fleet query", () => {
  it("pages the filtered, sorted rows on the server and clamps a page past the end", () => {
    const first = queryFleet(
      rows,
      parseFleetQuery({ bank: "odd-bank", sort: "daysLeft", dir: "asc", size: "25" }),
    );
    assert.equal(first.total, 30);
    assert.equal(first.pages, 2);
    assert.equal(first.rows.length, 25);
    assert.equal(first.rows[0]!.id, "cred-59", "fewest days left first");
    const last = queryFleet(rows, parseFleetQuery({ bank: "odd-bank", sort: "daysLeft", page: "9" }));
    assert.equal(last.query.page, 2);
    assert.equal(last.rows.length, 5);
  });

  it("filters by state and counts every state of the matched rows", () => {
    const page = queryFleet(rows, parseFleetQuery({ state: "expired" }));
    assert.equal(page.total, 5);
    assert.equal(page.counts.ok, 55);
    assert.equal(page.counts.expired, 5);
  });

  it("falls back to defaults for unknown query values instead of failing", () => {
    const query = parseFleetQuery({ sort: "password", size: "7", page: "-3", state: "nope" });
    assert.deepEqual(query, { q: "", sort: "daysLeft", dir: "asc", page: 1, size: 25 });
  });
});

describe("console .ics text", () => {
  it("folds a long line at 75 octets without splitting a UTF-8 character", () => {
    const line = `DESCRIPTION:${"é".repeat(100)}`;
    const folded = foldLine(line).split("\r\n");
    for (const piece of folded) assert.ok(Buffer.byteLength(piece) <= 75);
    assert.equal(folded.map((p, i) => (i === 0 ? p : p.slice(1))).join(""), line);
  });

  it("escapes commas, semicolons, backslashes and newlines in text values", () => {
    assert.equal(escapeText("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
  });
});

describe("console passwords and HTML", () => {
  it("verifies the password a scrypt hash was made from, and nothing else", async () => {
    const hash = await hashPassword("correct horse", { N: 2 ** 12, r: 8, p: 1 });
    assert.match(hash, /^scrypt\$4096\$8\$1\$/);
    assert.equal(await verifyPassword("correct horse", hash), true);
    assert.equal(await verifyPassword("correct horsf", hash), false);
    assert.equal(await verifyPassword("correct horse", "plain-text"), false);
    assert.equal(
      await verifyPassword("x", "scrypt$1073741824$8$1$AAAA$AAAA"),
      false,
      "a cost beyond the bound is refused",
    );
  });

  it("escapes every interpolated value in a page", () => {
    assert.equal(
      html`<td>${'<script>"x"</script>'}</td>`.text,
      `<td>${escapeHtml('<script>"x"</script>')}</td>`,
    );
    assert.doesNotMatch(html`<td>${"<b>"}</td>`.text, /<b>/);
  });
});

describe("console config", () => {
  const hash = "scrypt$4096$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  it("binds loopback by default and refuses a duplicate user or a plain password", () => {
    assert.equal(configSchema.parse({}).console.host, "127.0.0.1");
    const result = configSchema.safeParse({
      console: {
        users: [
          { name: "alice", role: "operator", passwordHash: hash },
          { name: "alice", role: "viewer", passwordHash: "hunter2" },
        ],
      },
    });
    assert.equal(result.success, false);
    const paths = result.error!.issues.map((i) => i.path.join("."));
    assert.ok(paths.includes("console.users.1.name"), paths.join(", "));
    assert.ok(paths.includes("console.users.1.passwordHash"), paths.join(", "));
  });

  it("takes a host that is not loopback with TLS or insecureHttp only", () => {
    assert.equal(configSchema.safeParse({ console: { host: "0.0.0.0" } }).success, false);
    assert.equal(configSchema.safeParse({ console: { host: "0.0.0.0", insecureHttp: true } }).success, true);
    const tls = { host: "10.0.0.5", tls: { certFile: "/etc/c.pem", keyFile: "/etc/k.pem" } };
    assert.equal(configSchema.safeParse({ console: tls }).success, true);
  });
});
