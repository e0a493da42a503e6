/**
 * Console test helpers: users with a cheap scrypt cost (the product's default is deliberately slow), a
 * login through the real form (CSRF token and all) against a fastify instance, and the secret scan every
 * response seen goes through.
 */
import assert from "node:assert/strict";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Config } from "../../src/config/schema.js";
import { hashPassword } from "../../src/console/password.js";
import { secretShape } from "../../src/journal/guard.js";

export const PASSWORDS = { alice: "alice-operator-pw", victor: "victor-viewer-pw" } as const;
const CHEAP = { N: 2 ** 12, r: 8, p: 1 };

export async function consoleUsers(): Promise<Config["console"]["users"]> {
  return [
    { name: "alice", role: "operator", passwordHash: await hashPassword(PASSWORDS.alice, CHEAP) },
    { name: "victor", role: "viewer", passwordHash: await hashPassword(PASSWORDS.victor, CHEAP) },
  ];
}

export function withConsole(
  config: Config,
  users: Config["console"]["users"],
  patch: Partial<Config["console"]> = {},
): Config {
  return { ...config, console: { ...config.console, users, ...patch } };
}

/** The value of cookie `name` among a response's Set-Cookie headers. */
export function cookieOf(response: LightMyRequestResponse, name: string): string | undefined {
  return response.cookies.find((c) => c.name === name)?.value;
}

export function csrfOf(body: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(body);
  assert.ok(match, "the page holds a CSRF token");
  return match[1]!;
}

export interface Login {
  cookie: string;
  csrf: string;
}

/** Logs `name` in through GET /login and POST /login, as a browser does. */
export async function login(app: FastifyInstance, name: keyof typeof PASSWORDS): Promise<Login> {
  const form = await app.inject({ method: "GET", url: "/login" });
  const anonymous = cookieOf(form, "certrotor_session")!;
  const response = await app.inject({
    method: "POST",
    url: "/login",
    cookies: { certrotor_session: anonymous },
    payload: { _csrf: csrfOf(form.body), name, password: PASSWORDS[name], next: "/" },
  });
  assert.equal(response.statusCode, 303, response.body);
  assert.equal(response.headers.location, "/");
  const cookie = cookieOf(response, "certrotor_session")!;
  assert.notEqual(cookie, anonymous, "a login makes a new session id");
  const page = await app.inject({ method: "GET", url: "/", cookies: { certrotor_session: cookie } });
  return { cookie, csrf: csrfOf(page.body) };
}

/** Fails naming the response when it holds one of `secrets` (or a 24-character piece) or secret-shaped text. */
export function assertNoSecretIn(what: string, body: string, secrets: Iterable<string>): void {
  assert.equal(secretShape(body), null, `${what} holds secret-shaped text`);
  for (const secret of secrets) {
    const pieces = [secret, secret.slice(0, 24), secret.slice(-24)].filter((p) => p.length >= 12);
    for (const piece of pieces) assert.ok(!body.includes(piece), `${what} holds secret material`);
  }
}
