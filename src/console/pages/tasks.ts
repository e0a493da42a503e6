/** GET /tasks: open human tasks, through the console's TaskView (downloads and upload: see tasks.ts). */
import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import { tasksPage } from "../views/forms.js";
import { sendPage } from "./send.js";

export function tasksRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get("/tasks", async (request, reply) => {
    ctx.auth.require(request);
    return sendPage(reply, request, "Tasks", tasksPage(await ctx.tasks.open()), "tasks");
  });
}
