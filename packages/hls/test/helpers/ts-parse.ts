/**
 * A small, independent MPEG-TS reader for the tests (ISO/IEC 13818-1 §2.4.3): packets with their
 * header and adaptation field, and PES packets reassembled per PID. Written from the spec tables,
 * separately from the muxer, so a shared misunderstanding would have to be made twice.
 */
import { expect } from 'vitest';

export interface TsPacket {
  index: number;
  pid: number;
  pusi: boolean;
  cc: number;
  hasPayload: boolean;
  /** Adaptation field bytes after the length byte (undefined when absent). */
  adaptationLength: number | undefined;
  discontinuity: boolean;
  randomAccess: boolean;
  /** PCR base (90 kHz) when present. */
  pcr: number | undefined;
  pcrExtension: number | undefined;
  payload: Uint8Array;
}

export function parsePackets(bytes: Uint8Array): TsPacket[] {
  expect(bytes.length % 188).toBe(0);
  const out: TsPacket[] = [];
  for (let o = 0, index = 0; o < bytes.length; o += 188, index++) {
    const p = bytes.subarray(o, o + 188);
    expect(p[0], `sync byte of packet ${index}`).toBe(0x47);
    const afc = (p[3]! >>> 4) & 0x03;
    expect(afc, 'adaptation_field_control is not reserved').not.toBe(0);
    expect(p[3]! & 0xc0, 'not scrambled').toBe(0);
    let pos = 4;
    let adaptationLength: number | undefined;
    let discontinuity = false;
    let randomAccess = false;
    let pcr: number | undefined;
    let pcrExtension: number | undefined;
    if (afc & 0x02) {
      adaptationLength = p[4]!;
      pos = 5 + adaptationLength;
      expect(pos).toBeLessThanOrEqual(188);
      if (adaptationLength > 0) {
        const flags = p[5]!;
        discontinuity = (flags & 0x80) !== 0;
        randomAccess = (flags & 0x40) !== 0;
        if (flags & 0x10) {
          const b = p.subarray(6, 12);
          pcr = (b[0]! * 2 ** 24 + b[1]! * 2 ** 16 + b[2]! * 2 ** 8 + b[3]!) * 2 + (b[4]! >>> 7);
          expect(b[4]! & 0x7e, 'PCR reserved bits').toBe(0x7e);
          pcrExtension = ((b[4]! & 1) << 8) | b[5]!;
        }
        const stuffingStart = 6 + (flags & 0x10 ? 6 : 0);
        for (let i = stuffingStart; i < pos; i++) expect(p[i], 'stuffing is 0xFF').toBe(0xff);
      }
    }
    out.push({
      index,
      pid: ((p[1]! & 0x1f) << 8) | p[2]!,
      pusi: (p[1]! & 0x40) !== 0,
      cc: p[3]! & 0x0f,
      hasPayload: (afc & 0x01) !== 0,
      adaptationLength,
      discontinuity,
      randomAccess,
      pcr,
      pcrExtension,
      payload: afc & 0x01 ? p.subarray(pos) : new Uint8Array(0),
    });
  }
  return out;
}

export interface Pes {
  pid: number;
  streamId: number;
  /** PES_packet_length as written. */
  length: number;
  flags6: number;
  flags7: number;
  headerDataLength: number;
  pts: number | undefined;
  dts: number | undefined;
  data: Uint8Array;
  firstPacket: TsPacket;
}

export function readTs(b: Uint8Array, o: number, prefix: number): number {
  expect(b[o]! >>> 4, 'timestamp prefix').toBe(prefix);
  expect(b[o]! & 1, 'marker').toBe(1);
  expect(b[o + 2]! & 1, 'marker').toBe(1);
  expect(b[o + 4]! & 1, 'marker').toBe(1);
  return (
    ((b[o]! >>> 1) & 7) * 2 ** 30 +
    ((b[o + 1]! << 22) | ((b[o + 2]! >>> 1) << 15) | (b[o + 3]! << 7) | (b[o + 4]! >>> 1))
  );
}

function parsePes(pid: number, bytes: Uint8Array, firstPacket: TsPacket): Pes {
  expect([bytes[0], bytes[1], bytes[2]], 'packet_start_code_prefix').toEqual([0, 0, 1]);
  const length = (bytes[4]! << 8) | bytes[5]!;
  const flags6 = bytes[6]!;
  const flags7 = bytes[7]!;
  expect(flags6 >>> 6, "'10' marker").toBe(2);
  const headerDataLength = bytes[8]!;
  const ptsDts = flags7 >>> 6;
  expect(ptsDts, 'PTS_DTS_flags 01 is forbidden').not.toBe(1);
  const pts = ptsDts & 2 ? readTs(bytes, 9, ptsDts === 3 ? 3 : 2) : undefined;
  const dts = ptsDts === 3 ? readTs(bytes, 14, 1) : undefined;
  const data = bytes.subarray(9 + headerDataLength);
  if (length !== 0) expect(length, 'PES_packet_length').toBe(bytes.length - 6);
  return { pid, streamId: bytes[3]!, length, flags6, flags7, headerDataLength, pts, dts, data, firstPacket };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** PES packets of the elementary stream PIDs (not 0, not `psiPids`), in order of their first packet. */
export function collectPes(packets: readonly TsPacket[], psiPids: readonly number[] = [0, 0x1000]): Pes[] {
  const open = new Map<number, { first: TsPacket; chunks: Uint8Array[] }>();
  const done: Pes[] = [];
  const flush = (pid: number) => {
    const o = open.get(pid);
    if (o) done.push(parsePes(pid, concat(o.chunks), o.first));
    open.delete(pid);
  };
  for (const p of packets) {
    if (psiPids.includes(p.pid) || !p.hasPayload) continue;
    if (p.pusi) {
      flush(p.pid);
      open.set(p.pid, { first: p, chunks: [p.payload] });
    } else {
      const o = open.get(p.pid);
      expect(o, `continuation without a start on PID ${p.pid}`).toBeDefined();
      o!.chunks.push(p.payload);
    }
  }
  for (const pid of [...open.keys()]) flush(pid);
  return done.sort((a, b) => a.firstPacket.index - b.firstPacket.index);
}

/** Checks continuity counters: +1 mod 16 per packet with payload, per PID, across all of `packets`. */
export function expectContinuous(packets: readonly TsPacket[]): void {
  const last = new Map<number, number>();
  for (const p of packets) {
    if (!p.hasPayload) continue;
    const prev = last.get(p.pid);
    if (prev !== undefined) expect(p.cc, `CC of PID ${p.pid} at packet ${p.index}`).toBe((prev + 1) & 15);
    last.set(p.pid, p.cc);
  }
}
