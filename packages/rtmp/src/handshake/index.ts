export { ClientHandshake, type ClientHandshakeOptions } from './client-handshake';
export {
  blockDigest,
  type DigestScheme,
  digestOffset,
  FMS_KEY_TEXT_LENGTH,
  FP_KEY_TEXT_LENGTH,
  findDigest,
  GENUINE_FMS_KEY,
  GENUINE_FP_KEY,
  hmacSha256,
  makeDigestHandshakeBlock,
  makeS2Digest,
  verifyS2Digest,
} from './digest';
export { type HandshakeOptions, type HandshakeStep, ServerHandshake } from './server-handshake';
