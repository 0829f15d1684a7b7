import type { SubgraphSettings } from '../../config/resolve-subgraphs.ts';
import {
  compose,
  type ClientScope,
  type FetchLayer,
  type SubgraphAnswer,
  type SubgraphFetch,
  type SubgraphRequest,
} from '../fetch.ts';
import { transport } from '../transport.ts';
import { Mirror } from './mirror.ts';
import { OutlierState, type EjectionReason } from './outlier.ts';
import { callerKey, onCanary, SIDE_HEADER, stickyBucket } from './sticky.ts';

type Role = 'stable' | 'canary';

interface Member {
  readonly label: string;
  readonly role: Role;
  readonly fetch: SubgraphFetch;
  readonly outlier: OutlierState;
  outstanding: number;
  ejected: boolean;
}

/** Whether a subgraph's settings need the instance router (else the single transport serves, as before). */
export function routed(settings: SubgraphSettings): boolean {
  return settings.instances.length > 1 || settings.canary !== undefined || settings.mirror !== undefined;
}

/** Metric and log label of each instance: its host, or host + path when hosts repeat (bounded: configured instances only). */
export function instanceLabels(urls: readonly string[]): string[] {
  const hosts = urls.map((u) => new URL(u).host);
  return urls.map((u, i) =>
    hosts.indexOf(hosts[i]!) === hosts.lastIndexOf(hosts[i]!) ? hosts[i]! : `${hosts[i]}${new URL(u).pathname}`,
  );
}

/** Instances that served each attempt of a fetch, in order (for the tracing layer and logs). */
const served = new WeakMap<SubgraphRequest, string[]>();
export function instancesOf(request: SubgraphRequest): readonly string[] {
  return served.get(request) ?? [];
}

/**
 * The bottom of a client with several instances, a canary or a mirror: it picks an instance per
 * attempt and runs that instance's own stack (`perInstance`: the breaker, the deadline, its own
 * transport and pool), so every layer above (retry, dedupe, answer check, plugins) works as with
 * one URL, and each instance has its own breaker.
 *
 * - An attempt goes to the canary when the caller's side (sticky, from the canary-side layer) or
 *   a draw at `weight` says so, else to a stable instance by `balance`; ejected instances and
 *   those this fetch already tried are skipped while others are left, so a retry goes elsewhere.
 * - An instance whose circuit is open sends nothing: the next one is tried within the same
 *   attempt, so an open canary's share goes back to the stable instances.
 * - Each attempt's outcome feeds that instance's outlier state; ejection is capped at
 *   `maxEjectedPercent` of the stable instances (one may always go while another serves).
 * - A successful query is then copied to the mirror, which returns at once.
 */
