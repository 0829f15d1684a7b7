import { randomUUID } from 'node:crypto';
import { eventually, gql } from './http.ts';
import type { Proc } from './process.ts';

/**
 * Runs `action` against a gateway started with `log.requests: true` and returns its result with
 * the log lines the gateway wrote meanwhile. A marker request sent afterwards (its own `request
 * completed` line) proves the lines are all in, so a test can assert that nothing was logged.
 */
export async function withLogs<T>(
  gateway: Proc,
  url: string,
  action: () => Promise<T>,
): Promise<{ result: T; lines: Array<Record<string, unknown>> }> {
  const start = gateway.logs().length;
  const result = await action();
  const marker = `marker-${randomUUID()}`;
  await gql(url, { query: '{ __typename }' }, { 'x-request-id': marker });
  await eventually(
    async () =>
      gateway
        .logs()
        .slice(start)
        .some((l) => l['msg'] === 'request completed' && l['requestId'] === marker),
    5_000,
    'the marker request to be logged',
  );
  return { result, lines: gateway.logs().slice(start) };
}

/** Lines at error level or above, and any line that carries a stack trace. */
export function troubling(lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return lines.filter((l) => l['level'] === 'error' || l['level'] === 'fatal' || /\n\s+at /.test(JSON.stringify(l)));
}
