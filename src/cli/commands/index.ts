import type { Command } from "commander";

/** Every command's `register`. Add a command by adding its module here (no import side effects). */
export const commands: Array<(program: Command) => void> = [];