export function instanceRouter(scope: ClientScope, perInstance: readonly FetchLayer[]): SubgraphFetch {
  const { settings, metrics, log } = scope;
  const subgraph = settings.name;
  const m = metrics.traffic;
  const make = (url: string, label: string, role: Role): Member => {
    const instanceScope: ClientScope = { ...scope, settings: { ...settings, url }, instance: label };
    metrics.traffic.instanceEjected.set({ subgraph, instance: label, role }, 0);
    return {
      label,
      role,
      fetch: compose(perInstance, transport(instanceScope), instanceScope),
      outlier: new OutlierState(settings.outlierDetection),
      outstanding: 0,
      ejected: false,
    };
  };
  const stableLabels = instanceLabels(settings.instances);
  const stable = settings.instances.map((url, i) => make(url, stableLabels[i]!, 'stable'));
  const canaryCfg = settings.canary;
  const canary = canaryCfg ? make(canaryCfg.url, instanceLabels([canaryCfg.url])[0]!, 'canary') : null;
  const mirror = settings.mirror && settings.mirror.ratio > 0 ? new Mirror(settings.mirror, scope) : null;
  const diverted = m.canaryDiverted.labels({ subgraph });
  let rr = 0;

  const ejectedNow = (member: Member, now: number): boolean => {
    if (!member.ejected) return false;
    if (member.outlier.isEjected(now)) return true;
    member.ejected = false;
    m.instanceEjected.set({ subgraph, instance: member.label, role: member.role }, 0);
    log.info({ subgraph, instance: member.label, role: member.role }, 'subgraph instance readmitted');
    return false;
  };

  const balance = (candidates: Member[]): Member => {
    if (candidates.length === 1) return candidates[0]!;
    switch (settings.balance) {
      case 'round-robin':
        return candidates[rr++ % candidates.length]!;
      case 'power-of-two': {
        const a = Math.floor(Math.random() * candidates.length);
        let b = Math.floor(Math.random() * (candidates.length - 1));
        if (b >= a) b++;
        const x = candidates[a]!;
        const y = candidates[b]!;
        return y.outstanding < x.outstanding ? y : x;
      }
      default: {
        // Least outstanding; ties at random, so an idle gateway still spreads its load.
        let best: Member[] = [];
        let min = Infinity;
        for (const c of candidates) {
          if (c.outstanding < min) {
            min = c.outstanding;
            best = [c];
          } else if (c.outstanding === min) best.push(c);
        }
        return best.length === 1 ? best[0]! : best[Math.floor(Math.random() * best.length)]!;
      }
    }
  };

  const wantsCanary = (request: SubgraphRequest): boolean => {
    if (!canaryCfg) return false;
    const side = request.headers[SIDE_HEADER];
    if (side === 'canary') return true;
    if (side === 'stable') return false;
    return onCanary(canaryCfg.weight, null);
  };

  /** The next member for this attempt, or null when every one was tried. */
  const pick = (skip: Set<Member>, now: number, toCanary: boolean): Member | null => {
    if (canary && toCanary && !skip.has(canary)) {
      if (!ejectedNow(canary, now)) return canary;
      diverted.inc();
    }
    const open = stable.filter((s) => !skip.has(s));
    const healthy = open.filter((s) => !ejectedNow(s, now));
    if (healthy.length) return balance(healthy);
    if (open.length) return balance(open);
    // Every stable instance tried: a canary this caller was not meant for is still better than failing.
    if (canary && !skip.has(canary) && !ejectedNow(canary, now)) return canary;
    return null;
  };

  const eject = (member: Member, reason: EjectionReason, now: number): void => {
    if (member.role === 'stable') {
      if (stable.length < 2) return;
      const out = stable.filter((s) => s.ejected).length;
      if (out > 0 && ((out + 1) * 100) / stable.length > settings.outlierDetection.maxEjectedPercent) return;
      if (out + 1 >= stable.length) return;
    }
    const ms = member.outlier.eject(now);
    member.ejected = true;
    m.instanceEjected.set({ subgraph, instance: member.label, role: member.role }, 1);
    m.instanceEjections.inc({ subgraph, instance: member.label, role: member.role, reason });
    log.warn(
      { subgraph, instance: member.label, role: member.role, reason, ejectionMs: ms },
      'subgraph instance ejected',
    );
  };

  const attempt = async (member: Member, request: SubgraphRequest): Promise<SubgraphAnswer> => {
    const started = performance.now();
    member.outstanding++;
    let answer: SubgraphAnswer;
    try {
      answer = await member.fetch(request);
    } finally {
      member.outstanding--;
    }
    const now = performance.now();
    const outcome = answer.ok ? 'success' : answer.failure.code;
    m.instanceAttempts.observe(
      { subgraph, instance: member.label, role: member.role, outcome },
      (now - started) / 1000,
    );
    if (answer.ok) member.outlier.success(now);
    else if (countsAgainst(answer)) {
      const reason = member.outlier.failure(now);
      if (reason && !member.ejected) eject(member, reason, now);
    }
    return answer;
  };

  // Members each fetch has tried (the retry layer passes the same request object to every attempt).
  const triedBy = new WeakMap<SubgraphRequest, Member[]>();

  return async (request) => {
    let tried = triedBy.get(request);
    if (!tried) {
      triedBy.set(request, (tried = []));
      served.set(request, []);
    }
    const earlier = new Set(tried);
    const toCanary = canary !== null && !earlier.has(canary) && wantsCanary(request);
    const now = performance.now();
    const thisAttempt = new Set<Member>();
    let answer: SubgraphAnswer | null = null;
    for (;;) {
      const member = pick(new Set([...earlier, ...thisAttempt]), now, toCanary) ?? pick(thisAttempt, now, toCanary);
      if (!member) break;
      thisAttempt.add(member);
      tried.push(member);
      served.get(request)?.push(member.label);
      answer = await attempt(member, request);
      if (answer.ok || answer.failure.code !== 'SUBGRAPH_CIRCUIT_OPEN') break;
      if (member === canary) diverted.inc();
    }
    // Every instance was tried: an empty pool cannot happen (`instances` has one or more).
    if (answer === null) throw new Error(`no instance of subgraph ${subgraph}`);
    if (answer.ok && mirror && request.operationType === 'query') mirror.copy(request, answer);
    return answer;
  };
}

/**
 * What ejects an instance: it did not answer, timed out or failed with 5xx. Not an open circuit
 * (nothing was sent), not an answer over the size cap (about the query, not the instance), not
 * a 429 (the instance shedding load is working as meant).
 */
function countsAgainst(answer: SubgraphAnswer): boolean {
  if (answer.ok) return false;
  const code = answer.failure.code;
  if (code === 'SUBGRAPH_CIRCUIT_OPEN' || code === 'SUBGRAPH_RESPONSE_TOO_LARGE') return false;
  return answer.retry?.reason !== 'HTTP_429';
}

/**
 * Sets the sticky canary side (`x-tessera-canary: canary|stable`) on the request before dedupe,
 * so callers on different sides never share one request, and the router reads it per attempt.
 * The side is the gateway's alone: a client's own `x-tessera-canary` (propagated by a broad
 * header rule) is removed, so no caller picks its side. A caller without the header or claim
 * `stickyBy` names (or any caller when it is `none`) gets no side and draws per attempt.
 */
export const canarySide: FetchLayer = (next, { settings }) => {
  const canary = settings.canary;
  if (!canary) return next;
  const by = canary.stickyBy;
  return (request) => {
    delete request.headers[SIDE_HEADER];
    const key = callerKey(by, request);
    if (key !== null)
      request.headers[SIDE_HEADER] = onCanary(canary.weight, stickyBucket(settings.name, key)) ? 'canary' : 'stable';
    return next(request);
  };
};
