/**
 * Generated parts of the docs live between two markers, so the prose around them is written by hand and
 * the tables are rewritten from the code by `npm run docs:gen` (and compared with it by test/docs).
 */
export const REGENERATE = "npm run docs:gen";

const begin = (name: string): string => `<!-- generated: ${name} (${REGENERATE}) -->`;
const end = (name: string): string => `<!-- end generated: ${name} -->`;

/** The text between the markers of `name`, or undefined when the document has no such block. */
export function readBlock(text: string, name: string): string | undefined {
  const start = text.indexOf(begin(name));
  const stop = text.indexOf(end(name));
  if (start < 0 || stop < start) return undefined;
  return text.slice(start + begin(name).length, stop).trim();
}

/** `text` with the block `name` replaced by `content`; throws when the markers are missing. */
export function writeBlock(text: string, name: string, content: string): string {
  const start = text.indexOf(begin(name));
  const stop = text.indexOf(end(name));
  if (start < 0 || stop < start) throw new Error(`no block "${name}": add ${begin(name)} … ${end(name)}`);
  return `${text.slice(0, start)}${begin(name)}\n\n${content.trim()}\n\n${text.slice(stop)}`;
}

/** A fresh pair of markers around `content`, for a new document. */
export function block(name: string, content: string): string {
  return `${begin(name)}\n\n${content.trim()}\n\n${end(name)}`;
}

/** A markdown table cell: pipes escaped, one line. */
export function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}
