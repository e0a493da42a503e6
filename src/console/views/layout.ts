/**
 * The page shell: navigation, the signed-in user and logout form, htmx from the console's own /assets
 * (no CDN), and one stylesheet that follows prefers-color-scheme. A skip link and visible focus rings keep
 * every page usable from the keyboard.
 */
import type { Session } from "../sessions.js";
import { type Html, html } from "./html.js";

export interface PageContext {
  session: Session | null;
  csrf: string;
  title: string;
  /** The nav entry to mark current. */
  current?: "fleet" | "timeline" | "tasks";
}

const NAV = [
  { key: "fleet", href: "/", label: "Fleet" },
  { key: "timeline", href: "/timeline", label: "Timeline" },
  { key: "tasks", href: "/tasks", label: "Tasks" },
] as const;

export function layout(ctx: PageContext, body: Html): Html {
  const user = ctx.session?.user;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>
<title>${ctx.title} · certrotor</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/htmx.min.js" defer></script>
</head>
<body hx-headers='{"x-csrf-token":"${ctx.csrf}"}'>
<a class="skip" href="#main">Skip to content</a>
<header>
<span class="brand">certrotor</span>
${
  user
    ? html`<nav aria-label="Main">${NAV.map(
        (n) =>
          html`<a href="${n.href}"${ctx.current === n.key ? html` aria-current="page"` : ""}>${n.label}</a>`,
      )}<a href="/calendar.ics">Calendar (.ics)</a></nav>
<form method="post" action="/logout" class="who"><span>${user} (${ctx.session?.role})</span>
<input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">Log out</button></form>`
    : ""
}
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>`;
}
