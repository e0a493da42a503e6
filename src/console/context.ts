/** What every console route is handed: the runtime's reads, the fleet snapshot, auth, the queue. */
import type { Logger } from "../observability/logger.js";
import type { Runtime } from "../runtime.js";
import type { Producer } from "../queue/producer.js";
import type { Auth } from "./auth.js";
import type { FleetCache } from "./fleet.js";
import type { TaskView } from "./tasks.js";

export type ConsoleRuntime = Pick<
  Runtime,
  | "config"
  | "stores"
  | "banks"
  | "journal"
  | "episodes"
  | "tasks"
  | "now"
  | "credential"
  | "depsFor"
  | "redis"
>;

export interface ConsoleContext {
  runtime: ConsoleRuntime;
  auth: Auth;
  fleet: FleetCache;
  tasks: TaskView;
  producer?: Producer;
  logger: Logger;
}
