/**
 * `http_requests_total{route,status,protocol}`, counted in one place for both ways a response
 * leaves (the raw fast path and Fastify's `onResponse`). Label children are kept, so a count is one
 * map lookup and an increment rather than a label resolution per request.
 */
import type { Socket } from 'node:net';
import type { Counter } from 'prom-client';
import type { HttpProtocol, HttpRouteClass } from '../metrics/metrics';

/** The protocol label of a request (node:http or the node:http2 compatibility API). */
export function requestProtocol(req: { readonly httpVersionMajor: number; readonly socket: Socket }): HttpProtocol {
  if (req.httpVersionMajor === 2) return 'h2';
  // Injected requests (app.inject) have a socket without `encrypted`: plain HTTP.
  return (req.socket as Socket & { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
}

export class RequestCounter {
  private readonly children = new Map<string, { inc(): void }>();

  constructor(private readonly counter: Counter<'route' | 'status' | 'protocol'>) {}

  count(route: HttpRouteClass, status: number, protocol: HttpProtocol): void {
    const key = `${route} ${status} ${protocol}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.counter.labels({ route, status: String(status), protocol });
      this.children.set(key, child);
    }
    child.inc();
  }
}
