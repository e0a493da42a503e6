/**
 * The CLI loads only the module of the command it runs: the registry's names must be the names the
 * modules register, or a command would be missing when called by its name.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import { commandName, commands, registersFor } from "../../src/cli/commands/index.js";

describe("the CLI's command registry", () => {
  it("names each command as its module registers it", async () => {
    for (const [name, load] of Object.entries(commands)) {
      const program = new Command();
      (await load())(program);
      assert.deepEqual(
        program.commands.map((c) => c.name()),
        [name],
        `commands["${name}"] registers a different command`,
      );
    }
  });

  it("finds the command in argv past global options, and loads every command when none is named", async () => {
    assert.equal(commandName(["--log-level", "debug", "scan", "--config", "x"]), "scan");
    assert.equal(commandName(["sandbox", "portal", "bind"]), "sandbox");
    assert.equal(commandName(["--help"]), undefined);
    assert.equal((await registersFor(["rotate", "c1"])).length, 1);
    assert.equal((await registersFor(["--help"])).length, Object.keys(commands).length);
    assert.equal((await registersFor(["no-such-command"])).length, Object.keys(commands).length);
    assert.equal((await registersFor(["--version"])).length, 0);
  });
});
