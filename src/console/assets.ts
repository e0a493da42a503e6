/**
 * The console's own assets: htmx read from the installed package (never a CDN: these machines have no
 * internet, and a page must not depend on a third party), and one stylesheet, light and dark.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

let htmx: string | undefined;
export function htmxSource(): string {
  htmx ??= readFileSync(require.resolve("htmx.org/dist/htmx.min.js"), "utf8");
  return htmx;
}

export const CSS = `
:root { --bg:#fff; --fg:#1b1f24; --muted:#5b6470; --line:#d5dae0; --panel:#f5f7f9; --link:#0b57d0;
  --ok:#1a7f37; --due:#9a6700; --bad:#c11f1f; --run:#0b57d0; --person:#8250df; --focus:#ff9800; }
@media (prefers-color-scheme: dark) {
  :root { --bg:#0f1216; --fg:#e6e9ed; --muted:#9aa4af; --line:#2d333b; --panel:#171b21; --link:#7cacf8;
    --ok:#4ac26b; --due:#d4a72c; --bad:#ff6b6b; --run:#7cacf8; --person:#c297ff; }
}
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
a { color:var(--link); }
:focus-visible { outline:3px solid var(--focus); outline-offset:2px; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:var(--panel); padding:4px 8px; }
header { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1rem; border-bottom:1px solid var(--line); background:var(--panel); }
header nav { display:flex; gap:1rem; } header nav a[aria-current] { font-weight:700; text-decoration:none; }
.brand { font-weight:700; } .who { margin-left:auto; display:flex; gap:.5rem; align-items:center; }
main { padding:1rem; max-width:1400px; }
table { border-collapse:collapse; width:100%; } th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); }
th a { color:inherit; } td.details { overflow-wrap:anywhere; font-size:.85rem; } .muted { color:var(--muted); } .mono { font-family:ui-monospace, monospace; }
.days-ok { color:var(--ok); } .days-warn { color:var(--due); font-weight:600; } .days-bad { color:var(--bad); font-weight:700; }
.state { padding:.05rem .4rem; border-radius:.6rem; border:1px solid currentColor; white-space:nowrap; }
.state-ok { color:var(--ok); } .state-due { color:var(--due); } .state-rotating { color:var(--run); }
.state-awaiting-person { color:var(--person); } .state-failing, .state-expired { color:var(--bad); }
form.filters { display:flex; flex-wrap:wrap; gap:.6rem; align-items:end; margin-bottom:.8rem; }
label { display:flex; flex-direction:column; font-size:.85rem; gap:.15rem; }
input, select, button { font:inherit; color:inherit; background:var(--bg); border:1px solid var(--line); padding:.25rem .5rem; border-radius:.3rem; }
button, a.button { cursor:pointer; background:var(--panel); } a.button { display:inline-block; padding:.25rem .6rem; border:1px solid var(--line); border-radius:.3rem; text-decoration:none; color:var(--fg); } button.danger { border-color:var(--bad); color:var(--bad); }
.pager { display:flex; gap:1rem; margin-top:.6rem; align-items:center; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:.4rem; padding:.6rem 1rem; margin:.8rem 0; }
.error { color:var(--bad); } dl { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; } dt { color:var(--muted); }
svg text { fill:var(--fg); font-size:11px; } svg .grid { stroke:var(--line); } svg .expiry { fill:var(--bad); }
svg .planned { fill:var(--run); } svg .window { fill:var(--due); opacity:.35; } svg .today { stroke:var(--focus); }
`;
