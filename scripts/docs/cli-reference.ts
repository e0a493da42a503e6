/**
 * The reference of every command and flag, read from the command registry (src/cli/commands/index.ts)
 * through commander's own model of each command: what `--help` prints is what the docs say. For docs/cli.md.
 */
import { Command, type Option } from "commander";
import { commands } from "../../src/cli/commands/index.js";
import { cell } from "./blocks.js";

/** Every command of the program, subcommands after their parent, with its full name. */
function* walk(command: Command, prefix: string): Generator<{ name: string; command: Command }> {
  for (const sub of command.commands) {
    const name = `${prefix} ${sub.name()}`;
    yield { name, command: sub };
    yield* walk(sub, name);
  }
}

function usage(name: string, command: Command): string {
  const args = command.registeredArguments.map((arg) => {
    const text = `${arg.name()}${arg.variadic ? "..." : ""}`;
    return arg.required ? `<${text}>` : `[${text}]`;
  });
  return [name, ...args, command.options.length > 0 ? "[options]" : ""].filter(Boolean).join(" ");
}

function defaultOf(option: Option): string {
  // read from the environment when the CLI loads: the docs give the rule, not this machine's value
  if (option.attributeName() === "config") return "`$CERTROTOR_CONFIG`, else `certrotor.yaml`";
  if (option.defaultValue === undefined || option.negate) return "";
  if (Array.isArray(option.defaultValue) && option.defaultValue.length === 0) return "";
  const value = option.defaultValue;
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

export async function cliProgram(): Promise<Command> {
  const program = new Command("certrotor");
  for (const load of Object.values(commands)) (await load())(program);
  return program;
}

/** The list of commands (one table) and one section per command with its flags. */
export async function cliReference(): Promise<string> {
  const program = await cliProgram();
  const all = [...walk(program, "certrotor")];
  const out = ["| command | what it does |", "|---|---|"];
  for (const { name, command } of all) {
    out.push(`| [\`${name}\`](#${anchor(name)}) | ${cell(command.description())} |`);
  }
  for (const { name, command } of all) {
    out.push("", `### ${name}`, "", "```", usage(name, command), "```", "", cell(command.description()));
    if (command.commands.length > 0 && command.options.length === 0) continue;
    if (command.options.length === 0) continue;
    out.push("", "| flag | default | meaning |", "|---|---|---|");
    for (const option of command.options) {
      out.push(`| \`${cell(option.flags)}\` | ${defaultOf(option)} | ${cell(option.description)} |`);
    }
  }
  return out.join("\n");
}

/** The anchor GitHub gives a heading made of `text` (lower case, spaces to dashes, punctuation dropped). */
export function anchor(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}
