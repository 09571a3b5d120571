/**
 * Playlist watchers over HTTP, as a player sees the server:
 *   - waitFirstPlaylist: polls until the playlist lists a segment (time to first playlist);
 *   - HealthPoller: one poll per stream every 500 ms; the newest segment's sequence must advance,
 *     a gap over 3 s between advances is a stall;
 *   - SegmentDelayProbe: polls one playlist from each keyframe the publisher sends (every 1 ms, after
 *     20 ms every 5 ms) until the segment it closes appears, fetches each new segment, hashes the
 *     IDR it starts with and matches it against the keyframes the relay saw the publisher send.
 */
import { parsePlaylist, segmentIdrHash } from './media.mjs';

const FETCH_TIMEOUT_MS = 5000;
export const HEALTH_POLL_MS = 500;
export const STALL_MS = 3000;
/**
 * Poll period between a keyframe and the segment it closes: the resolution of the delay figure.
 * 1 ms for the first PROBE_FINE_FOR_MS after the keyframe (where nginx-rtmp and ours list it), then
 * 5 ms, so a server that takes 100 ms is not polled a hundred times per segment while its CPU is
 * being measured.
 */
export const PROBE_FINE_POLL_MS = 1;
const PROBE_FINE_FOR_MS = 20;
export const PROBE_POLL_MS = 5;
/** After a keyframe, poll fast this long for the segment it closes; then slowly until the next one. */
const FAST_POLL_FOR_MS = 3000;
const SLOW_POLL_MS = 250;
/** Longest wait for the next keyframe before polling again anyway (the GOP is 2 s). */
const IDLE_WAIT_MS = 3000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function fetchPlaylist(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), cache: 'no-store' });
    if (!res.ok) {
      await res.arrayBuffer().catch(() => {});
      return null;
    }
    return parsePlaylist(await res.text());
  } catch {
    return null;
  }
}

async function fetchBytes(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) {
      await res.arrayBuffer().catch(() => {});
      return null;
    }
    return new Uint8Array(await res.arrayBuffer());
  } catch {
    return null;
  }
}

/** Resolves with performance.now() when the playlist first lists a segment, or null at `timeoutMs`. */
export async function waitFirstPlaylist(url, { timeoutMs, pollMs = 100, cancelled = () => false }) {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end && !cancelled()) {
    const pl = await fetchPlaylist(url);
    if (pl && pl.segments.length > 0) return performance.now();
    await sleep(pollMs);
  }
  return null;
}

/** Polls each stream's playlist during a window and reports stalls. */
export class HealthPoller {
  constructor(urls) {
    this.streams = urls.map((url) => ({
      url,
      polls: 0,
      failures: 0,
      firstSeq: null,
      lastSeq: null,
      lastAdvanceAt: null,
      maxGapMs: 0,
      stalls: 0,
      durations: [],
      endList: false,
    }));
    this.running = false;
    this.loops = [];
  }

  start() {
    this.running = true;
    this.startedAt = performance.now();
    this.loops = this.streams.map((s, i) => this.loop(s, (i * HEALTH_POLL_MS) / this.streams.length));
  }

  async loop(s, offsetMs) {
    await sleep(offsetMs);
    while (this.running) {
      const t0 = performance.now();
      const pl = await fetchPlaylist(s.url);
      const now = performance.now();
      s.polls += 1;
      if (!pl || pl.segments.length === 0) s.failures += 1;
      else {
        const seg = pl.segments.at(-1);
        if (pl.endList) s.endList = true;
        if (s.lastSeq === null) {
          s.firstSeq = seg.sequence;
          s.lastSeq = seg.sequence;
          s.lastAdvanceAt = now;
        } else if (seg.sequence > s.lastSeq) {
          for (const x of pl.segments) if (x.sequence > s.lastSeq) s.durations.push(x.duration);
          s.lastSeq = seg.sequence;
          this.noteGap(s, now);
          s.lastAdvanceAt = now;
        }
      }
      await sleep(Math.max(0, HEALTH_POLL_MS - (performance.now() - t0)));
    }
  }

  noteGap(s, now) {
    const gap = now - (s.lastAdvanceAt ?? this.startedAt);
    if (gap > s.maxGapMs) s.maxGapMs = gap;
    if (gap > STALL_MS) s.stalls += 1;
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops);
    const now = performance.now();
    const seconds = (now - this.startedAt) / 1000;
    for (const s of this.streams) this.noteGap(s, now);
    const per = this.streams.map((s) => {
      const media = s.durations.reduce((a, b) => a + b, 0);
      return {
        url: s.url,
        polls: s.polls,
        failures: s.failures,
        advanced: s.lastSeq === null ? 0 : s.lastSeq - s.firstSeq,
        mediaSeconds: media,
        realtime: media / seconds,
        maxGapMs: Math.round(s.maxGapMs),
        stalls: s.stalls,
        healthy: s.lastSeq !== null && s.stalls === 0 && !s.endList,
      };
    });
    return {
      seconds,
      streams: per.length,
      healthy: per.filter((p) => p.healthy).length,
      maxGapMs: Math.max(0, ...per.map((p) => p.maxGapMs)),
      minRealtime: per.length ? Math.min(...per.map((p) => p.realtime)) : null,
      failures: per.reduce((a, p) => a + p.failures, 0),
      polls: per.reduce((a, p) => a + p.polls, 0),
      per,
    };
  }
}

