import { RTMP_VERSION } from '../constants';
import { RtmpProtocolError } from '../errors';

/** Throws `ERR_RTMP_BAD_VERSION` naming what the first byte suggests the peer speaks, unless it is 3. */
export function checkVersion(version: number, who: 'C0' | 'S0'): void {
  if (version === RTMP_VERSION) return;
  let what: string;
  if (version === 6 || version === 8 || version === 9) {
    what = `RTMPE (encrypted RTMP, version ${version}) is not supported`;
  } else if (version >= 32 && version < 127) {
    what = `looks like HTTP or another text protocol (first byte 0x${version.toString(16)} '${String.fromCharCode(version)}'), not RTMP`;
  } else {
    what = `unsupported RTMP version ${version}`;
  }
  throw new RtmpProtocolError('ERR_RTMP_BAD_VERSION', `${who} = ${version}: ${what}; only version 3 is accepted`);
}
