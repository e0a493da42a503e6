/** The bank sandbox's public surface (the CLI, the demo, tests and the bench import from here). */
export {
  type BindingView,
  type CertificateRecord,
  type CredentialStatus,
  type EndpointFaults,
  type FaultOptions,
  type SandboxHandle,
  type SandboxLogEntry,
  type SandboxOptions,
  type SeedCredential,
  startSandbox,
} from "./server.js";
export { loadSeedFile } from "./seed.js";
export { INVALID_CLIENT_CERTIFICATE, INVALID_CREDENTIALS, TOKEN_PATH } from "./api-routes.js";
export { ADMIN_PREFIX } from "./admin-routes.js";
export { PORTAL_PREFIX } from "./portal-routes.js";
