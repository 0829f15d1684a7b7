import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineRunner } from '../../gateway/pipeline/runner.ts';
import type { OperationPhase, Policy } from '../../policies/policy.ts';

/** A runner over hand-made policies (the registry's modules need a whole config; the runner does not). */
function runnerOf(policies: Policy[]) {
  const timed: string[] = [];
  const timing = {
    labels: ({ policy, phase }: { policy: string; phase: string }) => ({
      observe: () => void timed.push(`${policy} ${phase}`),
    }),
  };
  return { runner: new PipelineRunner(policies, timing), timed };
}

function operation() {
  const logged: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const op = {
    requestId: 'r1',
    log: { error: (obj: Record<string, unknown>, msg: string) => void logged.push({ obj, msg }) },
    // No slots: an untraced request (the runner looks for the trace slot).
    get: () => undefined,
  } as unknown as OperationPhase;
  return { op, logged };
}

describe('policy runner: onRefused', () => {
  it('tells the policies after the refusing one, in order, and rethrows the original error', async () => {
    const calls: string[] = [];
    const refusal = new Error('too deep');
    const watcher = (name: string, extra: Partial<Policy> = {}): Policy => ({
      name,
      onRefused: (_op, err) => void calls.push(`${name}:${(err as Error).message}`),
      ...extra,
    });
    const { runner, timed } = runnerOf([
      watcher('before', { onOperation: () => void calls.push('before:operation') }),
      {
        name: 'limits',
        onOperation: () => {
          throw refusal;
        },
      },
      watcher('no-operation-hook'),
      { name: 'no-refused-hook', onOperation: () => void calls.push('never') },
      watcher('rate-limit', { onOperation: () => void calls.push('never') }),
    ]);
    const { op } = operation();
    await assert.rejects(runner.onOperation(op), (err) => err === refusal);
    assert.deepEqual(calls, ['before:operation', 'no-operation-hook:too deep', 'rate-limit:too deep']);
    assert.deepEqual(timed, [
      'before operation',
      'limits operation',
      'no-operation-hook refused',
      'rate-limit refused',
    ]);
  });

  it('a throwing or rejecting onRefused is logged; the original refusal still reaches the client and later hooks still run', async () => {
    const refusal = new Error('too expensive');
    const calls: string[] = [];
    const { runner } = runnerOf([
      {
        name: 'cost',
        onOperation: () => {
          throw refusal;
        },
      },
      {
        name: 'broken',
        onRefused: () => {
          throw new Error('store exploded');
        },
      },
      {
        name: 'rejecting',
        onRefused: async () => {
          throw new Error('late failure');
        },
      },
      { name: 'rate-limit', onRefused: () => void calls.push('rate-limit') },
    ]);
    const { op, logged } = operation();
    await assert.rejects(runner.onOperation(op), (err) => err === refusal);
    assert.deepEqual(calls, ['rate-limit']);
    assert.deepEqual(
      logged.map((l) => [l.msg, l.obj['policy'], (l.obj['err'] as Error).message]),
      [
        ['onRefused hook failed; the original refusal stands', 'broken', 'store exploded'],
        ['onRefused hook failed; the original refusal stands', 'rejecting', 'late failure'],
      ],
    );
  });

  it('an admitted operation calls no onRefused and returns the after-callbacks in order', async () => {
    const calls: string[] = [];
    const done = () => {};
    const { runner } = runnerOf([
      { name: 'a', onOperation: () => done, onRefused: () => void calls.push('a') },
      { name: 'b', onOperation: () => undefined, onRefused: () => void calls.push('b') },
    ]);
    assert.deepEqual(await runner.onOperation(operation().op), [done]);
    assert.deepEqual(calls, []);
  });
});
