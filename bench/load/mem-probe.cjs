// Preloaded into the server by ingest-profile.mjs (`node -r ./mem-probe.cjs`): every second appends
// process.memoryUsage() to $MEM_PROBE_FILE, and, when the process runs with --expose-gc and
// $MEM_PROBE_GC is set, the same figures right after a full GC (what is really retained).
const { appendFileSync } = require('node:fs');
const file = process.env.MEM_PROBE_FILE;
if (file) {
  const t = setInterval(() => {
    const before = process.memoryUsage();
    let after;
    if (process.env.MEM_PROBE_GC && typeof global.gc === 'function') {
      global.gc();
      after = process.memoryUsage();
    }
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), before, after })}\n`);
  }, 1000);
  t.unref();
}
