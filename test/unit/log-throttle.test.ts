import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogThrottle } from '../../gateway/observability/log-throttle.ts';

describe('log throttle', () => {
  it('lets one line per key per interval through and counts the rest', () => {
    let t = 0;
    const throttle = new LogThrottle(1000, () => t);
    assert.equal(throttle.take('SUBGRAPH_UNAVAILABLE'), 0);
    assert.equal(throttle.take('SUBGRAPH_UNAVAILABLE'), null);
    assert.equal(throttle.take('SUBGRAPH_UNAVAILABLE'), null);
    assert.equal(throttle.take('SUBGRAPH_TIMEOUT'), 0, 'keys are independent');
    t = 999;
    assert.equal(throttle.take('SUBGRAPH_UNAVAILABLE'), null);
    t = 1000;
    assert.equal(throttle.take('SUBGRAPH_UNAVAILABLE'), 3, 'reports the three it swallowed');
    assert.equal(throttle.take('SUBGRAPH_UNAVAILABLE'), null);
  });
});
