export { createFileTasks } from "./file.js";
export { createRedisTasks } from "./redis.js";
export * from "./types.js";
