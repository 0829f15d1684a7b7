import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch } from 'undici';
import { users as allUsers } from '../../subgraphs/shared/dataset.ts';
import { gql } from '../../harness/http.ts';
import { generatePki, type TestPki } from '../../harness/certs.ts';
import { runCli } from '../../harness/process.ts';
import { startStack, type Stack } from '../../harness/stack.ts';

const query = { query: '{ users(first: 2) { id name } topProducts(first: 1) { upc } }' };
const users = allUsers()
  .slice(0, 2)
  .map((u) => ({ id: u.id, name: u.name }));

describe('mTLS to a subgraph that requires client certificates', () => {
  let pki: TestPki;
  let stack: Stack;
  before(async () => {
    pki = generatePki();
    stack = await startStack({
      noGateway: true,
      subgraphArgs: { accounts: ['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--tls-ca', pki.ca] },
    });
  });
  after(async () => {
    await stack?.[Symbol.asyncDispose]();
  });

  it('the subgraph really is HTTPS and really demands a client certificate', async () => {
    assert.match(stack.subgraphs.accounts.url, /^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const anonymous = new Agent({ connect: { ca: readFileSync(pki.ca, 'utf8') } });
    await assert.rejects(
      undiciFetch(stack.subgraphs.accounts.url.replace('/graphql', '/health'), { dispatcher: anonymous }),
    );
  });

  it('works with the right client certificate (files in config)', async () => {
    const gw = await stack.startGateway({
      subgraphs: { accounts: { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } } },
    });
    const res = await gql(gw.url, query);
    assert.deepEqual(res.body, { data: { users, topProducts: [{ upc: '1' }] } });
  });

  it('works with PEM strings inline in config', async () => {
    const pem = (f: string) => readFileSync(f, 'utf8');
    const gw = await stack.startGateway({
      subgraphs: { accounts: { tls: { ca: pem(pki.ca), cert: pem(pki.clientCert), key: pem(pki.clientKey) } } },
    });
    assert.deepEqual((await gql(gw.url, query)).body, { data: { users, topProducts: [{ upc: '1' }] } });
  });

  for (const [name, tls] of [
    ['without a client certificate', (p: TestPki) => ({ ca: p.ca })],
    ['with a client certificate from another CA', (p: TestPki) => ({ ca: p.ca, cert: p.rogueCert, key: p.rogueKey })],
    ['without trusting the server CA', (p: TestPki) => ({ cert: p.clientCert, key: p.clientKey })],
  ] as const) {
    it(`is refused ${name}: SUBGRAPH_UNAVAILABLE for its fields, the TLS cause in the log`, async () => {
      const gw = await stack.startGateway({ subgraphs: { accounts: { tls: tls(pki), retry: { maxAttempts: 1 } } } });
      const res = await gql(gw.url, query);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, {
        data: null,
        errors: [
          {
            message: 'Subgraph "accounts" is unavailable',
            path: ['users'],
            extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'accounts' },
          },
        ],
      });
      const line = await gw.proc.waitForLog('subgraph request failed');
      assert.equal(line['subgraph'], 'accounts');
      assert.match(String(line['cause']), /certificate|alert|ECONNRESET|UND_ERR_SOCKET|SELF_SIGNED|UNABLE_TO_VERIFY/i);
      // The other subgraphs still serve.
      assert.deepEqual((await gql(gw.url, { query: '{ topProducts(first: 1) { upc } }' })).body, {
        data: { topProducts: [{ upc: '1' }] },
      });
    });
  }

  it('a bad certificate path fails start-up naming the key', async () => {
    writeFileSync(
      `${stack.dir}/bad.yaml`,
      `supergraph: { file: ${stack.supergraphFile} }\nsubgraphs:\n  accounts:\n    tls: { cert: ${pki.dir}/nope.crt, key: ${pki.clientKey} }\n`,
    );
    await using bad = runCli(['gateway', '--config', `${stack.dir}/bad.yaml`]);
    assert.equal(await bad.exited, 78);
    assert.equal(
      bad.stderr.join(''),
      `CONFIG_INVALID: ${stack.dir}/bad.yaml has 1 problem\n  subgraphs.accounts.tls.cert: cannot read ${pki.dir}/nope.crt (ENOENT)\n`,
    );
  });

  it('serves the gateway itself over TLS, optionally requiring client certificates', async () => {
    const gw = await stack.startGateway({
      server: { tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestClientCert: true } },
      subgraphs: { accounts: { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } } },
    });
    assert.match(gw.url, /^https:/);
    const pem = (f: string) => readFileSync(f, 'utf8');
    const withCert = new Agent({ connect: { ca: pem(pki.ca), cert: pem(pki.clientCert), key: pem(pki.clientKey) } });
    const res = await undiciFetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(query),
      dispatcher: withCert,
    });
    assert.deepEqual(await res.json(), { data: { users, topProducts: [{ upc: '1' }] } });
    const noCert = new Agent({ connect: { ca: pem(pki.ca) } });
    await assert.rejects(
      undiciFetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(query),
        dispatcher: noCert,
      }),
    );
  });
});
