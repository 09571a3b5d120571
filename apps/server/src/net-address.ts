/**
 * What a peer's address is, as the limits count it. Node reports an IPv4 peer of a dual-stack
 * listener as IPv4-mapped IPv6 (`::ffff:a.b.c.d`); every per-address count sees the IPv4 address,
 * whatever the listener's family.
 */
import { isIPv4, isIPv6 } from 'node:net';

const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** `ip` with an IPv4-mapped prefix removed. */
export function unmappedAddress(ip: string): string {
  return IPV4_MAPPED.exec(ip)?.[1] ?? ip;
}

/**
 * The unit one client controls: an IPv4 address (IPv4-mapped IPv6 included), or the /64 prefix of
 * an IPv6 address. Anything else (no address: a test seam) is its own group.
 */
export function addressGroup(address: string): string {
  const ip = unmappedAddress(address);
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
