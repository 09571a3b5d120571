/**
 * Process bookkeeping from /proc (Linux): CPU ticks, parent links, RSS/PSS, process trees, and
 * starting/stopping child processes by process group.
 *
 * /proc/<pid>/stat after the last ')' (the comm may contain spaces and parentheses):
 *   [0] state  [1] ppid  [2] pgrp ... [11] utime  [12] stime ... [19] starttime   (all in clock ticks)
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime; 100 on every Linux build this runs on (`getconf CLK_TCK`). */
export const CLK_TCK = 100;

/** One process as /proc/<pid>/stat describes it, or null when it is gone. */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    ticks: Number(f[11]) + Number(f[12]),
    starttime: Number(f[19]),
  };
}

/** Every live process: Map pid → stat. */
export function allStats() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readStat(Number(name));
    if (st && st.state !== 'Z') out.set(st.pid, st);
  }
  return out;
}

/** The process `root` and all its descendants (walking PPid links), root first. */
export function processTree(root, stats = allStats()) {
  const children = new Map();
  for (const st of stats.values()) {
    const list = children.get(st.ppid);
    if (list) list.push(st);
    else children.set(st.ppid, [st]);
  }
  const rootStat = stats.get(root);
  if (!rootStat) return [];
  const out = [rootStat];
  for (let i = 0; i < out.length; i++) {
    for (const child of children.get(out[i].pid) ?? []) out.push(child);
  }
  return out;
}

/** RSS and PSS of one process in KiB from /proc/<pid>/smaps_rollup, or null when it is gone. */
export function readMemory(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  } catch {
    return null;
  }
  const rss = /^Rss:\s+(\d+) kB/m.exec(text);
  const pss = /^Pss:\s+(\d+) kB/m.exec(text);
  if (!rss || !pss) return null;
  return { rssKiB: Number(rss[1]), pssKiB: Number(pss[1]) };
}

/**
 * Starts `command args` in its own process group (so it and whatever it starts can be signalled
 * together), stdout+stderr appended to `logFile` (or ignored).
 */
export function startProcess(command, args, { cwd, env, logFile } = {}) {
  const fd = logFile ? openSync(logFile, 'a') : null;
  const child = spawn(command, args, {
    cwd,
    env: env ?? process.env,
    detached: true,
    stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
  });
  if (fd !== null) closeSync(fd);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  return { child, pid: child.pid, exited, command, args, exit: null, known: new Map() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Sends `signal` to one pid if it is still the process we saw (same start time). */
function signalKnown(st, signal) {
  const now = readStat(st.pid);
  if (!now || now.starttime !== st.starttime || now.state === 'Z') return false;
  try {
    process.kill(st.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remembers the current descendants of a started process, so that any the process leaves behind
 * (a child in its own process group) can still be stopped by pid after it exits.
 */
export function rememberTree(proc) {
  for (const st of processTree(proc.pid)) proc.known.set(st.pid, st);
}

/**
 * Stops a started process: `signal` to its process group, wait up to `graceMs`, then SIGKILL the
 * group; finally any remembered descendant still alive (it had its own group) is stopped by pid.
 * Resolves with the exit status once the process has been reaped.
 */
export async function stopProcess(proc, { signal = 'SIGTERM', graceMs = 5000 } = {}) {
  if (proc.pid === undefined) return { code: null, signal: null };
  rememberTree(proc);
  signalGroup(proc.pid, signal);
  let timer;
  const timedOut = await Promise.race([
    proc.exited.then(() => false),
    new Promise((r) => {
      timer = setTimeout(() => r(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    signalGroup(proc.pid, 'SIGKILL');
  }
  const status = await proc.exited;
  // The group may still hold processes the leader started (e.g. nginx workers): give them a moment.
  await sleep(100);
  signalGroup(proc.pid, 'SIGKILL');
  for (const st of proc.known.values()) {
    if (st.pid === proc.pid) continue;
    if (signalKnown(st, 'SIGTERM')) {
      await sleep(500);
      signalKnown(st, 'SIGKILL');
    }
  }
  proc.exit = status;
  return status;
}
