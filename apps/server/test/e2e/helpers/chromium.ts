/** Debian's headless Chromium for the browser tests (playwright-core drives it; CI installs it). */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];

/** The little of the player page's globals these tests read (this package has no DOM lib). */
export interface PageGlobals {
  document: {
    body: { dataset: Record<string, string | undefined> };
    getElementById(id: string): { currentTime?: number; hidden?: boolean; textContent: string | null } | null;
  };
  Hls?: unknown;
  performance: { getEntriesByType(type: 'resource'): { name: string; nextHopProtocol: string }[] };
}
