import { describe, expect, it } from 'vitest';
import { createPublishAuthorizer, hashStreamKey, REDACTED, redactCredentials, redactPublishPath } from '../src';

describe('redactCredentials', () => {
  it('redacts credential parameters wherever the query sits, and nothing else', () => {
    expect(redactCredentials('live/test?key=s3cr3t')).toBe(`live/test?key=${REDACTED}`);
    expect(redactCredentials('rtmp://h/live/test?a=1&sig=abc&expires=99')).toBe(
      `rtmp://h/live/test?a=1&sig=${REDACTED}&expires=99`,
    );
    expect(redactCredentials('alice?Token=t;password=p&x=y')).toBe(`alice?Token=${REDACTED};password=${REDACTED}&x=y`);
    expect(redactCredentials('key=abc')).toBe(`key=${REDACTED}`);
    expect(redactCredentials('monkey=abc&keys=1')).toBe('monkey=abc&keys=1');
    expect(redactCredentials('a?%6Bey=abc')).toBe(`a?%6Bey=${REDACTED}`);
    expect(redactCredentials('no query at all')).toBe('no query at all');
  });

  it('takes configured parameter names too', () => {
    expect(redactCredentials('x?pwd=1&h=2', ['PWD'])).toBe(`x?pwd=${REDACTED}&h=2`);
  });

  it("is the authorizer's redact, with its configured key and signature parameters", async () => {
    const hash = await hashStreamKey('k-123');
    const auth = createPublishAuthorizer({
      patterns: ['/live/{app}/{username}'],
      streamKeys: { queryParam: 'k', keys: { alice: hash } },
      signedUrls: { secret: 'x'.repeat(32), sigParam: 'mac' },
    });
    expect(auth.redact('live/test?k=k-123&mac=ff&expires=1&v=2')).toBe(
      `live/test?k=${REDACTED}&mac=${REDACTED}&expires=1&v=2`,
    );
  });
});

describe('redactPublishPath', () => {
  it('redacts the last path segment when a pattern ends in {key}, wherever the client put it', () => {
    const pathKey = { pathKey: true };
    expect(redactPublishPath('live/test', 'alice/K3Y?x=1', pathKey)).toEqual({
      app: 'live/test',
      name: `alice/${REDACTED}?x=1`,
    });
    // ffmpeg-style: the key alone as the name.
    expect(redactPublishPath('live/test/alice', 'K3Y', pathKey)).toEqual({ app: 'live/test/alice', name: REDACTED });
    // No name: the key ends the app.
    expect(redactPublishPath('live/test/alice/K3Y/', '', pathKey)).toEqual({
      app: `live/test/alice/${REDACTED}`,
      name: '',
    });
    expect(redactPublishPath('live/test?key=1', 'alice')).toEqual({ app: `live/test?key=${REDACTED}`, name: 'alice' });
  });
});
