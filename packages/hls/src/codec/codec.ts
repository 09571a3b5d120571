/**
 * The codec seam of the muxer: each codec turns its FLV payload (configuration record, frame) into
 * the elementary stream bytes MPEG-TS carries, as pieces that the packetizer copies once. Adding a
 * codec is one module implementing {@link VideoCodec} or {@link AudioCodec} plus a line in
 * `codec/registry.ts`; HEVC (stream_type 0x24, hvcC, AUD type 35, VPS/SPS/PPS before IRAP pictures)
 * reuses `annexb.ts` with its own {@link NalSyntax}.
 */

/** Video codecs the muxer can carry. */
export type VideoCodecName = 'h264';
/** Audio codecs the muxer can carry. */
export type AudioCodecName = 'aac' | 'mp3';

/** A video codec: decoder configuration record in, Annex B access units out. */
export interface VideoCodec {
  readonly name: VideoCodecName;
  /** PMT stream_type. */
  readonly streamType: number;
  /** True once a configuration record was accepted. */
  readonly configured: boolean;
  /** Parses a decoder configuration record; throws HlsFormatError and keeps the previous one. */
  configure(record: Uint8Array): void;
  /** One access unit (length-prefixed NAL units) → Annex B pieces (AUD and parameter sets added). */
  accessUnit(data: Uint8Array, keyframe: boolean): Uint8Array[];
}

/** An audio codec: optional configuration in, elementary stream frames out. */
export interface AudioCodec {
  readonly name: AudioCodecName;
  readonly streamType: number;
  /** Whether frames need {@link configure} first (AAC: yes; MP3: no). */
  readonly needsConfig: boolean;
  readonly configured: boolean;
  configure(config: Uint8Array): void;
  /** One raw frame → the pieces of its elementary stream frame (AAC: ADTS header + frame). */
  frame(data: Uint8Array): Uint8Array[];
}
