export { ChunkDecoder } from './chunk-decoder';
export { ChunkEncoder } from './chunk-encoder';
export { PayloadSlabPool } from './payload-pool';
