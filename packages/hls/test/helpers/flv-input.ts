/**
 * Turns an FLV file (made by FFmpeg in a test) into the muxer's inputs with @org/flv's reader and
 * tag-header parsers: configuration records and frames, in file order.
 */
import { readFile } from 'node:fs/promises';
import {
  AudioPacketType,
  FlvReader,
  parseAudioTagHeader,
  parseVideoTagHeader,
  TagType,
  VideoPacketType,
} from '@org/flv';
import type { AudioFrame, VideoFrame } from '../../src/index';
import { ffmpeg } from './media';

export type FlvInput =
  | { kind: 'video-config'; data: Uint8Array }
  | { kind: 'audio-config'; data: Uint8Array }
  | ({ kind: 'video' } & VideoFrame)
  | ({ kind: 'audio' } & AudioFrame);

/** Reads the tags of `bytes` as muxer inputs, timestamps shifted by `offsetMs`. */
export function flvInputs(bytes: Uint8Array, offsetMs = 0): FlvInput[] {
  const reader = new FlvReader();
  const tags = reader.push(bytes);
  reader.end();
  const out: FlvInput[] = [];
  for (const tag of tags) {
    const ts = tag.timestamp + offsetMs;
    if (tag.type === TagType.Video) {
      const h = parseVideoTagHeader(tag.payload);
      const data = tag.payload.subarray(h.bodyOffset, h.bodyEnd);
      if (h.packetType === VideoPacketType.SequenceStart) out.push({ kind: 'video-config', data });
      else if (h.packetType === VideoPacketType.CodedFrames || h.packetType === VideoPacketType.CodedFramesX) {
        out.push({ kind: 'video', dts: ts, cts: h.compositionTime, keyframe: h.frameType === 1, data });
      }
    } else if (tag.type === TagType.Audio) {
      const h = parseAudioTagHeader(tag.payload);
      const data = tag.payload.subarray(h.bodyOffset, h.bodyEnd);
      if (h.packetType === AudioPacketType.SequenceStart) out.push({ kind: 'audio-config', data });
      else if (data.length > 0) out.push({ kind: 'audio', pts: ts, data });
    }
  }
  return out;
}

/** Runs ffmpeg with `args` (inputs and encoders) writing FLV to `path`; returns its inputs. */
export async function encodeFlvInputs(path: string, args: string[], offsetMs = 0): Promise<FlvInput[]> {
  await ffmpeg([...args, '-f', 'flv', path]);
  return flvInputs(new Uint8Array(await readFile(path)), offsetMs);
}
