import { RTMP_VERSION } from '../constants';
import { RtmpProtocolError } from '../errors';

/** Throws `ERR_RTMP_BAD_VERSION` naming what the first byte suggests the peer speaks, unless it is 3. */
export function checkVersion(version: number, who: 'C0' | 'S0'): void {
  if (version === RTMP_VERSION) return;
  let what: string;
  if (version === 6 || version === 8 || version === 9) {
    what = `RTMPE (encrypted RTMP, version ${version}) is not supported`;
  } else if (version >= 32) {
    const printable = version < 127 ? ` '${String.fromCharCode(version)}'` : '';
    what = `looks like HTTP or another protocol (first byte 0x${version.toString(16)}${printable}), not RTMP`;
  } else {
    what = `unsupported RTMP version ${version}`;
  }
  throw new RtmpProtocolError('ERR_RTMP_BAD_VERSION', `${who} = ${version}: ${what}; only version 3 is accepted`);
}
