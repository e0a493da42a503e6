/**
 * What can be checked of the image without a Docker engine: the Dockerfile's stages, user, command,
 * health check and copies, the .dockerignore, and that the compiled CLI the image runs is where
 * bin/certrotor.js looks for it and runs without tsx.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import ts from "typescript";
import { configSchema } from "../../src/config/schema.js";
import { copyParts, dockerIgnores, execForm, parseDockerfile, REPO, repoFile, type Stage } from "./parse.js";

const run = promisify(execFile);
const stages = parseDockerfile(repoFile("Dockerfile"));
const ignore = repoFile(".dockerignore");
const final = stages.at(-1)!;

const all = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const last = (stage: Stage, keyword: string): string | undefined => all(stage, keyword).at(-1);

describe("Dockerfile", () => {
  it("has a named build stage and a separate runtime stage", () => {
    assert.ok(stages.length >= 2, `expected at least 2 stages, found ${stages.length}`);
    for (const stage of stages) assert.ok(stage.name, `FROM ${stage.base} has no "AS <name>"`);
    const builds = stages.slice(0, -1).filter((s) => all(s, "RUN").some((r) => /npm run build/.test(r)));
    assert.equal(builds.length, 1, "one earlier stage runs `npm run build`");
    assert.ok(
      all(builds[0]!, "RUN").some((r) => /npm ci(?!.*--omit=dev)/.test(r)),
      "the build stage installs dev dependencies",
    );
    assert.ok(!all(final, "RUN").some((r) => /npm run build/.test(r)), "the runtime stage does not compile");
  });

  it("installs only production dependencies in the runtime stage and copies the compiled dist from the build stage", () => {
    const installs = all(final, "RUN").filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    assert.ok(installs.length > 0, "the runtime stage installs its dependencies");
    for (const install of installs) assert.match(install, /npm ci .*--omit=dev/);
    const copies = all(final, "COPY").map(copyParts);
    const dist = copies.find((c) => c.from !== undefined && c.sources.some((s) => s.endsWith("/dist")));
    assert.ok(dist, "COPY --from=<build> .../dist");
    assert.ok(
      stages.some((s) => s.name === dist.from),
      `--from=${dist.from} names a stage of this Dockerfile`,
    );
    assert.ok(copies.some((c) => c.from === undefined && c.sources.includes("bin")));
    assert.ok(all(final, "ENV").some((e) => /\bNODE_ENV=production\b/.test(e)));
  });

  it("runs as a numeric non-root user in the runtime stage", () => {
    const user = last(final, "USER");
    assert.ok(user, "the runtime stage sets USER");
    const [uid, gid] = user.split(":");
    assert.match(uid!, /^\d+$/, "numeric, so Kubernetes runAsNonRoot can verify it");
    assert.ok(Number(uid) >= 1000, `uid ${uid} is not a system or root id`);
    if (gid !== undefined) assert.ok(Number(gid) > 0);
    // the USER comes after every RUN: nothing the image runs at start time has root rights
    const index = final.instructions.findIndex((i) => i.keyword === "USER");
    assert.ok(final.instructions.slice(index).every((i) => i.keyword !== "RUN"));
  });

  it("starts `certrotor worker` with the mounted config by default", () => {
    const entrypoint = execForm(last(final, "ENTRYPOINT") ?? "");
    const cmd = execForm(last(final, "CMD") ?? "");
    assert.deepEqual(entrypoint, ["node", "--optimize-for-size", "bin/certrotor.js"]);
    assert.ok(cmd);
    assert.equal(cmd[0], "worker");
    assert.equal(cmd[cmd.indexOf("--config") + 1], "/etc/certrotor/certrotor.yaml");
    assert.ok(all(final, "ENV").some((e) => e.includes("CERTROTOR_CONFIG=/etc/certrotor/certrotor.yaml")));
  });

  it("checks health on /healthz of the default worker port with node, and exposes that port", () => {
    const port = configSchema.parse({}).worker.port;
    const check = last(final, "HEALTHCHECK");
    assert.ok(check, "HEALTHCHECK in the runtime stage");
    const command = execForm(check.replace(/^(--\S+\s+)*CMD\s+/, ""));
    assert.ok(command, "exec form");
    assert.equal(command[0], "node", "no curl or wget needed in the image");
    assert.match(command.join(" "), /\/healthz/);
    assert.match(command.join(" "), new RegExp(`\\b${port}\\b`));
    assert.deepEqual(all(final, "EXPOSE"), [String(port)]);
  });

  it("bakes in no secret: no key, certificate, env file or whole-context copy, no secret-looking variable", () => {
    for (const stage of stages) {
      for (const { keyword, args } of stage.instructions) {
        if (keyword === "ADD") assert.fail(`ADD ${args}: use COPY (ADD fetches URLs and unpacks archives)`);
        if (keyword === "COPY") {
          const { from, sources } = copyParts(args);
          if (from !== undefined) continue;
          for (const source of sources) {
            assert.notEqual(source.replace(/\/$/, ""), ".", "COPY . copies whatever the context holds");
            assert.doesNotMatch(source, /\.(pem|key|crt|pfx|p12|pass|jks)$|(^|\/)\.env|\*/, `COPY ${source}`);
          }
        }
        if (keyword === "ENV" || keyword === "ARG") {
          assert.doesNotMatch(args, /(TOKEN|SECRET|PASSWORD|PASSPHRASE|API_KEY|ACCESS_KEY)\w*=/i, args);
        }
      }
    }
  });
});

