/** The small pages: login, an action's confirm step, an error, the tasks list. */
import type { ConsoleTask } from "../tasks.js";
import { type Html, html } from "./html.js";

export function loginPage(csrf: string, next: string, failed: boolean): Html {
  return html`<h1>Log in</h1>
${failed ? html`<p class="error" role="alert">Wrong name or password.</p>` : ""}
<form method="post" action="/login" class="panel" style="max-width:22rem">
<input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="next" value="${next}">
<label>Name <input name="name" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<p><button type="submit">Log in</button></p>
</form>`;
}

export function confirmPage(
  csrf: string,
  credentialId: string,
  action: string,
  label: string,
  question: string,
): Html {
  const back = `/credentials/${encodeURIComponent(credentialId)}`;
  return html`<h1>${label}: ${credentialId}</h1>
<form method="post" action="${back}/actions/${action}" class="panel">
<p>${question}</p>
<input type="hidden" name="_csrf" value="${csrf}">
<p><button type="submit" class="danger" autofocus>${label}</button> <a href="${back}">Cancel</a></p>
</form>`;
}

export function errorPage(status: number, code: string, message: string, hint?: string): Html {
  return html`<h1>${status === 401 ? "Not logged in" : status === 403 ? "Refused" : "Something went wrong"}</h1>
<p class="error" role="alert" data-code="${code}">${code}: ${message}</p>
${hint ? html`<p class="muted">${hint}</p>` : ""}
${status === 401 ? html`<p><a href="/login">Log in</a></p>` : html`<p><a href="/">Back to the fleet</a></p>`}`;
}

export function tasksPage(tasks: readonly ConsoleTask[]): Html {
  return html`<h1>Tasks</h1>
<p class="muted">Human tasks waiting for a person (a CSR to sign, a certificate to upload).</p>
${
  tasks.length
    ? html`<table><thead><tr><th scope="col">Credential</th><th scope="col">Kind</th><th scope="col">Since</th><th scope="col">What</th></tr></thead>
<tbody>${tasks.map((t) => html`<tr><td><a href="/credentials/${encodeURIComponent(t.credentialId)}">${t.credentialId}</a></td><td>${t.kind}</td><td>${t.createdAt}</td><td>${t.summary}</td></tr>`)}</tbody></table>`
    : html`<p>No open tasks.</p>`
}`;
}
