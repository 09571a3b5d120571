/**
 * Groups the ArrayBuffer backing stores of a V8 heap snapshot by what retains them (a short chain
 * of retainer names), largest total first: `node bench/load/snapshot-buffers.mjs FILE.heapsnapshot`.
 */
import { readFileSync } from 'node:fs';

const snap = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const m = snap.snapshot.meta;
const nf = m.node_fields;
const ef = m.edge_fields;
const N = nf.length;
const E = ef.length;
const nodeTypes = m.node_types[0];
const edgeTypes = m.edge_types[0];
const iType = nf.indexOf('type');
const iName = nf.indexOf('name');
const iSize = nf.indexOf('self_size');
const iEdges = nf.indexOf('edge_count');
const eType = ef.indexOf('type');
const eName = ef.indexOf('name_or_index');
const eTo = ef.indexOf('to_node');
const { nodes, edges, strings } = snap;
const count = nodes.length / N;
const retainers = Array.from({ length: count }, () => []);
let e = 0;
for (let n = 0; n < count; n++) {
  const ec = nodes[n * N + iEdges];
  for (let k = 0; k < ec; k++, e += E) {
    const to = edges[e + eTo] / N;
    const t = edgeTypes[edges[e + eType]];
    if (t === 'weak') continue;
    const nm = t === 'element' || t === 'hidden' ? edges[e + eName] : strings[edges[e + eName]];
    retainers[to].push([n, `${t}:${nm}`]);
  }
}
const name = (n) => `${nodeTypes[nodes[n * N + iType]]}/${strings[nodes[n * N + iName]]}`.slice(0, 60);
const groups = new Map();
for (let n = 0; n < count; n++) {
  const size = nodes[n * N + iSize];
  if (size < 1024 || !strings[nodes[n * N + iName]].includes('ArrayBufferData')) continue;
  // Chain: follow the first non-trivial retainer up to 7 levels.
  const chain = [];
  let cur = n;
  const seen = new Set();
  for (let d = 0; d < 7; d++) {
    const rs = retainers[cur].filter(([r]) => !seen.has(r));
    if (rs.length === 0) break;
    const [r, edge] = rs[0];
    seen.add(r);
    chain.push(`${edge} <- ${name(r)}${rs.length > 1 ? ` (+${rs.length - 1})` : ''}`);
    cur = r;
  }
  const key = chain.join(' | ');
  const g = groups.get(key) ?? { bytes: 0, count: 0 };
  g.bytes += size;
  g.count++;
  groups.set(key, g);
}
const sorted = [...groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
let total = 0;
for (const [, g] of sorted) total += g.bytes;
console.log(`backing stores ≥ 1 KiB: ${(total / 1048576).toFixed(1)} MiB`);
for (const [k, g] of sorted.slice(0, 15))
  console.log(`${(g.bytes / 1048576).toFixed(2)} MiB  ${g.count}×\n   ${k.split(' | ').join('\n   ')}`);
