/**
 * Who may hold a connection slot, and how much peer-made memory all connections may hold together.
 *
 * A public port is first come, first served unless the server chooses whom to drop: the table
 * bounds connections per address and handshakes in progress, and when it is full it makes room by
 * closing the oldest connection that has not proved it is useful — one still in handshake or
 * connect first, then one connected but not publishing — never a publishing one. Memory the peers
 * make the server hold (partial messages, input queued behind a hook, unsent output) is summed over
 * all connections; past the budget the connection holding the most is closed.
 */
import { RtmpError, RtmpProtocolError } from '../errors';

/** What the table needs of a connection. */
export interface TableMember {
  readonly remoteAddress: string;
  /** Session state: 'handshake' | 'connect' | 'connected' | 'publishing' | 'closed'. */
  readonly phase: string;
  /** Bytes this connection makes the server hold now. */
  readonly heldBytes: number;
  destroy(reason: RtmpError): void;
}

/** Resolved admission limits of a server. */
export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxHandshakes: number;
  maxBufferedBytes: number;
}

/** Why a new connection was refused at accept. */
export type DropReason = 'max-connections' | 'max-connections-per-address';

/** Why the table closed a connection to make room. */
export type EvictReason = 'table-full' | 'too-many-handshakes' | 'memory-budget';

const isHandshaking = (phase: string) => phase === 'handshake' || phase === 'connect';

/** The open connections of one server, oldest first, with their addresses and held bytes. */
export class ConnectionTable<C extends TableMember> {
  /** Insertion order is age order: the first entry is the oldest connection. */
  private readonly members = new Map<C, number>();
  private readonly perAddress = new Map<string, number>();
  private heldTotal = 0;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly onEvict: (conn: C, reason: EvictReason) => void = () => {},
  ) {}

  get size(): number {
    return this.members.size;
  }

  /** Bytes held by all connections, as last reported. */
  get bufferedBytes(): number {
    return this.heldTotal;
  }

  /**
   * Decides on a new connection from `address` before it is created: null admits it (after
   * closing whatever had to make room), a reason refuses it.
   */
  admit(address: string): DropReason | null {
    const { maxConnections, maxConnectionsPerAddress, maxHandshakes } = this.limits;
    if ((this.perAddress.get(address) ?? 0) >= maxConnectionsPerAddress) return 'max-connections-per-address';
    if (this.members.size >= maxConnections) {
      const victim = this.oldest(isHandshaking) ?? this.oldest((p) => p === 'connected');
      if (victim === undefined) return 'max-connections';
      this.evict(victim, 'table-full', `${maxConnections} connections open (maxConnections)`);
    }
    if (this.countHandshaking() >= maxHandshakes) {
      const victim = this.oldest(isHandshaking);
      if (victim !== undefined) {
        this.evict(victim, 'too-many-handshakes', `${maxHandshakes} handshakes in progress (maxHandshakes)`);
      }
    }
    return null;
  }

  add(conn: C): void {
    this.members.set(conn, 0);
    this.perAddress.set(conn.remoteAddress, (this.perAddress.get(conn.remoteAddress) ?? 0) + 1);
  }

  /** Forgets a closed connection and what it held. Idempotent. */
  remove(conn: C): void {
    const held = this.members.get(conn);
    if (held === undefined) return;
    this.members.delete(conn);
    this.heldTotal -= held;
    const n = (this.perAddress.get(conn.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(conn.remoteAddress);
    else this.perAddress.set(conn.remoteAddress, n);
  }

  /** Records what `conn` holds now; past the budget, closes the largest holders until it fits. */
  updateHeld(conn: C): void {
    const before = this.members.get(conn);
    if (before === undefined) return;
    const now = conn.heldBytes;
    if (now === before) return;
    this.members.set(conn, now);
    this.heldTotal += now - before;
    const max = this.limits.maxBufferedBytes;
    while (this.heldTotal > max) {
      const victim = this.largest();
      if (victim === undefined) return;
      const [c, held] = victim;
      this.evictForMemory(c, held, max);
    }
  }

  private evictForMemory(conn: C, held: number, max: number): void {
    const total = this.heldTotal;
    // Forgotten first, so the loop above sees the budget freed even before the socket has closed.
    this.remove(conn);
    this.onEvict(conn, 'memory-budget');
    conn.destroy(
      new RtmpProtocolError(
        'ERR_RTMP_MEMORY_BUDGET',
        `connections hold ${total} bytes > maxBufferedBytes ${max}; this one held the most (${held})`,
      ),
    );
  }

  private evict(conn: C, reason: EvictReason, why: string): void {
    this.remove(conn);
    this.onEvict(conn, reason);
    conn.destroy(new RtmpError('ERR_RTMP_EVICTED', `closed to make room for a new connection: ${why}`));
  }

  private oldest(test: (phase: string) => boolean): C | undefined {
    for (const conn of this.members.keys()) if (test(conn.phase)) return conn;
    return undefined;
  }

  private largest(): [C, number] | undefined {
    let best: [C, number] | undefined;
    for (const entry of this.members) if (best === undefined || entry[1] > best[1]) best = entry;
    return best;
  }

  private countHandshaking(): number {
    let n = 0;
    for (const conn of this.members.keys()) if (isHandshaking(conn.phase)) n++;
    return n;
  }
}
