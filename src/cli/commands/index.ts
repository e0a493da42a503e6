import type { Command } from "commander";
import { register as alert } from "./alert.js";
import { register as demo } from "./demo.js";
import { register as retireDue } from "./retire-due.js";
import { register as rotate } from "./rotate.js";
import { register as sandbox } from "./sandbox.js";
import { register as scan } from "./scan.js";
import { register as status } from "./status.js";
import { register as task } from "./task.js";
import { register as worker } from "./worker.js";

/** Every command's `register`. Add a command by adding its module here (no import side effects). */
export const commands: Array<(program: Command) => void> = [
  demo,
  worker,
  rotate,
  scan,
  status,
  retireDue,
  sandbox,
  alert,
  task,
];
