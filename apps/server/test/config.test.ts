import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, helpText, loadConfig, OPTIONS } from '../src/config';

const cwd = mkdtempSync(join(tmpdir(), 'config-test-'));
const load = (argv: string[] = [], env: Record<string, string> = {}) => loadConfig({ argv, env, cwd }).config;
const fail = (argv: string[], env: Record<string, string> = {}) => {
  try {
    loadConfig({ argv, env, cwd });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error(`expected ${argv.join(' ')} to fail`);
};
const file = (name: string, content: string) => {
  const p = join(cwd, name);
  writeFileSync(p, content);
  return p;
};

describe('loadConfig', () => {
  it('has the design defaults', () => {
    const c = load();
    expect(c.rtmpPort).toBe(1935);
    expect(c.httpPort).toBe(8080);
    expect(c.outputDir).toBe(join(cwd, 'streams'));
    expect(c.patterns).toEqual(['/live/{app}/{username}']);
    expect(c.reconnectGraceMs).toBe(5000);
    expect(c.cleanupDelayMs).toBe(2000);
    expect(c.hlsTime).toBe(1);
    expect(c.hlsListSize).toBe(3);
    expect(c.takeover).toBe(false);
  });

  it('applies file < env < flags', () => {
    const cfg = file('layers.json', JSON.stringify({ rtmpPort: 1000, httpPort: 2000, hlsListSize: 5 }));
    const c = load(['--config', cfg, '--rtmp-port', '3000'], { HTTP_PORT: '4000', RTMP_PORT: '5000' });
    expect(c.rtmpPort).toBe(3000);
    expect(c.httpPort).toBe(4000);
    expect(c.hlsListSize).toBe(5);
    expect(c.configFile).toBe(cfg);
  });

  it('accepts --flag=value, boolean flags and repeated patterns', () => {
    const c = load(['--http-port=0', '--takeover', '--pattern', '/a/{username}', '--pattern=/b/{app}/{username}']);
    expect(c.httpPort).toBe(0);
    expect(c.takeover).toBe(true);
    expect(c.patterns).toEqual(['/a/{username}', '/b/{app}/{username}']);
    expect(load([], { PUBLISH_PATTERNS: '/x/{username}, /y/{username}' }).patterns).toEqual([
      '/x/{username}',
      '/y/{username}',
    ]);
  });

  it('ignores the -- separator that pnpm passes through', () => {
    expect(load(['--', '--http-port', '81']).httpPort).toBe(81);
  });

  it('resolves relative paths against cwd', () => {
    expect(load(['--output-dir', 'out/hls']).outputDir).toBe(join(cwd, 'out/hls'));
  });

  it.each([
    [['--rtmp-port', '99999'], /--rtmp-port.*99999.*port/],
    [['--http-port', '-1'], /--http-port/],
    [['--http-port', 'abc'], /--http-port/],
    [['--rtmp-port', '1.5'], /--rtmp-port/],
    [['--hls-list-size', '0'], /--hls-list-size/],
    [['--log-level', 'loud'], /--log-level.*loud/],
    [['--takeover=maybe'], /--takeover/],
    [['--no-such-flag'], /unknown option.*--no-such-flag/],
    [['--rtmp-port'], /--rtmp-port needs a value/],
  ])('rejects %j with one clear line', (argv, pattern) => {
    expect(fail(argv)).toMatch(pattern);
  });

  it('merged reads: off by default, 0 to 1000 ms', () => {
    expect(load().mergedReadMs).toBe(0);
    expect(load(['--merged-read-ms', '40']).mergedReadMs).toBe(40);
    expect(load([], { MERGED_READ_MS: '25' }).mergedReadMs).toBe(25);
    expect(fail(['--merged-read-ms', '1001'])).toMatch(/--merged-read-ms/);
    expect(fail(['--merged-read-ms', '-1'])).toMatch(/--merged-read-ms/);
  });

  it('ingest bitrate limit: 60 Mbit/s and disconnect by default, 0 turns it off, the action is one of two', () => {
    expect(load()).toMatchObject({ ingestMaxKbps: 60_000, ingestLimitAction: 'disconnect' });
    expect(load(['--ingest-max-kbps', '0', '--ingest-limit-action', 'drop'])).toMatchObject({
      ingestMaxKbps: 0,
      ingestLimitAction: 'drop',
    });
    expect(load([], { INGEST_LIMIT_ACTION: 'drop' }).ingestLimitAction).toBe('drop');
    expect(fail(['--ingest-limit-action', 'throttle'])).toBe(
      'invalid --ingest-limit-action (flag): "throttle" is not one of drop, disconnect',
    );
    expect(fail(['--ingest-max-kbps', '-5'])).toMatch(/--ingest-max-kbps/);
  });

  it('RTMPS: certificate and key together, resolved against cwd; a port needs them', () => {
    expect(load()).toMatchObject({ rtmpsPort: undefined, tlsCert: undefined, tlsKey: undefined });
    expect(load(['--tls-cert', 'c.pem', '--tls-key', 'k.pem'])).toMatchObject({
      tlsCert: resolve(cwd, 'c.pem'),
      tlsKey: resolve(cwd, 'k.pem'),
    });
    expect(fail(['--tls-cert', 'c.pem'])).toBe(
      '--tls-cert and --tls-key go together: give both for RTMPS and HTTPS, or neither',
    );
    expect(fail(['--rtmps-port', '1936'])).toBe('--rtmps-port needs a certificate: give --tls-cert and --tls-key');
    expect(fail(['--https-port', '8443'])).toBe('--https-port needs a certificate: give --tls-cert and --tls-key');
  });

  it('HTTPS: on the certificate, port 0 turns it off, HSTS off by default, the HTTP/2 limits bounded', () => {
    expect(load()).toMatchObject({ httpsPort: undefined, hstsMaxAge: 0, http2MaxConcurrentStreams: 32 });
    const tls = ['--tls-cert', 'c.pem', '--tls-key', 'k.pem'];
    expect(load([...tls, '--https-port', '0', '--hsts-max-age', '31536000'])).toMatchObject({
      httpsPort: null,
      hstsMaxAge: 31_536_000,
    });
    expect(load(tls, { HTTPS_PORT: '9443', HTTP2_MAX_CONCURRENT_STREAMS: '8' })).toMatchObject({
      httpsPort: 9443,
      http2MaxConcurrentStreams: 8,
    });
    expect(fail(['--hsts-max-age', '-1'])).toMatch(/--hsts-max-age/);
    expect(fail(['--http2-max-concurrent-streams', '0'])).toMatch(/--http2-max-concurrent-streams/);
    expect(fail(['--http2-max-session-memory-mb', '0'])).toMatch(/--http2-max-session-memory-mb/);
  });

  it('port 0 turns RTMP or RTMPS off, but not both', () => {
    const tls = ['--tls-cert', 'c.pem', '--tls-key', 'k.pem'];
    expect(load(['--rtmp-port', '0', ...tls])).toMatchObject({ rtmpPort: null, rtmpsPort: undefined });
    expect(load(['--rtmps-port', '0', ...tls])).toMatchObject({ rtmpPort: 1935, rtmpsPort: null });
    expect(load([], { RTMP_PORT: '0', TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' }).rtmpPort).toBeNull();
    const nothing = /no publisher could connect: --rtmp-port 0 turns plain RTMP off, and RTMPS is not on/;
    expect(fail(['--rtmp-port', '0'])).toMatch(nothing);
    expect(fail(['--rtmp-port', '0', '--rtmps-port', '0', ...tls])).toMatch(nothing);
  });

  it('max streams: 1000 by default, at least 1', () => {
    expect(load().maxStreams).toBe(1000);
    expect(load([], { MAX_STREAMS: '50' }).maxStreams).toBe(50);
    expect(fail(['--max-streams', '0'])).toMatch(/--max-streams/);
  });

  it('viewers per address: 4 by default, 1 to 10 000', () => {
    expect(load().maxViewersPerAddress).toBe(4);
    expect(load(['--max-viewers-per-address', '1']).maxViewersPerAddress).toBe(1);
    expect(fail(['--max-viewers-per-address', '0'])).toMatch(/--max-viewers-per-address/);
  });

  it('names the environment variable of a bad env value', () => {
    expect(fail([], { RTMP_PORT: '70000' })).toMatch(/env RTMP_PORT/);
  });

  it('rejects an unreadable config file, bad JSON and unknown keys', () => {
    expect(fail(['--config', join(cwd, 'missing.json')])).toMatch(/cannot read config file .*missing\.json.*ENOENT/);
    expect(fail(['--config', file('bad.json', '{ nope')])).toMatch(/not valid JSON/);
    expect(fail(['--config', file('arr.json', '[1]')])).toMatch(/JSON object/);
    expect(fail(['--config', file('unknown.json', '{"rtmpPrt": 1}')])).toMatch(/unknown key "rtmpPrt"/);
    expect(fail(['--config', file('type.json', '{"httpPort": "x"}')])).toMatch(/config file key "httpPort"/);
  });
});

describe('helpText', () => {
  it('lists every option with its default', () => {
    const text = helpText();
    for (const spec of OPTIONS) {
      if (spec.flag) expect(text).toContain(spec.flag);
      if (spec.env) expect(text).toContain(spec.env);
    }
    expect(text).toContain(`default: ${DEFAULT_CONFIG.rtmpPort}`);
    expect(text).toContain(`default: ${DEFAULT_CONFIG.patterns[0]}`);
  });
});
