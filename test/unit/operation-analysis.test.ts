import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Kind,
  NoUnusedVariablesRule,
  parse,
  print,
  specifiedRules,
  validate,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { analyze, isIncluded } from '../../policies/authorization/analyze.ts';
import { readAuthRules } from '../../policies/authorization/directives.ts';
import { planFilter } from '../../policies/authorization/filter.ts';
import { readCostWeights } from '../../policies/cost/directives.ts';
import { estimateCost } from '../../policies/cost/estimate.ts';
import { analysisGeneration, type Selection } from '../../gateway/pipeline/operation-analysis.ts';
import { composeSupergraph } from '../../supergraph/compose.ts';
import { analysisOf } from '../../harness/analysis.ts';
import { fragmentChain, selectionsWritten } from '../../harness/hostile-documents.ts';

// A graph with what the analysis must get right: lists with @listSize, an interface, guarded fields
// (nullable, non-null), @cost, and a field whose @requires selects objects in another subgraph.
const composed = composeSupergraph([
  {
    name: 'graph',
    url: 'http://graph',
    sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@cost", "@listSize"])
      type Query {
        node: Node
        nodes(first: Int = 3): [Node!]! @listSize(slicingArguments: ["first"])
        items(first: Int = 2): [Item] @listSize(slicingArguments: ["first"])
        secretCount: Int @authenticated
      }
      interface Item { id: ID! name: String }
      type Node implements Item @key(fields: "id") {
        id: ID!
        name: String
        secret: String @requiresScopes(scopes: [["s"]])
        strict: String! @authenticated
        weight: Int @cost(weight: 3)
        next: Node
        children(first: Int = 2): [Node] @listSize(slicingArguments: ["first"])
        dims: Dims
      }
      type Dims @shareable { w: Int h: Int box: Box }
      type Box @shareable { d: Int }
      type Leaf implements Item { id: ID! name: String }`,
  },
  {
    name: 'ship',
    url: 'http://ship',
    sdl: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@external", "@requires", "@cost"])
      type Node @key(fields: "id") { id: ID! dims: Dims @external shipping: Int @requires(fields: "dims { w box { d } }") @cost(weight: 2) }
      type Dims @shareable { w: Int h: Int box: Box }
      type Box @shareable { d: Int }`,
  },
]);
if (!composed.ok) throw new Error(composed.errors.map((e) => e.message).join('\n'));
const schema = composed.apiSchema();
const supergraph = parse(composed.supergraphSdl);
const generation = analysisGeneration(schema, supergraph);
const weights = readCostWeights(supergraph);
const rules = readAuthRules(supergraph);
const settings = { defaultListSize: 10, mutationBaseCost: 10, introspectionCost: 7 };

/** Every fragment spread replaced by an inline fragment holding a copy of its body: the naive expansion. */
function inline(doc: DocumentNode): DocumentNode {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const copy = (set: SelectionSetNode): SelectionSetNode => ({
    kind: Kind.SELECTION_SET,
    selections: set.selections.map((sel) => {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const f = fragments.get(sel.name.value)!;
        return {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: f.typeCondition,
          ...(sel.directives?.length ? { directives: sel.directives } : {}),
          selectionSet: copy(f.selectionSet),
        };
      }
      return sel.selectionSet ? { ...sel, selectionSet: copy(sel.selectionSet) } : sel;
    }),
  });
  return {
    kind: Kind.DOCUMENT,
    definitions: doc.definitions.flatMap((d) =>
      d.kind === Kind.OPERATION_DEFINITION ? [{ ...d, selectionSet: copy(d.selectionSet) }] : [],
    ),
  };
}

/** The limits' numbers by walking an expanded (fragment-free) document. */
function naiveShape(doc: DocumentNode) {
  const op = doc.definitions[0]!;
  assert.equal(op.kind, Kind.OPERATION_DEFINITION);
  let fields = 0;
  let aliases = 0;
  let directives = 0;
  const depth = (set: SelectionSetNode): number => {
    let d = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        fields++;
        if (s.alias) aliases++;
        directives = Math.max(directives, s.directives?.length ?? 0);
        d = Math.max(d, 1 + (s.selectionSet ? depth(s.selectionSet) : 0));
      } else if (s.kind === Kind.INLINE_FRAGMENT) d = Math.max(d, depth(s.selectionSet));
    }
    return d;
  };
  const rootFields = (set: SelectionSetNode): number =>
    set.selections.reduce(
      (n, s) => n + (s.kind === Kind.FIELD ? 1 : s.kind === Kind.INLINE_FRAGMENT ? rootFields(s.selectionSet) : 0),
      0,
    );
  const opDepth = depth(op.selectionSet);
  return {
    expandedFields: fields,
    depth: opDepth,
    aliases,
    rootFields: rootFields(op.selectionSet),
    maxDirectivesPerField: directives,
  };
}

