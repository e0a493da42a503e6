/**
 * The fsynced writes a file-store rotation must make, done bare, as a second baseline for the rotation
 * rows: the journal record's first line (a small file fsynced, then linked into place) and the two
 * document writes (pending, then promoted: a temp file of the document's size fsynced, renamed over the
 * document, the directory fsynced). The same calls the product makes (src/util/durable.ts), in a scratch
 * directory beside the bench world's store, so the same disk answers. What a rotation costs beyond
 * primitives + these writes is the saga's own work: locks, journal and audit lines, lease checks, the
 * bank's admin calls, reading and checking what came back.
 */
import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fsyncDir, writeNewFile } from "../src/util/durable.js";

export interface DurableWrites {
  /** The three writes, in the saga's order; `docFile` gives the document size to write. */
  run(): Promise<void>;
}

export function prepareDurableWrites(scratchDir: string, docFile: string): DurableWrites {
  mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
  const record = `${JSON.stringify({ record: { rotationId: "rot_bench", status: "running" } })}\n`;
  const noise = randomBytes(1 << 20); // incompressible, like the encrypted document
  let n = 0;
  const documentWrite = async (bytes: Buffer): Promise<void> => {
    const temp = join(scratchDir, `.doc.${n++}.tmp`);
    await writeNewFile(temp, bytes);
    renameSync(temp, join(scratchDir, "doc.json"));
    await fsyncDir(scratchDir);
  };
  return {
    async run() {
      const temp = join(scratchDir, `.record.${n++}.tmp`);
      const name = join(scratchDir, `record.${n}.jsonl`);
      await writeNewFile(temp, record);
      linkSync(temp, name);
      unlinkSync(temp);
      unlinkSync(name); // a journal keeps it; the scratch directory need not grow
      // the document as large as the credential's is now (it grows with its history, up to maxVersions)
      const bytes = noise.subarray(0, Math.min(noise.length, statSync(docFile).size));
      await documentWrite(bytes);
      await documentWrite(bytes);
    },
  };
}
