/** Longest piece of client input ever quoted in a deny reason. */
export const MAX_QUOTED_LENGTH = 48;

/**
 * Renders client-supplied text for a deny reason: double-quoted, every character outside
 * printable ASCII (and `"` / `\`) escaped, cut after `max` characters with `...`. The result is
 * printable ASCII, so it is safe to send back over RTMP and to write to a log line.
 */
export function quote(value: string, max = MAX_QUOTED_LENGTH): string {
  let out = '"';
  let count = 0;
  for (const ch of value) {
    if (count === max) {
      out += '"...';
      return out;
    }
    count++;
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp <= 0x7e) out += ch;
    else if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\u{${cp.toString(16)}}`;
  }
  return `${out}"`;
}

/** Describes one character for a reason, e.g. `U+FF0E`. */
export function describeChar(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
