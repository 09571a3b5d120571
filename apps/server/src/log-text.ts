/**
 * Text from the network in a log line: pino escapes it (JSON), this bounds it, so a peer cannot make
 * one line megabytes long. Secrets are the caller's to redact first (`authorizer.redact`).
 */

/** Longest text from the network a log line carries. */
export const MAX_LOGGED_TEXT = 256;

/** `text` cut at {@link MAX_LOGGED_TEXT} characters, saying how long it was. */
export function clip(text: string): string {
  return text.length <= MAX_LOGGED_TEXT ? text : `${text.slice(0, MAX_LOGGED_TEXT)}…(${text.length} chars)`;
}