// A rewrite may leave a variable unused (it only fed a removed field); nothing validates it again.
const planRules = specifiedRules.filter((r) => r !== NoUnusedVariablesRule);

const shapeOf = (a: ReturnType<typeof analysisOf>) => ({
  expandedFields: a.expandedFields,
  depth: a.depth,
  aliases: a.aliases,
  rootFields: a.rootFields,
  maxDirectivesPerField: a.maxDirectivesPerField,
});

/** mulberry32: small, seeded, good enough to draw documents. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random valid document: fragments F0..Fn on Node or Item, each spreading only later ones (no
 * cycles), some twice; aliases keyed by field and argument so fields always merge; conditions
 * with variables and literals.
 */
function randomDocument(rand: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const count = 1 + Math.floor(rand() * 6);
  const onNode = Array.from({ length: count }, () => rand() < 0.8);
  const cond = () =>
    rand() < 0.2
      ? ` ${pick(['@skip(if: $a)', '@include(if: $b)', '@skip(if: false)', '@include(if: true)', '@include(if: $b) @skip(if: $a)'])}`
      : '';
  const spreads = (from: number, onNodeHere: boolean) => {
    const out: string[] = [];
    for (let j = from; j < count; j++) {
      // An Item fragment may be spread anywhere a Node is; a Node fragment on Item only through `... on Node`.
      if (rand() < 0.45) {
        const times = rand() < 0.4 ? 2 : 1;
        for (let t = 0; t < times; t++)
          out.push(onNode[j] && !onNodeHere ? `... on Node { ...F${j}${cond()} }` : `...F${j}${cond()}`);
      }
    }
    return out;
  };
  const nodeSelection = (level: number, fragFrom: number): string => {
    const parts: string[] = [];
    const n = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      const r = rand();
      if (r < 0.35) {
        const f = pick(['id', 'name', 'secret', 'strict', 'weight', 'shipping', '__typename']);
        parts.push(`${rand() < 0.3 ? `a_${f}: ` : ''}${f}${cond()}`);
      } else if (r < 0.55 && level < 3) {
        parts.push(`next${cond()} { ${nodeSelection(level + 1, fragFrom)} }`);
      } else if (r < 0.7 && level < 3) {
        const first = pick([0, 1, 2, 5]);
        parts.push(`c${first}: children(first: ${first})${cond()} { ${nodeSelection(level + 1, fragFrom)} }`);
      } else if (r < 0.8) {
        parts.push(`dims { w ${rand() < 0.5 ? 'box { d }' : 'h'} }`);
      } else {
        parts.push(`... on Item${cond()} { id name }`);
      }
    }
    parts.push(...spreads(fragFrom, true));
    return parts.join(' ');
  };
  const defs: string[] = [];
  for (let i = 0; i < count; i++) {
    defs.push(
      onNode[i]
        ? `fragment F${i} on Node { ${nodeSelection(1, i + 1)} }`
        : `fragment F${i} on Item { id name ${spreads(i + 1, false).join(' ')} }`,
    );
  }
  const root = [`nodes(first: ${pick([1, 2, 4])}) { ${nodeSelection(1, 0)} }`];
  if (rand() < 0.5) root.push(`node { ...F0 ${spreads(1, true).join(' ')} }`);
  if (rand() < 0.3) root.push(`items { id ... on Node { ${nodeSelection(2, 0)} } }`);
  if (rand() < 0.3) root.push('secretCount');
  if (rand() < 0.2) root.push(`__schema { queryType { name } }`);
  const text = `query Q($a: Boolean = false, $b: Boolean = true) { ${root.join(' ')} } ${defs.join(' ')}`;
  // Keep only the fragments the operation reaches (validation refuses unused ones).
  const doc = parse(text);
  const used = new Set<string>();
  const frags = new Map(
    doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const visit = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FRAGMENT_SPREAD) {
        if (!used.has(s.name.value)) {
          used.add(s.name.value);
          visit(frags.get(s.name.value)!.selectionSet);
        }
      } else if (s.selectionSet) visit(s.selectionSet);
    }
  };
  for (const d of doc.definitions) if (d.kind === Kind.OPERATION_DEFINITION) visit(d.selectionSet);
  return print({
    kind: Kind.DOCUMENT,
    definitions: doc.definitions.filter((d) => d.kind !== Kind.FRAGMENT_DEFINITION || used.has(d.name.value)),
  });
}

