/**
 * One credential: its current material (public facts only: subject, fingerprint, validity, store version),
 * the slots at the bank with their last use, rotation history and audit trail, open tasks and alerts, and
 * the actions an operator may take (each behind a confirm step).
 */
import type { OpenEpisode } from "../../alerts/episodes.js";
import type { CredentialStatus } from "../../rotation/status.js";
import type { FleetRow } from "../fleet.js";
import type { Role } from "../sessions.js";
import type { ConsoleTask } from "../tasks.js";
import { type ActionName, ACTIONS, actionsFor } from "../actions.js";
import { stateBadge } from "./fleet.js";
import { taskActions } from "./forms.js";
import { day, type Html, html } from "./html.js";

export interface CredentialView {
  id: string;
  bank: string;
  store: string;
  status: CredentialStatus;
  row?: FleetRow;
  alerts: OpenEpisode[];
  tasks: ConsoleTask[];
  role: Role;
  /** A rotation just requested here (?queued=): shown as queued until the journal has it. */
  queued?: string;
  /** The page follows a rollback done here (?rolledBack=1). */
  rolledBack?: boolean;
  /** The session's CSRF token, for the task upload form. */
  csrf: string;
}

/**
 * The rotations table. While one is queued or running it polls itself (htmx, every 2 s) so the page
 * shows the rotation move through its steps to its end without a reload.
 */
export function rotationsSection(
  id: string,
  rotations: CredentialStatus["rotations"],
  queued?: string,
): Html {
  const known = queued ? rotations.some((r) => r.rotationId === queued) : true;
  const live = !known || rotations.some((r) => r.status === "running");
  const poll = `/credentials/${encodeURIComponent(id)}/rotations${queued ? `?queued=${encodeURIComponent(queued)}` : ""}`;
  return html`<section id="rotations" aria-labelledby="h-rotations" aria-live="polite"${live ? html` hx-get="${poll}" hx-trigger="every 2s" hx-swap="outerHTML"` : ""}><h2 id="h-rotations">Rotations</h2>
<table><thead><tr><th scope="col">Rotation</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Step</th><th scope="col">Started</th><th scope="col">Attempts</th><th scope="col">Error</th></tr></thead>
<tbody>${!known && queued ? html`<tr data-rotation="${queued}"><td class="mono">${queued}</td><td>operator</td><td>queued</td><td></td><td></td><td>0</td><td></td></tr>` : ""}${rotations.map(
    (r) =>
      html`<tr data-rotation="${r.rotationId}"><td class="mono">${r.rotationId}</td><td>${r.trigger}</td><td>${r.status}</td><td>${r.step}</td><td>${r.startedAt}</td><td>${r.attempts}</td><td>${r.errorCode ? `${r.errorCode}: ${r.errorMessage ?? ""}` : ""}</td></tr>`,
  )}</tbody></table></section>`;
}

function actionLinks(view: CredentialView): Html {
  const available = actionsFor(view.status);
  if (view.role !== "operator")
    return html`<p class="muted">Actions (${[...available.map((a) => ACTIONS[a].label), "Roll back"].join(", ")}) need the operator role.</p>`;
  const base = `/credentials/${encodeURIComponent(view.id)}`;
  return html`<p>${available.map(
    (a: ActionName) => html`<a class="button" href="${base}/actions/${a}">${ACTIONS[a].label}…</a> `,
  )}<a class="button" href="${base}/rollback">Roll back…</a></p>`;
}

export function credentialPage(view: CredentialView): Html {
  const { status } = view;
  const c = status.current;
  return html`<h1>${view.id} ${view.row ? stateBadge(view.row.state) : ""}</h1>
<p class="muted">Bank ${view.bank} · store ${view.store}${view.row ? html` · ${view.row.message}` : ""}</p>
${view.rolledBack ? html`<p class="panel" role="status">Rolled back: the previous material is current again (see the audit trail).</p>` : ""}
${status.error ? html`<p class="error" role="alert">${status.error.code}: ${status.error.message}</p>` : ""}
<section class="panel" aria-labelledby="h-actions"><h2 id="h-actions">Actions</h2>${actionLinks(view)}</section>
<section aria-labelledby="h-material"><h2 id="h-material">Material</h2>
${
  c
    ? html`<dl><dt>Subject</dt><dd>${c.subject}</dd><dt>Fingerprint (SHA-256)</dt><dd class="mono">${c.fingerprint}</dd>
<dt>Not after</dt><dd>${c.notAfter}${view.row?.daysLeft !== undefined ? ` (${view.row.daysLeft} days)` : ""}</dd><dt>Store version</dt><dd class="mono">${c.version}</dd>
${c.rotationId ? html`<dt>Made by rotation</dt><dd class="mono">${c.rotationId}</dd>` : ""}
${status.pending ? html`<dt>Pending</dt><dd class="mono">${status.pending.fingerprint} (rotation ${status.pending.rotationId})</dd>` : ""}
${status.decision ? html`<dt>Renewal</dt><dd>${status.decision.status}: ${status.decision.message}</dd><dt>Planned rotation</dt><dd>${status.decision.renewAt}</dd>` : ""}
${status.nextWindowOpening ? html`<dt>Next window</dt><dd>${status.nextWindowOpening}</dd>` : ""}</dl>`
    : html`<p class="muted">No current material could be read.</p>`
}</section>
<section aria-labelledby="h-slots"><h2 id="h-slots">Slots at the bank</h2>
<table><thead><tr><th scope="col">Fingerprint</th><th scope="col">Subject</th><th scope="col">Bound</th><th scope="col">Not after</th><th scope="col">Last use</th></tr></thead>
<tbody>${(status.slots ?? []).map(
    (s) =>
      html`<tr><td class="mono">${s.fingerprint.slice(0, 16)}…${s.fingerprint === c?.fingerprint ? html` <span class="muted">(current)</span>` : ""}</td><td>${s.subject}</td><td>${day(s.boundAt)}</td><td>${day(s.notAfter)}</td><td>${s.lastUsedAt ? day(s.lastUsedAt) : html`<span class="muted">never</span>`}</td></tr>`,
  )}</tbody></table></section>
<section aria-labelledby="h-alerts"><h2 id="h-alerts">Open alerts</h2>
${view.alerts.length ? html`<ul>${view.alerts.map((a) => html`<li>${a.kind} since ${a.openedAt}</li>`)}</ul>` : html`<p class="muted">None.</p>`}</section>
<section aria-labelledby="h-tasks"><h2 id="h-tasks">Open tasks</h2>
${view.tasks.length ? html`<ul>${view.tasks.map((t) => html`<li data-task="${t.id}">${t.kind}: ${t.summary} (since ${t.createdAt}) ${taskActions(t, { csrf: view.csrf, upload: view.role === "operator" })}</li>`)}</ul>` : html`<p class="muted">None.</p>`}</section>
${rotationsSection(view.id, status.rotations, view.queued)}
<section aria-labelledby="h-audit"><h2 id="h-audit">Audit trail</h2>
<table><thead><tr><th scope="col">At</th><th scope="col">Action</th><th scope="col">By</th><th scope="col">Rotation</th><th scope="col">Details</th></tr></thead>
<tbody>${(status.history ?? []).map(
    (e) =>
      html`<tr><td>${e.at}</td><td>${e.action}</td><td>${e.actor}</td><td class="mono">${e.rotationId ?? ""}</td><td class="details">${Object.entries(
        e.details ?? {},
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}</td></tr>`,
  )}</tbody></table></section>`;
}
