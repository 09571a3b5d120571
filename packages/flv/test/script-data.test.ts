import { AmfEcmaArray, decodeAmf0, encodeAmf0, MessageType, type RtmpMessage } from '@org/rtmp';
import { describe, expect, it } from 'vitest';
import {
  decodeScriptData,
  encodeOnMetaData,
  isFlvError,
  isOnMetaData,
  metadataTag,
  stripSetDataFrame,
  TagType,
  tagFromRtmpMessage,
} from '../src/index';

const msg = (type: number, payload: Uint8Array, timestamp = 5000): RtmpMessage => ({
  chunkStreamId: 4,
  type,
  streamId: 1,
  timestamp,
  payload,
});

describe('onMetaData encoding', () => {
  it('is the AMF0 string "onMetaData" followed by an ECMA array (marker 0x08)', () => {
    const p = encodeOnMetaData({ width: 1280, height: 720, encoder: 'x' });
    expect([...p.subarray(0, 13)]).toEqual([0x02, 0x00, 0x0a, ...Buffer.from('onMetaData')]);
    expect(p[13]).toBe(0x08);
    const [name, value] = decodeAmf0(p);
    expect(name).toBe('onMetaData');
    expect({ ...(value as object) }).toEqual({ width: 1280, height: 720, encoder: 'x' });
    expect(metadataTag({ a: 1 })).toEqual({ type: TagType.Script, timestamp: 0, payload: encodeOnMetaData({ a: 1 }) });
  });

  it('decodeScriptData reads plain and @setDataFrame payloads alike', () => {
    const plain = encodeAmf0('onMetaData', new AmfEcmaArray({ duration: 0 }));
    const framed = encodeAmf0('@setDataFrame', 'onMetaData', new AmfEcmaArray({ duration: 0 }));
    for (const p of [plain, framed]) {
      const d = decodeScriptData(p);
      expect(d.name).toBe('onMetaData');
      expect({ ...(d.value as object) }).toEqual({ duration: 0 });
      expect(isOnMetaData(p)).toBe(true);
    }
    expect([...stripSetDataFrame(framed)]).toEqual([...plain]);
    expect(stripSetDataFrame(plain)).toBe(plain);
    expect(isOnMetaData(encodeAmf0('onCuePoint', {}))).toBe(false);
  });

  it('malformed script data gives ERR_FLV_BAD_SCRIPT_DATA with the AMF error as cause', () => {
    for (const p of [new Uint8Array([0x02, 0x00, 0x05, 0x41]), encodeAmf0(3, 'x'), new Uint8Array([0x0e])]) {
      let caught: unknown;
      try {
        decodeScriptData(p);
      } catch (e) {
        caught = e;
      }
      expect(isFlvError(caught) && caught.code).toBe('ERR_FLV_BAD_SCRIPT_DATA');
    }
  });
});

describe('tagFromRtmpMessage', () => {
  it('maps audio and video messages without copying', () => {
    const payload = new Uint8Array([0x17, 1, 0, 0, 0]);
    const v = tagFromRtmpMessage(msg(MessageType.Video, payload))!;
    expect(v).toEqual({ type: TagType.Video, timestamp: 5000, payload });
    expect(v.payload).toBe(payload);
    expect(tagFromRtmpMessage(msg(MessageType.Audio, payload), 40)).toMatchObject({
      type: TagType.Audio,
      timestamp: 40,
    });
  });

  it('turns @setDataFrame onMetaData (AMF0 or AMF3 data) into a script tag at 0', () => {
    const body = encodeAmf0('@setDataFrame', 'onMetaData', new AmfEcmaArray({ fps: 30 }));
    const expected = encodeAmf0('onMetaData', new AmfEcmaArray({ fps: 30 }));
    const t0 = tagFromRtmpMessage(msg(MessageType.DataAmf0, body))!;
    expect(t0.type).toBe(TagType.Script);
    expect(t0.timestamp).toBe(0);
    expect([...t0.payload]).toEqual([...expected]);
    const amf3 = new Uint8Array([0x00, ...body]); // type 15: format byte 0, then AMF0
    expect([...tagFromRtmpMessage(msg(MessageType.DataAmf3, amf3))!.payload]).toEqual([...expected]);
  });

  it('ignores other data, commands and control messages', () => {
    expect(tagFromRtmpMessage(msg(MessageType.DataAmf0, encodeAmf0('onTextData', { text: 'x' })))).toBeUndefined();
    expect(tagFromRtmpMessage(msg(MessageType.CommandAmf0, encodeAmf0('publish', 0, null)))).toBeUndefined();
    expect(tagFromRtmpMessage(msg(MessageType.SetChunkSize, new Uint8Array(4)))).toBeUndefined();
    expect(tagFromRtmpMessage(msg(MessageType.Aggregate, new Uint8Array(20)))).toBeUndefined();
  });
});
