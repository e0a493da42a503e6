import type { Command } from "commander";
import { register as demo } from "./demo.js";

/** Every command's `register`. Add a command by adding its module here (no import side effects). */
export const commands: Array<(program: Command) => void> = [demo];
