import { describe, expect, it } from 'vitest';
import { AmfEcmaArray, decodeCommand, decodeData, encodeCommand, encodeData } from '../src/amf';
import { RtmpError } from '../src/errors';
import { obj } from './helpers/amf';
import { ascii, b, f64, u16 } from './helpers/bytes';

/** ffmpeg-style publish command body. */
const publish = b(
  0x02, // string
  u16(7),
  ascii('publish'), // command name
  0x00, // number
  f64(5), // transaction id
  0x05, // null command object
  0x02, // string
  u16(3),
  ascii('key'), // stream name
  0x02, // string
  u16(4),
  ascii('live'), // publishing type
);

describe('decodeCommand / encodeCommand', () => {
  it('decodes a type 20 command into name, transaction id, command object and arguments', () => {
    expect(decodeCommand(publish, 20)).toEqual({
      name: 'publish',
      transactionId: 5,
      commandObject: null,
      args: ['key', 'live'],
    });
  });

  it('strips the format byte of a type 17 (AMF3) command', () => {
    expect(decodeCommand(b(0x00 /* format byte */, publish), 17).args).toEqual(['key', 'live']);
  });

  it('type 17 values may switch to AMF3', () => {
    const body = b(
      0x00, // format byte
      0x02,
      u16(7),
      ascii('connect'), // name (AMF0)
      0x00,
      f64(1), // txn
      0x11, // AVM+
      0x0a, // AMF3 object
      0x0b, // dynamic, anonymous
      0x01, // class ""
      0x07,
      ascii('app'), // key "app"
      0x06,
      0x09,
      ascii('live'), // "live"
      0x01, // end
    );
    expect(decodeCommand(body, 17)).toEqual({
      name: 'connect',
      transactionId: 1,
      commandObject: obj({ app: 'live' }),
      args: [],
    });
  });

  it('encodeCommand writes name, transaction id, command object, arguments', () => {
    expect(encodeCommand('publish', 5, null, 'key', 'live')).toEqual(publish);
    const round = decodeCommand(encodeCommand('_result', 1, { fmsVer: 'FMS/3,0,1,123' }, { code: 'ok' }));
    expect(round).toEqual({
      name: '_result',
      transactionId: 1,
      commandObject: obj({ fmsVer: 'FMS/3,0,1,123' }),
      args: [obj({ code: 'ok' })],
    });
  });

  it('a command with only a name gets transaction id 0 and a null command object', () => {
    expect(decodeCommand(b(0x02, u16(1), ascii('x')))).toEqual({
      name: 'x',
      transactionId: 0,
      commandObject: null,
      args: [],
    });
  });

  it.each([
    ['a number where the name should be', b(0x00, f64(1)), /command name is number/],
    ['an empty body', b(), /command name is undefined/],
    ['a string transaction id', b(0x02, u16(1), ascii('x'), 0x02, u16(1), ascii('1')), /transaction id is string/],
  ])('refuses %s with ERR_RTMP_BAD_COMMAND', (_name, body, says) => {
    let caught: unknown;
    try {
      decodeCommand(body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RtmpError);
    expect((caught as RtmpError).code).toBe('ERR_RTMP_BAD_COMMAND');
    expect((caught as RtmpError).message).toMatch(says);
  });

  it('malformed AMF surfaces as an AMF error', () => {
    expect(() => decodeCommand(b(0x02, u16(9), ascii('x')))).toThrow(
      expect.objectContaining({ code: 'ERR_AMF_TRUNCATED' }),
    );
  });
});

describe('decodeData / encodeData', () => {
  it('round-trips @setDataFrame onMetaData with an ECMA array', () => {
    const body = encodeData('@setDataFrame', 'onMetaData', new AmfEcmaArray({ width: 1280, videocodecid: 7 }));
    // 16 bytes of '@setDataFrame' and 13 of 'onMetaData', then the ECMA array marker.
    expect(body[29]).toBe(0x08);
    expect(decodeData(body, 18)).toEqual(['@setDataFrame', 'onMetaData', obj({ width: 1280, videocodecid: 7 })]);
  });

  it('strips the format byte of type 15', () => {
    expect(decodeData(b(0x00, encodeData('onFI', 1)), 15)).toEqual(['onFI', 1]);
  });
});