describe('operation analysis: memoized counts equal a naive expansion', () => {
  it('on 300 random fragment graphs: depth, aliases, root fields, directives, expanded fields, cost, guards and filter', () => {
    const rand = prng(12);
    let checked = 0;
    for (let i = 0; i < 300; i++) {
      const text = randomDocument(rand);
      const doc = parse(text);
      // The draw may leave $a or $b unused, which does not matter here.
      const errors = validate(schema, doc, planRules);
      assert.deepEqual(
        errors.map((e) => e.message),
        [],
        text,
      );
      const expanded = inline(doc);
      const expandedText = print(expanded);
      const naive = naiveShape(expanded);
      if (naive.expandedFields > 2_000) continue;
      checked++;
      const memoShape = analysisOf(generation, text);
      assert.deepEqual(shapeOf(memoShape), naive, text);
      for (const variables of [{}, { a: true, b: false }, { a: true }, { b: false }]) {
        const memo = analysisOf(generation, text, variables);
        const flat = analysisOf(generation, expandedText, variables);
        assert.equal(memo.introspection, flat.introspection, text);
        assert.equal(
          estimateCost(memo, weights, settings),
          estimateCost(flat, weights, settings),
          `${text}\n${JSON.stringify(variables)}`,
        );
        const memoAuth = analyze(memo, rules);
        const flatAuth = analyze(flat, rules);
        const summary = (a: typeof memoAuth, an: typeof memo) =>
          a.guards.map(
            (g) =>
              `${g.coordinate} ${g.path.join('.')} ${isIncluded(an, g.conditions)} ${g.target.kind} ${'key' in g.target ? g.target.key : ''}`,
          );
        assert.deepEqual(summary(memoAuth, memo), summary(flatAuth, flat), text);
        if (Object.keys(variables).length) continue;
        // Every guard denied: the copy-on-write rewrite, expanded, is the rewrite of the expansion.
        const memoPlan = planFilter(memoAuth, memoAuth.guards);
        const flatPlan = planFilter(flatAuth, flatAuth.guards);
        assert.equal(print(inline(memoPlan.document)), print(flatPlan.document), text);
        const targets = (p: typeof memoPlan) =>
          p.targets.map((t) =>
            t.kind === 'data'
              ? t
              : {
                  kind: t.kind,
                  route: t.route,
                  key: 'key' in t ? t.key : null,
                  scope: t.scope && [...t.scope],
                  order: 'order' in t ? t.order : null,
                },
          );
        assert.deepEqual(targets(memoPlan), targets(flatPlan), text);
        assert.deepEqual(
          validate(schema, memoPlan.document, planRules).map((e) => e.message),
          [],
          print(memoPlan.document),
        );
      }
      // Each selection of the document is visited once to build the analysis, whatever the expansion.
      assert.equal(memoShape.nodesVisited, selectionsWritten(text), text);
    }
    assert.ok(checked >= 250, `only ${checked} documents were small enough to expand`);
  });
});

