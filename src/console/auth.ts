/**
 * Who is asking: the session cookie (HttpOnly, SameSite=Strict, Secure when served over TLS or told so)
 * names a session in the shared state; a page needs a signed-in user, an action the operator role and
 * the session's CSRF token. A visitor without a session gets an anonymous one that carries only the
 * login form's CSRF secret; logging in replaces it by a new session (a new id: no fixation).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ConsoleConfig, ConsoleUser } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { DUMMY_HASH, verifyPassword } from "./password.js";
import type { Role, Session, SessionStore } from "./sessions.js";

export const SESSION_COOKIE = "certrotor_session";
/** The anonymous session of a login form lives this long. */
export const LOGIN_FORM_TTL_MS = 15 * 60_000;

declare module "fastify" {
  interface FastifyRequest {
    /** The request's session (anonymous or signed in), loaded from its cookie; null before one exists. */
    session: Session | null;
  }
}

export interface Auth {
  readonly sessions: SessionStore;
  /** Loads the cookie's session into request.session (an onRequest hook). */
  load(request: FastifyRequest): Promise<void>;
  /** request.session, made anonymous when there is none, its cookie set on the reply. */
  ensure(request: FastifyRequest, reply: FastifyReply): Promise<Session>;
  /** The user whose name and password these are, or null (as slow for an unknown name as for a known). */
  check(name: string, password: string): Promise<ConsoleUser | null>;
  /** A new signed-in session replacing the request's, its cookie set. */
  login(request: FastifyRequest, reply: FastifyReply, user: ConsoleUser): Promise<Session>;
  logout(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Throws CONSOLE_UNAUTHENTICATED without a signed-in user, CONSOLE_FORBIDDEN below `role`. */
  require(request: FastifyRequest, role?: Role): Session & { user: string; role: Role };
}

export function createAuth(settings: ConsoleConfig, sessions: SessionStore, now: () => Date): Auth {
  const secure = settings.tls !== undefined || settings.secureCookies;
  const setCookie = (reply: FastifyReply, session: Session, ttlMs: number): void => {
    reply.setCookie(SESSION_COOKIE, session.id, {
      path: "/",
      httpOnly: true,
      sameSite: "strict",
      secure,
      maxAge: Math.floor(ttlMs / 1000),
    });
  };
  const users = new Map(settings.users.map((u) => [u.name, u] as const));
  return {
    sessions,
    async load(request) {
      const id = request.cookies[SESSION_COOKIE];
      request.session = id && id.length <= 100 ? await sessions.get(id, now()) : null;
    },
    async ensure(request, reply) {
      if (request.session) return request.session;
      const session = await sessions.create({}, LOGIN_FORM_TTL_MS, now());
      setCookie(reply, session, LOGIN_FORM_TTL_MS);
      request.session = session;
      return session;
    },
    async check(name, password) {
      const user = users.get(name);
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
      return ok && user ? user : null;
    },
    async login(request, reply, user) {
      if (request.session) await sessions.destroy(request.session.id);
      const session = await sessions.create({ user: user.name, role: user.role }, settings.sessionTtl, now());
      setCookie(reply, session, settings.sessionTtl);
      request.session = session;
      return session;
    },
    async logout(request, reply) {
      if (request.session) await sessions.destroy(request.session.id);
      request.session = null;
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
    },
    require(request, role) {
      const session = request.session;
      if (!session?.user || !session.role) {
        throw new CertrotorError("CONSOLE_UNAUTHENTICATED", "log in to the console first", {
          hint: "open /login",
        });
      }
      if (role === "operator" && session.role !== "operator") {
        throw new CertrotorError(
          "CONSOLE_FORBIDDEN",
          `user "${session.user}" (role ${session.role}) may not do this: it needs the operator role`,
          { hint: "ask for the operator role in console.users" },
        );
      }
      return session as Session & { user: string; role: Role };
    },
  };
}

/** A local path to go back to after login: never another origin (`//host`, `/\host`, a scheme). */
export function safeNext(value: unknown): string {
  return typeof value === "string" && /^\/(?![/\\])[^\s]*$/.test(value) ? value : "/";
}
