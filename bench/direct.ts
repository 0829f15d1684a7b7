// The ceiling: a minimal HTTP server that, for each request, replays the exact subgraph requests
// a gateway makes for the benchmark query (captured beforehand), one hop after another, and
// answers the known result. No parsing, planning or merging: what is left is the subgraphs' work
// plus one Node HTTP hop.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';

interface Captured {
  url: string;
  body: string;
}
const plan = JSON.parse(readFileSync(process.env['DIRECT_PLAN']!, 'utf8')) as { hops: Captured[][]; response: string };
const pools = new Map<string, Pool>();
const pool = (url: string) => {
  const origin = new URL(url).origin;
  let p = pools.get(origin);
  if (!p) pools.set(origin, (p = new Pool(origin, { connections: 128 })));
  return p;
};

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  for await (const _ of req);
  for (const hop of plan.hops) {
    await Promise.all(
      hop.map(async (r) => {
        const u = new URL(r.url);
        const out = await pool(r.url).request({
          path: u.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: r.body,
        });
        await out.body.text();
      }),
    );
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(plan.response) });
  res.end(plan.response);
}
// A failed hop answers 502 instead of an unhandled rejection that would end this baseline mid-run.
const server = createServer((req, res) => {
  answer(req, res).catch(() => res.writeHead(502).end());
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env['PORT']), '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${process.env['PORT']}/graphql` })}\n`,
  );
});