describe('operation analysis: shape', () => {
  it('counts a 2^20 fragment chain without expanding it: linear work, exact counts', () => {
    const visits: number[] = [];
    for (const levels of [10, 15, 20]) {
      const text = fragmentChain({
        levels,
        fanOut: 2,
        on: 'Node',
        wrap: (s) => `{ nodes(first: 1) { ${s} } }`,
        leaf: 'a: secret',
      });
      const a = analysisOf(generation, text);
      assert.deepEqual(shapeOf(a), {
        expandedFields: 2 ** levels + 1,
        depth: 2,
        aliases: 2 ** levels,
        rootFields: 1,
        maxDirectivesPerField: 0,
      });
      visits.push(a.nodesVisited);
    }
    // 1 root field, its spread, 2 spreads per fragment, 1 leaf: 3 + 2 × levels.
    assert.deepEqual(visits, [23, 33, 43]);
  });

  it('3^13 and 2^1100 chains: counts stay numbers (Infinity past 1e308), never wrap', () => {
    const three = analysisOf(
      generation,
      fragmentChain({ levels: 13, fanOut: 3, on: 'Node', wrap: (s) => `{ node { ${s} } }`, leaf: 'id' }),
    );
    assert.equal(three.expandedFields, 3 ** 13 + 1);
    const huge = analysisOf(
      generation,
      fragmentChain({ levels: 1100, fanOut: 2, on: 'Node', wrap: (s) => `{ node { ${s} } }`, leaf: 'secret' }),
      {},
      { maxExpandedFields: 2000 },
    );
    assert.equal(huge.expandedFields, Number.POSITIVE_INFINITY);
    assert.equal(huge.nodesVisited, 3 + 2 * 1100);
    assert.throws(
      () => huge.assertExpandable(),
      (err: Error & { extensions?: Record<string, unknown> }) => {
        assert.equal(
          err.message,
          `Operation selects ${Number.MAX_VALUE} fields once its fragments are expanded; the maximum is 2000.`,
        );
        assert.equal(err.extensions?.['code'], 'MAX_EXPANDED_FIELDS_EXCEEDED');
        return true;
      },
    );
    // Authorization refuses before walking a single position of it: it only visited each selection once to see a guard is there.
    const built = huge.nodesVisited;
    assert.throws(
      () => analyze(huge, rules),
      (err: Error & { extensions?: Record<string, unknown> }) =>
        err.extensions?.['code'] === 'MAX_EXPANDED_FIELDS_EXCEEDED',
    );
    assert.ok(huge.nodesVisited - built <= built, `authorization visited ${huge.nodesVisited - built} nodes`);
  });

  it('aliases, response-key order through fragments, directives per field, root fields and introspection', () => {
    const a = analysisOf(
      generation,
      `{ nodes { b: id a: name ...F ... on Node { c: weight b: id } } x: node { id } __schema { queryType { name } } }
      fragment F on Node { d: secret @include(if: true) @skip(if: false) a: name next { id } }`,
    );
    assert.deepEqual(shapeOf(a), { expandedFields: 14, depth: 3, aliases: 7, rootFields: 3, maxDirectivesPerField: 2 });
    assert.equal(a.introspection, true);
    const nodes = a.root.selections[0]!;
    assert.equal(nodes.kind, 'field');
    assert.deepEqual(a.responseKeys(nodes.selectionSet!), ['b', 'a', 'd', 'next', 'c']);
    assert.deepEqual(a.responseKeys(a.root), ['nodes', 'x', '__schema']);
    // Computed once per selection set: asking again visits nothing.
    const before = a.nodesVisited;
    a.responseKeys(nodes.selectionSet!);
    assert.equal(a.nodesVisited, before);
  });

  it('@skip/@include follow graphql-js: variables, defaults, literals, both on one selection', () => {
    const text = `query($s: Boolean!, $i: Boolean = false) { nodes { id @skip(if: $s) name @include(if: $i) weight @skip(if: false) @include(if: true) secret @skip(if: $s) @include(if: true) } }`;
    const fields = (vars: Record<string, unknown>) => {
      const a = analysisOf(generation, text, vars);
      const nodes = a.root.selections[0]!;
      assert.equal(nodes.kind, 'field');
      return nodes
        .selectionSet!.selections.filter((s: Selection) => a.included(s))
        .map((s) => (s.kind === 'field' ? s.name : '?'));
    };
    assert.deepEqual(fields({ s: true }), ['weight']);
    assert.deepEqual(fields({ s: false }), ['id', 'weight', 'secret']);
    assert.deepEqual(fields({ s: false, i: true }), ['id', 'name', 'weight', 'secret']);
    // Variables that do not coerce are the client's error.
    assert.throws(
      () => fields({ s: 'yes' }),
      (err: Error & { extensions?: Record<string, unknown> }) => {
        assert.equal(err.extensions?.['code'], 'BAD_USER_INPUT');
        assert.match(err.message, /Boolean cannot represent a non boolean value: "yes"/);
        return true;
      },
    );
  });

  it('is built from the operation the request names', () => {
    const a = analysisOf(
      generation,
      'query One { node { id } } query Two { nodes { ...F ...F } } fragment F on Node { id name }',
      {},
      { operationName: 'Two' },
    );
    assert.deepEqual(shapeOf(a), { expandedFields: 5, depth: 2, aliases: 0, rootFields: 1, maxDirectivesPerField: 0 });
  });
});

describe('operation analysis: cost it knows', () => {
  const cost = (query: string, variables: Record<string, unknown> = {}) =>
    estimateCost(analysisOf(generation, query, variables), weights, settings);
  it('@requires: the selection the plan fetches first is costed on the owner type, once per object', () => {
    // node 1 + shipping (weight 2 + requires dims 1 + box 1) = 5
    assert.equal(cost('{ node { shipping } }'), 5);
    // 3 nodes × (1 + 4) = 15: the requirement is per node, not per item of a list of its own.
    assert.equal(cost('{ nodes(first: 3) { shipping } }'), 15);
  });

  it('introspection costs introspectionCost per __schema/__type selection, fragments expanded', () => {
    assert.equal(cost('{ __schema { queryType { name } } }'), 7);
    assert.equal(cost('{ a: __schema { queryType { name } } b: __type(name: "Node") { name } __typename }'), 14);
    assert.equal(cost('{ ...I ...I } fragment I on Query { __schema { types { name } } }'), 14);
  });

  it('a fragment chain is costed in visits proportional to its tokens', () => {
    const a = analysisOf(
      generation,
      fragmentChain({
        levels: 20,
        fanOut: 2,
        on: 'Node',
        wrap: (s) => `{ nodes(first: 1) { ${s} } }`,
        leaf: 'next { weight }',
      }),
    );
    const built = a.nodesVisited;
    // 1 node × (1 + 2^20 × (next 1 + weight 3))
    assert.equal(estimateCost(a, weights, settings), 1 + 2 ** 20 * 4);
    assert.ok(a.nodesVisited - built <= 2 * built, `cost visited ${a.nodesVisited - built} nodes`);
  });
});
