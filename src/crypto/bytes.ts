/**
 * Buffer <-> ArrayBuffer copies for the @peculiar ASN.1 types. Apart from x509.ts so that parsing a
 * certificate (parse.ts, names.ts) does not load @peculiar/x509 and its DI container.
 */

/** Bytes of an ArrayBuffer/view as a Buffer sharing no state with the library's object. */
export function bytes(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
    : Buffer.from(data.slice(0));
}

/** A Buffer's bytes as a standalone ArrayBuffer (what @peculiar's ASN.1 types hold). */
export function arrayBuffer(buffer: Buffer): ArrayBuffer {
  return Uint8Array.from(buffer).buffer as ArrayBuffer;
}
