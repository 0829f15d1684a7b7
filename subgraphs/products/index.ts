import type DataLoader from 'dataloader';
import { groupBy, indexLoader, take } from '../shared/batch.ts';
import { categories, products, type CategoryRecord, type ProductRecord } from '../shared/dataset.ts';
import { loadSchema } from '../shared/load-schema.ts';
import type { SubgraphDefinition } from '../shared/start-subgraph.ts';

interface Ctx {
  byUpc: DataLoader<string, ProductRecord | null>;
  bySkuVariant: DataLoader<string, ProductRecord | null>;
}

const all = products();
const allCategories = categories();
const byUpc = new Map(all.map((p) => [p.upc, p]));
const bySkuVariant = new Map(all.map((p) => [`${p.sku}|${p.variant}`, p]));
const categoryById = new Map(allCategories.map((c) => [c.id, c]));
const productsByCategory = groupBy(all, (p) => p.categoryId);

type ProductRef = { upc: string } | { sku: string; variant: string };

export const productsSubgraph: SubgraphDefinition<Ctx> = {
  name: 'products',
  typeDefs: loadSchema(new URL('./schema.graphql', import.meta.url)),
  createContext: ({ stats }) => ({
    byUpc: indexLoader(byUpc, stats, 'productsByUpc'),
    bySkuVariant: indexLoader(bySkuVariant, stats, 'productsBySkuVariant'),
  }),
  resolvers: {
    Query: {
      topProducts: (_root, args: { first?: number | null }) => take(all, args.first),
      product: (_root, args: { upc: string }, ctx) => ctx.byUpc.load(args.upc),
      search: (_root, args: { text: string; first?: number | null }) => {
        const needle = args.text.toLowerCase();
        const hits: Array<ProductRecord | CategoryRecord> = [
          ...allCategories.filter((c) => c.name.toLowerCase().includes(needle)),
          ...all.filter((p) => p.name.toLowerCase().includes(needle)),
        ];
        return take(hits, args.first);
      },
      catalog: (_root, args: { first?: number | null }) => take([...allCategories, ...all], args.first),
    },
    Product: {
      __resolveReference: (ref: ProductRef, ctx: Ctx) =>
        'upc' in ref ? ctx.byUpc.load(ref.upc) : ctx.bySkuVariant.load(`${ref.sku}|${ref.variant}`),
      category: (p: ProductRecord) => categoryById.get(p.categoryId),
      internalNotes: (p: ProductRecord) => `Supplier SKU ${p.sku}-${p.variant}; reorder below 20.`,
    },
    Category: {
      internalNotes: (c: CategoryRecord) => `Category ${c.id}: review assortment quarterly.`,
      products: (c: CategoryRecord, args: { first?: number | null }) =>
        take(productsByCategory.get(c.id) ?? [], args.first),
    },
    SearchResult: {
      __resolveType: (value: ProductRecord | CategoryRecord) => ('upc' in value ? 'Product' : 'Category'),
    },
    CatalogEntry: {
      __resolveType: (value: ProductRecord | CategoryRecord) => ('upc' in value ? 'Product' : 'Category'),
    },
  },
};
