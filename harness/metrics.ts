import { readdirSync, readlinkSync } from 'node:fs';

/**
 * Reads one sample from a Prometheus text page: `name{a="b"} value`. `metricsUrl` is the gateway's
 * metrics listener (`stack.metricsUrl`), not its public port.
 */
export async function metric(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(metricsUrl);
  if (res.status !== 200) throw new Error(`GET ${metricsUrl} answered ${res.status}`);
  const text = await res.text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!want.every((w) => line.includes(w))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? total : 0;
}

/** Open sockets of a process (Linux), read from /proc. */
export function openSockets(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}
