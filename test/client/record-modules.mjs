/**
 * `node --import ./record-modules.mjs ...`: appends the URL of every module the process loads to the file
 * named by CERTROTOR_TEST_MODULE_LOG, so a test can show which dependencies a consumer really loaded.
 */
import { register } from "node:module";

const log = process.env.CERTROTOR_TEST_MODULE_LOG;
if (log) {
  const hooks = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, resolved.url + "\\n");
  return resolved;
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
