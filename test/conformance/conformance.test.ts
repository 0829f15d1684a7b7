import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  differences,
  engines,
  runCheck,
  startCaseGateway,
  startCaseSubgraphs,
  type CaseGateway,
  type CaseSubgraphs,
} from '../../harness/conformance.ts';
import { cases } from './cases.ts';

// Cases share nothing (their own subgraph process and gateways), so they run side by side; the checks of one case
// run in order, because each reads what the case's subgraphs received since the previous one.
describe('federation conformance', { concurrency: 3 }, () => {
  for (const c of cases) {
    // CONFORMANCE_CASES=id,id runs only those cases (a local loop; CI runs them all).
    const only = process.env['CONFORMANCE_CASES']?.split(',');
    if (only && !only.includes(c.id)) continue;
    describe(`${c.id}: ${c.title}`, { concurrency: 1 }, () => {
      let subgraphs: CaseSubgraphs;
      before(async () => {
        subgraphs = await startCaseSubgraphs(c);
      });
      after(async () => {
        await subgraphs?.[Symbol.asyncDispose]();
      });
      for (const engine of engines) {
        describe(`${engine} engine`, { concurrency: 1 }, () => {
          let gateway: CaseGateway;
          before(async () => {
            gateway = await startCaseGateway(subgraphs, engine);
          });
          after(async () => {
            await gateway?.[Symbol.asyncDispose]();
          });
          for (const check of c.checks) {
            const expectedFailure = engine === 'apollo' ? check.apolloFails : undefined;
            it(expectedFailure ? `${check.name} (expected failure: ${expectedFailure})` : check.name, async (t) => {
              await subgraphs.reset();
              const outcome = await runCheck(gateway.url, check);
              const diffs = differences(check, outcome, await subgraphs.received());
              if (expectedFailure) {
                // What Apollo answers instead, for the report (docs/conformance.md gives the reason).
                t.diagnostic(diffs.join('\n'));
                assert.notDeepEqual(
                  diffs,
                  [],
                  `the Apollo engine now passes "${check.name}": remove its apolloFails mark (and regenerate docs/conformance.md)`,
                );
              } else assert.deepEqual(diffs, [], `${engine} engine: ${JSON.stringify(outcome)}`);
            });
          }
        });
      }
    });
  }
});
