import { Kind, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

export interface ListSize {
  readonly assumedSize: number | null;
  readonly slicingArguments: readonly string[];
  readonly sizedFields: readonly string[];
  readonly requireOneSlicingArgument: boolean;
}

/**
 * `@cost` and `@listSize` weights from a supergraph, keyed by schema coordinate: `Type`,
 * `Type.field`, `Type.field(arg:)`, `Input.field`, `Enum`. The API schema drops them, so the
 * supergraph text is read (once per supergraph generation); names honour `@link(as:, import:)`.
 */
export interface CostWeights {
  readonly cost: ReadonlyMap<string, number>;
  readonly listSize: ReadonlyMap<string, ListSize>;
}

const COST_SPEC = 'https://specs.apollo.dev/cost/';

export function readCostWeights(doc: DocumentNode): CostWeights {
  let costName = 'cost';
  let listSizeName = 'listSize';
  for (const def of doc.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const d of def.directives ?? []) {
      const url = arg(d, 'url');
      if (d.name.value !== 'link' || url?.kind !== Kind.STRING || !url.value.startsWith(COST_SPEC)) continue;
      const imports = arg(d, 'import');
      for (const imp of imports?.kind === Kind.LIST ? imports.values : []) {
        if (imp.kind === Kind.OBJECT) {
          const name = imp.fields.find((f) => f.name.value === 'name')?.value;
          const as = imp.fields.find((f) => f.name.value === 'as')?.value;
          if (name?.kind === Kind.STRING && as?.kind === Kind.STRING) {
            if (name.value === '@cost') costName = as.value.replace(/^@/, '');
            if (name.value === '@listSize') listSizeName = as.value.replace(/^@/, '');
          }
        }
      }
    }
  }
  const cost = new Map<string, number>();
  const listSize = new Map<string, ListSize>();
  const read = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    for (const d of directives ?? []) {
      if (d.name.value === costName) {
        const w = arg(d, 'weight');
        if (w?.kind === Kind.INT || w?.kind === Kind.FLOAT) cost.set(coordinate, Number(w.value));
      } else if (d.name.value === listSizeName) {
        const assumed = arg(d, 'assumedSize');
        const req = arg(d, 'requireOneSlicingArgument');
        listSize.set(coordinate, {
          assumedSize: assumed?.kind === Kind.INT ? Number(assumed.value) : null,
          slicingArguments: strings(arg(d, 'slicingArguments')),
          sizedFields: strings(arg(d, 'sizedFields')),
          requireOneSlicingArgument: req?.kind === Kind.BOOLEAN ? req.value : true,
        });
      }
    }
  };
  for (const def of doc.definitions) {
    if (!('name' in def) || !def.name || !('directives' in def)) continue;
    const type = def.name.value;
    read(type, def.directives as readonly ConstDirectiveNode[]);
    if ('fields' in def && def.fields) {
      for (const f of def.fields) {
        read(`${type}.${f.name.value}`, f.directives);
        if ('arguments' in f)
          for (const a of f.arguments ?? []) read(`${type}.${f.name.value}(${a.name.value}:)`, a.directives);
      }
    }
  }
  return { cost, listSize };
}

function arg(d: ConstDirectiveNode, name: string): ConstValueNode | undefined {
  return d.arguments?.find((a) => a.name.value === name)?.value;
}

function strings(v: ConstValueNode | undefined): string[] {
  if (!v) return [];
  const list = v.kind === Kind.LIST ? v.values : [v];
  return list.flatMap((x) => (x.kind === Kind.STRING ? [x.value] : []));
}
