export * from './amf';
export * from './chunk';
export * from './constants';
export * from './errors';
export * from './handshake';
export * from './options';
export * from './protocol';
export * from './session';
