export { Amf0Marker, decodeAmf0 } from './amf0-decode';
export { encodeAmf0 } from './amf0-encode';
export { decodeCommand, decodeData, encodeCommand, encodeData, type RtmpCommand } from './command';
export {
  AMF_CLASS_NAME,
  AmfEcmaArray,
  type AmfObject,
  type AmfValue,
  amfClassName,
  amfTypedObject,
  isAmfObject,
} from './types';
