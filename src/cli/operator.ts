/** Who runs an operator command, for the audit trail: --operator, else the login name. */
import { userInfo } from "node:os";

export function operatorName(given?: string): string {
  if (given?.trim()) return given.trim();
  const fromEnv = process.env.USER ?? process.env.LOGNAME;
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
