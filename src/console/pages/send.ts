/** Sends a page in the layout, with the session's CSRF token for its forms and htmx requests. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Html } from "../views/html.js";
import { layout, type PageContext } from "../views/layout.js";

export function sendPage(
  reply: FastifyReply,
  request: FastifyRequest,
  title: string,
  body: Html,
  current?: PageContext["current"],
): FastifyReply {
  const csrf = request.session ? reply.generateCsrf() : "";
  return reply
    .type("text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .send(layout({ session: request.session, csrf, title, ...(current ? { current } : {}) }, body).text);
}

/** An htmx fragment (no layout). */
export function sendFragment(reply: FastifyReply, body: Html): FastifyReply {
  return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(body.text);
}
