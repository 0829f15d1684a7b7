import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, print } from 'graphql';
import { analyze } from '../../policies/authorization/analyze.ts';
import { analysisGeneration } from '../../gateway/pipeline/operation-analysis.ts';
import { analysisOf } from '../../harness/analysis.ts';
import { readAuthRules } from '../../policies/authorization/directives.ts';
import { patchResponse, planFilter } from '../../policies/authorization/filter.ts';
import { composeSupergraph } from '../../supergraph/compose.ts';

// Shapes the example subgraphs lack: a list with nullable items, a non-null root field.
const composed = composeSupergraph([
  {
    name: 'feed',
    url: 'http://feed/graphql',
    sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@authenticated", "@requiresScopes"])
    type Query { feed: [Item]! secretCount: Int! @authenticated }
    type Item { id: ID! name: String secret: String! @requiresScopes(scopes: [["s"]]) }`,
  },
]);
if (!composed.ok) throw new Error(composed.errors.map((e) => e.message).join('\n'));
const schema = composed.apiSchema();
const rules = readAuthRules(parse(composed.supergraphSdl));
const generation = analysisGeneration(schema, parse(composed.supergraphSdl));

const anonymousPlan = (query: string) => {
  const analysis = analyze(analysisOf(generation, query), rules);
  return planFilter(analysis, analysis.guards);
};

describe('authorization filter: null propagation', () => {
  it('a denied non-null field in a list of nullable items nulls those items, not the list', () => {
    const plan = anonymousPlan('{ feed { id secret name } }');
    assert.equal(print(plan.document), '{\n  feed {\n    id\n    name\n  }\n}');
    const response = {
      data: { feed: [{ id: '1', name: 'a' }, null, { id: '3', name: 'c' }] } as Record<string, unknown>,
    };
    patchResponse(plan, response);
    assert.deepEqual(response, {
      data: { feed: [null, null, null] },
      errors: [
        {
          message: 'Unauthorized field or type: Item.secret',
          path: ['feed', '@', 'secret'],
          extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
        },
      ],
    });
  });

  it('a denied non-null root field nulls all of data, and nothing is fetched', () => {
    const plan = anonymousPlan('{ secretCount feed { id } }');
    assert.equal(plan.dataNull, true);
    assert.equal(print(plan.document), '{\n  __tessera_typename: __typename\n}');
    const response = { data: { __tessera_typename: 'Query' } as Record<string, unknown> | null };
    patchResponse(plan, response);
    assert.deepEqual(response, {
      data: null,
      errors: [
        {
          message: 'Unauthorized field or type: Query.secretCount',
          path: ['secretCount'],
          extensions: { code: 'UNAUTHORIZED_FIELD_OR_TYPE' },
        },
      ],
    });
  });

  it('a selection left empty keeps a typename marker, stripped from the response', () => {
    const plan = anonymousPlan('{ feed { secret } }');
    assert.equal(print(plan.document), '{\n  feed {\n    __tessera_typename: __typename\n  }\n}');
  });
});