/**
 * Segment delay of one stream: for segment s, the time s first appears in the playlist minus the time
 * the relay forwarded the keyframe that ends s (the IDR segment s+1 starts with).
 */
export class SegmentDelayProbe {
  constructor(playlistUrl, segmentUrl, relay) {
    this.url = playlistUrl;
    this.segmentUrl = segmentUrl;
    this.relay = relay;
    this.appear = new Map();
    this.hashes = new Map();
    this.samples = [];
    this.unmatched = 0;
    this.fetchFailures = 0;
    this.firstPlaylistAt = null;
    this.running = false;
    this.done = null;
  }

  start() {
    this.running = true;
    this.done = this.loop();
  }

  async loop() {
    let maxSeq = -1;
    let fastSince = performance.now();
    while (this.running) {
      const t0 = performance.now();
      const pl = await fetchPlaylist(this.url);
      const seenAt = performance.now();
      let newest = null;
      if (pl && pl.segments.length > 0) {
        this.firstPlaylistAt ??= seenAt;
        const fresh = pl.segments.filter((s) => s.sequence > maxSeq);
        // The first listing may hold several old segments: only time those seen appearing.
        const timed = maxSeq >= 0;
        for (const seg of fresh) {
          maxSeq = seg.sequence;
          if (timed) this.appear.set(seg.sequence, seenAt);
          const bytes = await fetchBytes(this.segmentUrl(this.url, seg.uri));
          if (!bytes) {
            this.fetchFailures += 1;
            continue;
          }
          const hash = segmentIdrHash(bytes);
          this.hashes.set(seg.sequence, hash);
          this.match(seg.sequence - 1);
          newest = { hash, seenAt };
        }
      }
      if (newest) {
        // The newest listed segment k starts with keyframe K(k) and was closed by K(k+1), which
        // opens segment k+1. Segment k+1 cannot be listed before K(k+2) is sent: when K(k+1) is the
        // last keyframe the relay saw, wait for the next one instead of polling (polls are HTTP load
        // on the server being measured).
        const kf = newest.hash ? this.relay.findKeyframe(newest.hash, newest.seenAt) : null;
        const keyframes = this.relay.keyframes;
        if (kf && keyframes.length >= 2 && keyframes.at(-2) === kf) {
          await this.relay.waitKeyframe(IDLE_WAIT_MS);
          fastSince = performance.now();
          continue;
        }
      }
      // Poll fast from the newest keyframe the relay saw, also before the first playlist: a server
      // whose first playlist comes more than FAST_POLL_FOR_MS after the probe started was otherwise
      // polled every 250 ms then, and its time to first playlist was sometimes not measured.
      const lastKeyframeAt = this.relay.keyframes.at(-1)?.at;
      if (lastKeyframeAt !== undefined && lastKeyframeAt > fastSince) fastSince = lastKeyframeAt;
      const since = performance.now() - fastSince;
      const pollMs =
        since < PROBE_FINE_FOR_MS ? PROBE_FINE_POLL_MS : since < FAST_POLL_FOR_MS ? PROBE_POLL_MS : SLOW_POLL_MS;
      await sleep(Math.max(0, pollMs - (performance.now() - t0)));
    }
  }

  /** Pairs segment `seq`'s appearance with the keyframe that starts `seq + 1`. */
  match(seq) {
    const appearAt = this.appear.get(seq);
    const hash = this.hashes.get(seq + 1);
    if (appearAt === undefined || hash === undefined) return;
    const kf = hash ? this.relay.findKeyframe(hash, appearAt) : null;
    if (!kf) {
      this.unmatched += 1;
      this.samples.push({ seq, appearAt, sentAt: null, delayMs: null });
      return;
    }
    this.samples.push({ seq, appearAt, sentAt: kf.at, delayMs: appearAt - kf.at });
  }

  /** Samples whose segment appeared inside [fromMs, toMs]. */
  between(fromMs, toMs) {
    return this.samples.filter((s) => s.appearAt >= fromMs && s.appearAt <= toMs);
  }

  async stop() {
    this.running = false;
    await this.done;
  }
}
