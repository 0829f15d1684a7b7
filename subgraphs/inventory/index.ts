import type DataLoader from 'dataloader';
import { indexLoader, take } from '../shared/batch.ts';
import { stock, type StockRecord } from '../shared/dataset.ts';
import { loadSchema } from '../shared/load-schema.ts';
import type { SubgraphDefinition } from '../shared/start-subgraph.ts';

interface Ctx {
  stock: DataLoader<string, StockRecord | null>;
}
interface ProductRef {
  sku: string;
  variant: string;
  price?: number;
  weight?: number;
}

const all = stock();
const byKey = new Map(all.map((s) => [`${s.sku}|${s.variant}`, s]));

export const inventory: SubgraphDefinition<Ctx> = {
  name: 'inventory',
  typeDefs: loadSchema(new URL('./schema.graphql', import.meta.url)),
  createContext: ({ stats }) => ({ stock: indexLoader(byKey, stats, 'stock') }),
  resolvers: {
    Query: {
      outOfStock: (_root, args: { first?: number | null }) =>
        take(
          all.filter((s) => s.quantity === 0),
          args.first,
        ),
    },
    Product: {
      // The representation carries price and weight (from @requires); keep them next to the stock row.
      __resolveReference: async (ref: ProductRef, ctx: Ctx) => {
        const row = await ctx.stock.load(`${ref.sku}|${ref.variant}`);
        return row ? { ...ref, quantity: row.quantity } : null;
      },
      inStock: (p: { quantity: number }) => p.quantity > 0,
      shippingEstimate: (p: Required<ProductRef>) => (p.price > 1000 ? 0 : Math.ceil(p.weight / 2)),
    },
  },
};
