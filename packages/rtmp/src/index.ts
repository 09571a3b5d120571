export * from './amf';
/** Concatenates byte arrays into one new array (one allocation, one copy per piece). */
export { concatBytes } from './bytes';
export * from './chunk';
export * from './client';
export * from './constants';
export * from './errors';
export * from './handshake';
export * from './net';
export * from './options';
export * from './protocol';
export * from './session';
