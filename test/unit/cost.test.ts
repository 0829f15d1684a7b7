import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { readCostWeights } from '../../policies/cost/directives.ts';
import { estimateCost } from '../../policies/cost/estimate.ts';
import { analysisGeneration } from '../../gateway/pipeline/operation-analysis.ts';
import { analysisOf } from '../../harness/analysis.ts';
import { allSubgraphs, exampleSdl } from '../../harness/stack.ts';

// The example supergraph's weights: @listSize(slicingArguments: ["first"]) on every list field,
// User.reviews assumes 20 without `first`, search's `text` argument costs 10, shippingEstimate 5.
const composed = composeServices(
  allSubgraphs.map((name) => ({ name, url: `http://${name}`, typeDefs: parse(exampleSdl(name)) })),
);
if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
const schema = composed.schema.toAPISchema().toGraphQLJSSchema();
const supergraph = parse(composed.supergraphSdl);
const weights = readCostWeights(supergraph);
const generation = analysisGeneration(schema, supergraph);
const cost = (query: string, variables: Record<string, unknown> = {}) =>
  estimateCost(analysisOf(generation, query, variables), weights, {
    defaultListSize: 10,
    mutationBaseCost: 10,
    introspectionCost: 10,
  });

describe('static cost estimate (IBM cost spec, as Apollo implements it)', () => {
  const table: Array<[string, string, Record<string, unknown>, number]> = [
    ['slicing argument default (first = 5)', '{ topProducts { name } }', {}, 5 * (1 + 0)],
    [
      'nested lists with first:',
      '{ topProducts(first: 3) { name reviews(first: 2) { body author { name } } } }',
      {},
      3 * (1 + 2 * (1 + 1)),
    ],
    [
      'slicing argument from a variable',
      'query($n: Int!) { users(first: $n) { reviews(first: 4) { rating } } }',
      { n: 7 },
      7 * (1 + 4 * 1),
    ],
    ['assumedSize when the slicing argument is absent', '{ users(first: 2) { reviews { id } } }', {}, 2 * (1 + 20 * 1)],
    [
      'named fragments',
      '{ topProducts(first: 2) { ...P } } fragment P on Product { name category { name } }',
      {},
      2 * (1 + 1),
    ],
    [
      'union: the most expensive member counts; @cost on an argument',
      '{ search(text: "a", first: 4) { ... on Product { category { products(first: 3) { name } } } ... on Category { name } } }',
      {},
      4 * (1 + 1 * (1 + 3 * 1)) + 10,
    ],
    [
      'interface with a fragment; @cost on a field',
      '{ catalog(first: 2) { name ... on Product { shippingEstimate } } }',
      {},
      2 * (1 + 5),
    ],
    [
      '@skip(if: true) removes the selection',
      'query($s: Boolean!) { topProducts(first: 2) { name category @skip(if: $s) { name } } }',
      { s: true },
      2 * 1,
    ],
    [
      '@skip(if: false) keeps it',
      'query($s: Boolean!) { topProducts(first: 2) { name category @skip(if: $s) { name } } }',
      { s: false },
      2 * (1 + 1),
    ],
    [
      '@include with a variable default',
      'query($i: Boolean = false) { topProducts(first: 2) { name category @include(if: $i) { name } } }',
      {},
      2 * 1,
    ],
    [
      'mutation base cost',
      'mutation { createReview(input: { productUpc: "1", authorId: "1", body: "ok", rating: 5 }) { id } }',
      {},
      1 + 10,
    ],
    [
      'deep nesting multiplies',
      '{ topProducts(first: 5) { category { products(first: 5) { reviews(first: 5) { author { name } } } } } }',
      {},
      5 * (1 + (1 + 5 * (1 + 5 * (1 + 1)))),
    ],
    ['aliases count separately', '{ a: topProducts(first: 2) { name } b: topProducts(first: 3) { name } }', {}, 2 + 3],
    [
      'the worked example of docs/policies.md',
      '{ topProducts(first: 3) { name shippingEstimate reviews(first: 2) { body author { name } } } }',
      {},
      30,
    ],
    ['scalars only cost nothing', '{ __typename }', {}, 0],
  ];
  for (const [name, query, variables, expected] of table) {
    it(`${name}: ${expected}`, () => assert.equal(cost(query, variables), expected));
  }
});
