// `node bench/hostile-documents.ts [--timeout 90] [--only name,name]`: what each hostile document
// of issue 12 costs a gateway with every policy on. Per case a fresh gateway process gets the
// document and, 100 ms later, a normal request; the table reports the hostile answer and its time,
// the normal request's latency, the gateway's peak RSS and the analysis work it logged.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Lexer, Source, TokenKind } from 'graphql';
import { gql } from '../harness/http.ts';
import { introspectionChain, nestedChain, rootChain, schemaChain } from '../harness/hostile-documents.ts';
import { AUDIENCE, ISSUER, JwksServer, makeKey } from '../harness/jwks.ts';
import { startStack } from '../harness/stack.ts';

const { values: opts } = parseArgs({
  options: {
    timeout: { type: 'string', default: '90' },
    only: { type: 'string' },
    mode: { type: 'string', default: 'filter' },
  },
});
const timeoutMs = Number(opts.timeout) * 1000;

const cases: Array<[string, string]> = [
  ['issue 12: 2^20 chain, email at the end', nestedChain(20)],
  ['2^16 chain in users', nestedChain(16)],
  ['2^16 chain in users, aliases', nestedChain(16, 2, true)],
  ['2^20 chain in users, aliases', nestedChain(20, 2, true)],
  ['2^16 chain at the root, me at the end', rootChain(16)],
  ['2^20 chain at the root, aliases', rootChain(20, 2, true)],
  ['3^13 chain in users', nestedChain(13, 3)],
  ['2^16 introspection chain at the root', introspectionChain(16)],
  ['2^16 chain inside __schema', schemaChain(16)],
  ['2^10 chain in users (under the limits)', nestedChain(10)],
];
const only = opts.only?.split(',');

const jwks = new JwksServer();
jwks.keys = [await makeKey('bench')];
await jwks.start();
const stack = await startStack({ noGateway: true });
const normal = '{ topProducts(first: 2) { name } }';
const rows: string[] = [];
try {
  for (const [name, query] of cases) {
    if (only && !only.some((o) => name.includes(o))) continue;
    const g = await stack.startGateway({
      policies: {
        auth: { issuers: [{ issuer: ISSUER, jwksUrl: jwks.url, audiences: [AUDIENCE] }] },
        authorization: { mode: opts.mode },
        operationLimits: {},
        cost: {},
        rateLimit: { costPerWindow: 1_000_000_000, identifyBy: ['ip'] },
      },
      log: { level: 'debug' },
    });
    const pid = g.proc.child.pid!;
    const t0 = performance.now();
    const hostile = Promise.race([
      gql(g.url, { query }).then(
        (r) => ({
          status: String(r.status),
          code: String(r.body?.errors?.[0]?.extensions?.code ?? (r.body?.data ? 'data' : '?')),
          ms: performance.now() - t0,
          id: r.headers.get('x-request-id'),
        }),
        (err: Error) => ({
          status: 'failed',
          code: String((err.cause as { code?: string } | undefined)?.code ?? err.message),
          ms: performance.now() - t0,
          id: null,
        }),
      ),
      new Promise<{ status: string; code: string; ms: number; id: string | null }>((r) =>
        setTimeout(() => r({ status: 'timeout', code: '-', ms: timeoutMs, id: null }), timeoutMs),
      ),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    const t1 = performance.now();
    const normalDone = gql(g.url, { query: normal }).then(
      (r) => ({ ok: r.status === 200, ms: performance.now() - t1 }),
      () => ({ ok: false, ms: performance.now() - t1 }),
    );
    const n = await Promise.race([
      normalDone,
      hostile.then(() => normalDone),
      new Promise<{ ok: boolean; ms: number }>((r) => setTimeout(() => r({ ok: false, ms: timeoutMs }), timeoutMs)),
    ]);
    const h = await hostile;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    await new Promise((r) => setTimeout(r, 100)); // the log line is written as the response goes out
    const nodes = String(
      g.proc.logs().find((l) => l['msg'] === 'operation analysed' && l['requestId'] === h.id)?.['nodesVisited'] ??
        'n/a',
    );
    const lexer = new Lexer(new Source(query));
    let tokens = 0;
    while (lexer.advance().kind !== TokenKind.EOF) tokens++;
    rows.push(
      `| ${name} | ${tokens} | ${h.status} ${h.code} | ${h.ms.toFixed(0)} | ${n.ok ? 'ok' : 'no answer'} ${n.ms.toFixed(0)} | ${Math.round(Number(hwm) / 1024)} | ${nodes} |`,
    );
    console.log(rows.at(-1));
    await g.proc.kill();
  }
} finally {
  await stack[Symbol.asyncDispose]();
  await jwks.stop();
}
console.log(
  `\n| document | tokens | answer | ms | normal request sent 100 ms later (ms) | gateway peak RSS (MiB) | nodes visited |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}`,
);
