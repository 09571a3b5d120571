/**
 * MPEG-TS constants (ISO/IEC 13818-1) and the defaults of this package's options.
 * PIDs follow FFmpeg's mpegts muxer defaults, so segments look familiar in analysers.
 */

/** Every transport stream packet is 188 bytes (§2.4.3.2). */
export const TS_PACKET_SIZE = 188;
/** sync_byte of every packet. */
export const TS_SYNC_BYTE = 0x47;

/** PID of the Program Association Table (fixed by §2.4.4.3). */
export const PAT_PID = 0x0000;
/** PID of the one Program Map Table (FFmpeg's default, 4096). */
export const PMT_PID = 0x1000;
/** PID of the video elementary stream (FFmpeg's default, 256). */
export const VIDEO_PID = 0x0100;
/** PID of the audio elementary stream (FFmpeg's default, 257). */
export const AUDIO_PID = 0x0101;
/** program_number of the one program. */
export const PROGRAM_NUMBER = 1;

/** stream_type values of the PMT (§2.4.4.9, Table 2-34; HEVC from Amd. 3). */
export const StreamType = {
  /** ISO/IEC 11172-3 audio (MP3 at 32/44.1/48 kHz). */
  Mpeg1Audio: 0x03,
  /** ISO/IEC 13818-7 AAC with ADTS transport syntax. */
  AacAdts: 0x0f,
  /** Rec. ITU-T H.264 (AVC). */
  H264: 0x1b,
  /** Rec. ITU-T H.265 (HEVC): reserved for the next codec. */
  H265: 0x24,
} as const;

/** PES stream_id of the first video / audio stream (§2.4.3.7, Table 2-22). */
export const VIDEO_STREAM_ID = 0xe0;
export const AUDIO_STREAM_ID = 0xc0;

/** MPEG-TS clocks: PTS/DTS tick at 90 kHz and wrap at 2^33; PCR extends the base by 300 (27 MHz). */
export const TS_CLOCK_HZ = 90_000;
export const TIMESTAMP_MODULUS = 2 ** 33;

/** 1 s: the server's `hlsTime` default, short segments for low latency with ordinary HLS. */
export const DEFAULT_TARGET_DURATION = 1;
/**
 * 10 s: a stream whose keyframes stop (or are 30 s apart) still gets segments, cut at a
 * non-keyframe and reported `independent: false`, so a playlist's target duration stays bounded.
 */
export const DEFAULT_MAX_SEGMENT_DURATION = 10;
/**
 * 8 MiB: far above any frame of a live stream (a 4K intra frame at high quality is ~2 MiB), low
 * enough that one hostile frame cannot make the muxer allocate without bound.
 */
export const DEFAULT_MAX_FRAME_SIZE = 8 * 1024 * 1024;