describe(".dockerignore", () => {
  it("keeps tests, benches, keys, certificates, env files, git, node_modules and local state out of the build context", () => {
    for (const path of [
      "test/stores/vault.test.ts",
      "bench/index.ts",
      ".git/HEAD",
      "node_modules/bullmq/package.json",
      "dist/src/cli/main.js",
      "coverage/lcov.info",
      ".certrotor/store/.key",
      "client.pem",
      "secrets/client.key",
      "deep/down/client.pfx",
      "bank/client.pfx.pass",
      ".env",
      "infra/compose/.env.local",
      "certrotor.yaml",
      "notes/todo.md",
    ]) {
      assert.ok(dockerIgnores(ignore, path), `${path} must not reach the build context`);
    }
  });

  it("lets in every file the Dockerfile copies from the context", () => {
    const sources = stages.flatMap((stage) =>
      all(stage, "COPY")
        .map(copyParts)
        .filter((c) => c.from === undefined)
        .flatMap((c) => c.sources),
    );
    assert.ok(sources.length > 0);
    for (const source of [...sources, "src/cli/main.ts", "jobs/rotate.ts", "bin/certrotor.js"]) {
      assert.ok(!dockerIgnores(ignore, source), `${source} is copied but ignored`);
    }
  });
});

describe("the compiled CLI the image runs", () => {
  it("is where `npm run build` (tsconfig.build.json) writes src/cli/main.ts", () => {
    const configPath = join(REPO, "tsconfig.build.json");
    const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, REPO, undefined, configPath);
    const outputs = ts.getOutputFileNames(parsed, join(REPO, "src", "cli", "main.ts"), false);
    const js = outputs.find((file) => file.endsWith(".js"));
    assert.equal(js && relative(REPO, js), join("dist", "src", "cli", "main.js"));
    assert.ok(
      parsed.fileNames.some((file) => relative(REPO, file).startsWith("jobs")),
      "jobs/ is compiled",
    );
  });

  it("runs from dist through bin/certrotor.js with no tsx and no sources present", async () => {
    const root = await mkdtemp(join(tmpdir(), "certrotor-image-"));
    try {
      // The image's layout: bin/ and dist/, no src/, no node_modules/tsx.
      await mkdir(join(root, "dist", "src", "cli"), { recursive: true });
      await cp(join(REPO, "bin"), join(root, "bin"), { recursive: true });
      await writeFile(join(root, "package.json"), JSON.stringify({ type: "module" }));
      await writeFile(
        join(root, "dist", "src", "cli", "main.js"),
        'process.stdout.write("compiled cli: " + process.argv.slice(2).join(" ") + "\\n");\n',
      );
      const { stdout } = await run(
        process.execPath,
        [join(root, "bin", "certrotor.js"), "worker", "--help"],
        {
          cwd: root,
          env: { PATH: process.env.PATH ?? "" },
        },
      );
      assert.equal(stdout, "compiled cli: worker --help\n");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
