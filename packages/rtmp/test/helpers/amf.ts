/** AMF value helpers shared by the AMF tests. */
import type { AmfObject, AmfValue } from '../../src/amf';

/** Null-prototype object literal, as the decoder returns. */
export const obj = (props: Record<string, AmfValue>): AmfObject =>
  Object.assign(Object.create(null) as AmfObject, props);
