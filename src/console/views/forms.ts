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

export interface TaskPageOptions {
  csrf: string;
  /** The user may upload (operator role). */
  upload: boolean;
}

export function taskActions(t: ConsoleTask, options: TaskPageOptions): Html {
  const id = encodeURIComponent(t.id);
  const links = html`${t.hasCsr ? html`<a href="/tasks/${id}/csr" download>Download CSR</a> ` : ""}${t.hasCert ? html`<a href="/tasks/${id}/cert" download>Download certificate</a>` : ""}`;
  const form =
    options.upload && t.kind === "sign-csr"
      ? html`<form method="post" action="/tasks/${id}/complete" enctype="multipart/form-data">
<input type="hidden" name="_csrf" value="${options.csrf}">
<label>Signed certificate (PEM) <input type="file" name="certificate" accept=".pem,.crt,.cer" required></label>
<button type="submit">Upload and complete</button></form>`
      : "";
  return html`${links}${form}`;
}

export function tasksPage(
  tasks: readonly ConsoleTask[],
  options: TaskPageOptions & { completed?: string },
): Html {
  return html`<h1>Tasks</h1>
${options.completed ? html`<p class="panel" role="status">Task <span class="mono">${options.completed}</span> completed: the certificate was checked and staged; the rotation goes on at its next look.</p>` : ""}
<p class="muted">Human tasks waiting for a person (a certificate to bind or unbind in a portal, a CSR to have signed).</p>
${
  tasks.length
    ? html`<table><thead><tr><th scope="col">Credential</th><th scope="col">Kind</th><th scope="col">Since</th><th scope="col">Deadline</th><th scope="col">What</th><th scope="col">Do</th></tr></thead>
<tbody>${tasks.map((t) => html`<tr data-task="${t.id}"><td><a href="/credentials/${encodeURIComponent(t.credentialId)}">${t.credentialId}</a></td><td>${t.kind}</td><td>${t.createdAt}</td><td>${t.deadline ?? ""}</td><td>${t.summary}</td><td>${taskActions(t, options)}</td></tr>`)}</tbody></table>`
    : html`<p>No open tasks.</p>`
}`;
}

/** The rollback confirm step: a reason for the audit trail; a refusal (NO_PREVIOUS, …) shown above it. */
export function rollbackPage(
  csrf: string,
  credentialId: string,
  refused?: { code: string; message: string; hint?: string },
): Html {
  const back = `/credentials/${encodeURIComponent(credentialId)}`;
  return html`<h1>Roll back: ${credentialId}</h1>
${refused ? html`<div class="panel" role="alert"><p class="error" data-code="${refused.code}">Not rolled back, nothing was changed: ${refused.code}: ${refused.message}</p>${refused.hint ? html`<p class="muted">${refused.hint}</p>` : ""}</div>` : ""}
<form method="post" action="${back}/rollback" class="panel">
<p>Put the previous material back as current (as <code>certrotor rollback</code> does), binding its certificate at the bank again if it was unbound? The current certificate stays bound.</p>
<input type="hidden" name="_csrf" value="${csrf}">
<label>Reason (kept in the audit trail) <input name="reason" required maxlength="500" autocomplete="off"></label>
<p><button type="submit" class="danger">Roll back</button> <a href="${back}">Cancel</a></p>
</form>`;
}
