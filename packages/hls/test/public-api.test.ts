/** Pins the runtime names of the package entry, so that every change to the public API is deliberate. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import * as api from '../src/index';

const hint = 'the public API changed: if intended, update test/public-api.txt deliberately (and README "API")';

it('exports exactly the names listed in test/public-api.txt, and no internals', () => {
  const pinned = readFileSync(new URL('./public-api.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean);
  expect(Object.keys(api).sort(), hint).toEqual(pinned);
  const internals = ['packetize', 'pesHeader', 'patSection', 'pmtSection', 'toAnnexB', 'H264Codec', 'AacCodec'];
  for (const name of internals) expect(api, `${name} is internal`).not.toHaveProperty(name);
});
