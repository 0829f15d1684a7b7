import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from '../../gateway/subgraph-client/retry-budget.ts';
import {
  backoffMs,
  mayRetry,
  parseRetryAfter,
  statusFailure,
  transportFailure,
} from '../../gateway/subgraph-client/retry-policy.ts';

const retry = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  budgetRatio: 0.2,
  budgetMinPerSecond: 0,
  budgetWindowMs: 10_000,
};

describe('retry policy', () => {
  it('retries queries on transient failures only', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT'])
      assert.equal(mayRetry(transportFailure(code), false), true, code);
    for (const status of [429, 502, 503, 504])
      assert.equal(mayRetry(statusFailure(status, undefined), false), true, String(status));
    for (const status of [500, 501])
      assert.equal(mayRetry(statusFailure(status, undefined), false), false, String(status));
    assert.equal(mayRetry(transportFailure('DEPTH_ZERO_SELF_SIGNED_CERT'), false), false);
    assert.equal(mayRetry(transportFailure('EOPENBREAKER'), false), false);
  });

  it('retries a mutation only when the request provably never left', () => {
    assert.equal(mayRetry(transportFailure('ECONNREFUSED'), true), true);
    assert.equal(mayRetry(transportFailure('UND_ERR_CONNECT_TIMEOUT'), true), true);
    for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT'])
      assert.equal(mayRetry(transportFailure(code), true), false, code);
    for (const status of [429, 502, 503, 504])
      assert.equal(mayRetry(statusFailure(status, '1'), true), false, String(status));
  });

  it('backs off exponentially with full jitter, capped, or as Retry-After says', () => {
    assert.equal(
      backoffMs(1, retry, transportFailure('ECONNRESET'), () => 0.999),
      99,
    );
    assert.equal(
      backoffMs(3, retry, transportFailure('ECONNRESET'), () => 0.5),
      200,
    );
    assert.equal(
      backoffMs(10, retry, transportFailure('ECONNRESET'), () => 0.999),
      999,
    );
    assert.equal(
      backoffMs(1, retry, transportFailure('ECONNRESET'), () => 0),
      0,
    );
    assert.equal(
      backoffMs(1, retry, statusFailure(503, '2'), () => 0.5),
      2000,
    );
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

describe('retry budget', () => {
  it('allows retries up to ratio × requests over the window, then refuses', () => {
    let t = 1_000_000;
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000, now: () => t });
    for (let i = 0; i < 50; i++) budget.recordRequest();
    const granted = Array.from({ length: 30 }, () => budget.tryRetry()).filter(Boolean).length;
    assert.equal(granted, 10);
    // Ten seconds later the window has rolled over: the old traffic no longer buys retries.
    t += 10_000;
    assert.equal(budget.tryRetry(), false);
    budget.recordRequest();
    budget.recordRequest();
    budget.recordRequest();
    budget.recordRequest();
    budget.recordRequest();
    assert.equal(budget.tryRetry(), true);
    assert.equal(budget.tryRetry(), false);
  });

  it('keeps a floor of retries per second for quiet subgraphs', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 1, windowMs: 2_000, now: () => 5_000 });
    assert.equal(budget.tryRetry(), true);
    assert.equal(budget.tryRetry(), true);
    assert.equal(budget.tryRetry(), false);
  });
});
