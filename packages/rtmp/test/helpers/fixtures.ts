/** Loading the committed captures of fixtures/ (format: fixtures/README.md). */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AmfValue } from '../../src/amf';

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
/** C0 + C1 + C2 (or S0 + S1 + S2). */
export const HANDSHAKE_BYTES = 1 + 1536 + 1536;

export type Direction = 'c2s' | 's2c';

export interface ExpectedMessage {
  csid: number;
  type: number;
  msid: number;
  timestamp: number;
  length: number;
  value?: number | number[];
  amf?: unknown[];
  head?: string;
  sha1?: string;
}

export interface FixtureMeta {
  name: string;
  command: string[];
  clip: { name: string; streams: { type: string; codec: string; packets: number }[] } | null;
  client: { tool: string; exitCode: number | null };
  bytes: { c2s: number; s2c: number };
  nginxRecord: { file: string; streams: { type: string; packets: number }[] | { error: string } }[];
  reads: [Direction, number, number][];
}

export interface Fixture {
  name: string;
  c2s: Uint8Array;
  s2c: Uint8Array;
  meta: FixtureMeta;
  expected: Record<Direction, { trailingBytes: number; messages: ExpectedMessage[] }>;
}

/** Names of every capture (every `<name>.c2s.bin`). */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.c2s.bin'))
    .map((f) => f.slice(0, -'.c2s.bin'.length))
    .sort();
}

const cache = new Map<string, Fixture>();

export function loadFixture(name: string): Fixture {
  let f = cache.get(name);
  if (f === undefined) {
    const read = (suffix: string) => new Uint8Array(readFileSync(`${FIXTURE_DIR}${name}${suffix}`));
    const json = (suffix: string) => JSON.parse(readFileSync(`${FIXTURE_DIR}${name}${suffix}`, 'utf8'));
    f = {
      name,
      c2s: read('.c2s.bin'),
      s2c: read('.s2c.bin'),
      meta: json('.json'),
      expected: json('.expected.json'),
    };
    cache.set(name, f);
  }
  return f;
}

/** The bytes of one direction cut at the read boundaries the relay recorded. */
export function readsOf(f: Fixture, dir: Direction): Uint8Array[] {
  const bytes = f[dir];
  const out: Uint8Array[] = [];
  let o = 0;
  for (const [d, , len] of f.meta.reads) {
    if (d !== dir) continue;
    out.push(bytes.subarray(o, o + len));
    o += len;
  }
  if (o !== bytes.length) throw new Error(`${f.name}: ${dir} reads add up to ${o}, file has ${bytes.length}`);
  return out;
}

/** Packet count ffprobe gave for the clip's stream of `type`. */
export function clipPackets(f: Fixture, type: 'audio' | 'video'): number {
  const s = f.meta.clip?.streams.find((x) => x.type === type);
  if (s === undefined) throw new Error(`${f.name}: clip has no ${type} stream`);
  return s.packets;
}

/**
 * AMF values in the JSON form of fixtures/*.expected.json: objects (null prototype or not) as plain
 * objects, undefined as {"$undefined": true}, dates as {"$date": ms}.
 */
export function amfToJson(v: AmfValue): unknown {
  if (v === undefined) return { $undefined: true };
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(amfToJson);
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) o[k] = amfToJson((v as Record<string, AmfValue>)[k]);
  return o;
}
