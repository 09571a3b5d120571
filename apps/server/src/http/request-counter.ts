/**
 * `http_requests_total{route,status}`, counted in one place for both ways a response leaves (the
 * raw fast path and Fastify's `onResponse`). Label children are kept, so a count is one map lookup
 * and an increment rather than a label resolution per request.
 */
import type { Counter } from 'prom-client';
import type { HttpRouteClass } from '../metrics/metrics';

export class RequestCounter {
  private readonly children = new Map<string, { inc(): void }>();

  constructor(private readonly counter: Counter<'route' | 'status'>) {}

  count(route: HttpRouteClass, status: number): void {
    const key = `${route} ${status}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.counter.labels({ route, status: String(status) });
      this.children.set(key, child);
    }
    child.inc();
  }
}
