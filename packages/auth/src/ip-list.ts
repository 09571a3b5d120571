/**
 * IP allow/deny lists with CIDR ranges, IPv4 and IPv6.
 *
 * Every address is held as a 128-bit integer; IPv4 `a.b.c.d` is stored as the IPv4-mapped IPv6
 * address `::ffff:a.b.c.d` and an IPv4 `/n` as `/(96+n)`. So `10.0.0.0/8` matches a client seen
 * as `::ffff:10.1.2.3` (a dual-stack socket) and `::ffff:0:0/96` matches every IPv4 client.
 * Deny wins over allow; with a non-empty allow list, addresses outside it are refused.
 */
import { AuthConfigError } from './errors';
import { quote } from './escape';

const IPV4_MAPPED_PREFIX = 0xffff_0000_0000n;
const ALL_ONES_128 = (1n << 128n) - 1n;
/** Most entries per list: each publish walks the lists linearly. */
export const MAX_IP_RULES = 4096;

/** Parses a dotted-quad IPv4 address (no leading zeros: `010.0.0.1` is ambiguous) into 32 bits. */
function parseIPv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** Parses an IPv6 address (with `::` compression and an optional dotted IPv4 tail) into 128 bits. */
function parseIPv6(s: string): bigint | undefined {
  if (s.length > 45) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): bigint[] | undefined => {
    if (part === '') return [];
    const out: bigint[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIPv4(piece);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        out.push(BigInt(Number.parseInt(piece, 16)));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  // A dotted IPv4 tail is only valid at the very end of the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head, ...new Array<bigint>(8 - count).fill(0n), ...tail];
  let value = 0n;
  for (const g of all) value = (value << 16n) | g;
  return value;
}

/**
 * Parses an IPv4 or IPv6 address into 128 bits, IPv4 as IPv4-mapped IPv6.
 * @param allowZone accept and drop an IPv6 zone id (`fe80::1%eth0`), as sockets report link-local peers.
 */
export function parseIpAddress(s: string, allowZone = false): bigint | undefined {
  if (typeof s !== 'string' || s.length === 0 || s.length > 64) return undefined;
  let text = s;
  const zone = text.indexOf('%');
  if (zone >= 0) {
    if (!allowZone || !/^[A-Za-z0-9_.-]{1,32}$/.test(text.slice(zone + 1))) return undefined;
    text = text.slice(0, zone);
  }
  if (text.includes(':')) return parseIPv6(text);
  const v4 = parseIPv4(text);
  return v4 === undefined ? undefined : IPV4_MAPPED_PREFIX | v4;
}

/** One CIDR range over the 128-bit space. */
export interface CidrRange {
  readonly source: string;
  readonly base: bigint;
  readonly prefixLength: number;
}

/**
 * Parses `addr`, `addr/len` (IPv4 /0..32, IPv6 /0..128). Host bits must be zero (`10.0.0.1/8` is
 * refused as a likely typo for `10.0.0.0/8` or `10.0.0.1/32`).
 * @throws AuthConfigError `ERR_AUTH_CONFIG_CIDR`
 */
export function parseCidr(source: string, where = 'CIDR'): CidrRange {
  const fail = (why: string): never => {
    throw new AuthConfigError('ERR_AUTH_CONFIG_CIDR', `${where} ${quote(String(source), 64)}: ${why}`);
  };
  if (typeof source !== 'string') return fail('not a string');
  const slash = source.indexOf('/');
  const addrText = slash < 0 ? source : source.slice(0, slash);
  const isV6 = addrText.includes(':');
  const base = parseIpAddress(addrText);
  if (base === undefined) return fail('not an IPv4 or IPv6 address');
  const maxLen = isV6 ? 128 : 32;
  let len = maxLen;
  if (slash >= 0) {
    const lenText = source.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(lenText) || Number(lenText) > maxLen) {
      fail(`prefix length must be 0..${maxLen}`);
    }
    len = Number(lenText);
  }
  const prefixLength = isV6 ? len : 96 + len;
  const hostMask = ALL_ONES_128 >> BigInt(prefixLength);
  if ((base & hostMask) !== 0n) fail('host bits are set after the prefix');
  return { source, base, prefixLength };
}

function inRange(addr: bigint, range: CidrRange): boolean {
  const shift = BigInt(128 - range.prefixLength);
  return addr >> shift === range.base >> shift;
}

/** Allow/deny configuration. */
export interface IpListConfig {
  /** When non-empty, only these addresses/ranges may publish. */
  allow?: readonly string[];
  /** These addresses/ranges may never publish (wins over `allow`). */
  deny?: readonly string[];
}

/** Compiled IP lists. */
export interface IpRules {
  /** undefined when allowed, else a reason (the address is quoted). */
  check(clientAddress: string | undefined): string | undefined;
}

function parseList(list: unknown, where: string): CidrRange[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', `${where} must be an array of CIDRs`);
  if (list.length > MAX_IP_RULES) {
    throw new AuthConfigError('ERR_AUTH_CONFIG_INVALID', `${where} has more than ${MAX_IP_RULES} entries`);
  }
  return list.map((entry, i) => parseCidr(entry, `${where}[${i}]`));
}

/** Validates the lists (throws `AuthConfigError` `ERR_AUTH_CONFIG_CIDR`) and returns the checker. */
export function compileIpRules(config: IpListConfig, where = 'ip'): IpRules {
  const allow = parseList(config.allow, `${where}.allow`);
  const deny = parseList(config.deny, `${where}.deny`);
  return {
    check(clientAddress) {
      const addr = clientAddress === undefined ? undefined : parseIpAddress(clientAddress, true);
      if (addr === undefined) return 'the client address is unknown';
      if (deny.some((r) => inRange(addr, r))) return `client address ${quote(clientAddress!)} is denied`;
      if (allow.length > 0 && !allow.some((r) => inRange(addr, r))) {
        return `client address ${quote(clientAddress!)} is not allowed`;
      }
      return undefined;
    },
  };
}
