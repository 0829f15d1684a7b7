import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory now and its peak so far (Linux `/proc/<pid>/status`), in bytes. */
export function memory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Open file descriptors of a process (Linux). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Samples VmRSS every `everyMs` until stopped; returns the highest sample. */
export function sampleRss(pid: number, everyMs = 25): { stop(): number } {
  let max = memory(pid).rss;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, memory(pid).rss);
    } catch {
      // the process exited; the last samples stand
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}
