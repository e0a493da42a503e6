/**
 * What certrotor ships and what it pulls in: every locked package is checked by hash, the production
 * install holds no dev-only tool, third-party base images are pinned by digest, and the compiled CLI
 * (what the image runs) does the main job on its own.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { parseDockerfile, REPO, repoFile } from "./parse.js";

const run = promisify(execFile);

interface LockEntry {
  version?: string;
  integrity?: string;
  dev?: boolean;
  link?: boolean;
}
const lock = JSON.parse(repoFile("package-lock.json")) as { packages: Record<string, LockEntry> };
const manifest = JSON.parse(repoFile("package.json")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** Tools for building, testing and reading logs by eye: none may reach a production install. */
const DEV_ONLY = ["tsx", "esbuild", "pino-pretty", "typescript", "@biomejs/biome", "madge"];
const DIGEST = /@sha256:[0-9a-f]{64}$/;

const packageName = (key: string): string => key.slice(key.lastIndexOf("node_modules/") + 13);

describe("package-lock.json", () => {
  it("carries a sha512 integrity for every package, so npm ci verifies each tarball", () => {
    const entries = Object.entries(lock.packages).filter(([key, entry]) => key !== "" && !entry.link);
    assert.ok(entries.length > 100, `only ${entries.length} entries: not the project's lock`);
    const missing = entries.filter(([, entry]) => !/^sha512-[A-Za-z0-9+/]+=*$/.test(entry.integrity ?? ""));
    assert.deepEqual(
      missing.map(([key]) => key),
      [],
      "run `npm run lock:platforms` to fill them",
    );
  });

  it("has no dev-only tool in the dependencies or in the production tree", () => {
    for (const tool of DEV_ONLY) {
      assert.ok(!(tool in manifest.dependencies), `${tool} is in dependencies: move it to devDependencies`);
    }
    const production = Object.entries(lock.packages)
      .filter(([key, entry]) => key !== "" && entry.dev !== true)
      .map(([key]) => packageName(key));
    for (const tool of DEV_ONLY) {
      assert.ok(!production.includes(tool), `${tool} would be installed by npm ci --omit=dev`);
    }
    assert.ok(production.includes("bullmq"), "the production tree is read from the lock");
  });
});

describe("base images", () => {
  it("the Dockerfile pins every FROM by digest (an ARG default counts)", () => {
    const text = repoFile("Dockerfile");
    const args = new Map(
      [...text.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    const stages = parseDockerfile(text);
    const names = new Set(stages.map((s) => s.name));
    for (const stage of stages) {
      const base = stage.base.replace(/^\$\{(\w+)\}$/, (_, arg: string) => args.get(arg) ?? "");
      if (names.has(base)) continue;
      assert.match(base, DIGEST, `FROM ${stage.base} is not pinned by digest`);
    }
  });

  it("the Compose file pins every third-party image by digest", () => {
    const compose = parse(repoFile("infra/compose.yaml"), { merge: true }) as {
      services: Record<string, { image?: string; build?: unknown }>;
    };
    const pulled = Object.entries(compose.services).filter(([, s]) => s.image && s.build === undefined);
    assert.ok(pulled.length >= 3, "redis, vault, localstack");
    for (const [name, service] of pulled) assert.match(service.image ?? "", DIGEST, `service ${name}`);
  });
});

describe("the compiled CLI", () => {
  let root: string;

  /** npm test compiled it for this run already (scripts/run-tests.mjs): that one is used, not rebuilt. */
  const given = process.env.CERTROTOR_TEST_CLI;
  before(async () => {
    if (given) {
      root = given;
      return;
    }
    // The image's layout: bin/ and a dist/ compiled by tsconfig.build.json, no src/.
    root = await mkdtemp(join(tmpdir(), "certrotor-compiled-"));
    await run(
      process.execPath,
      [
        join(REPO, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        join(REPO, "tsconfig.build.json"),
        "--outDir",
        join(root, "dist"),
        "--declaration",
        "false",
      ],
      { cwd: REPO },
    );
    await cp(join(REPO, "bin"), join(root, "bin"), { recursive: true });
    await copyFile(join(REPO, "package.json"), join(root, "package.json"));
    await symlink(join(REPO, "node_modules"), join(root, "node_modules"));
  });
  after(async () => {
    if (!given) await rm(root, { recursive: true, force: true });
  });

  it("imports no dev-only tool", async () => {
    const files = (await readdir(join(root, "dist"), { recursive: true })).filter((f) => f.endsWith(".js"));
    assert.ok(files.length > 50);
    for (const file of files) {
      const text = await readFile(join(root, "dist", file), "utf8");
      for (const tool of ["tsx", "esbuild"]) {
        assert.doesNotMatch(
          text,
          new RegExp(`from "${tool}[/"]|import\\("${tool}[/"]`),
          `${file} imports ${tool}`,
        );
      }
    }
  });

  it("runs the demo end to end, and refuses bad input with the one-line form", async () => {
    const home = await mkdtemp(join(tmpdir(), "certrotor-compiled-demo-"));
    const env = { PATH: process.env.PATH ?? "", HOME: home };
    const demo = await run(
      process.execPath,
      [join(root, "bin", "certrotor.js"), "demo", "--out", join(home, "out")],
      {
        cwd: root,
        env,
      },
    );
    assert.match(demo.stdout, /token call\s+401\s+200/);
    const version = await run(process.execPath, [join(root, "bin", "certrotor.js"), "--version"], {
      cwd: root,
      env,
    });
    assert.equal(
      version.stdout.trim(),
      (JSON.parse(repoFile("package.json")) as { version: string }).version,
    );
    const missing = join(home, "missing.yaml");
    await assert.rejects(
      run(process.execPath, [join(root, "bin", "certrotor.js"), "scan", "--config", missing], {
        cwd: root,
        env,
      }),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 64);
        assert.equal(error.stderr?.trim().split("\n").length, 1);
        assert.match(error.stderr ?? "", /^certrotor: CONFIG_NOT_FOUND: /);
        return true;
      },
    );
    await rm(home, { recursive: true, force: true });
  });

  it("without dist/ and without tsx, says what is missing and exits 70", async () => {
    // Its own temporary folder: module resolution walks up, and `root` holds a node_modules.
    const bare = await mkdtemp(join(tmpdir(), "certrotor-bare-"));
    try {
      await cp(join(REPO, "bin"), join(bare, "bin"), { recursive: true });
      await writeFile(join(bare, "package.json"), JSON.stringify({ type: "module" }));
      await assert.rejects(
        run(process.execPath, [join(bare, "bin", "certrotor.js"), "--version"], {
          cwd: bare,
          env: { PATH: process.env.PATH ?? "" },
        }),
        (error: { code?: number; stderr?: string }) => {
          assert.equal(error.code, 70);
          assert.match(error.stderr ?? "", /^certrotor: cannot start: no compiled CLI in dist\/ and no tsx/);
          return true;
        },
      );
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });
});
