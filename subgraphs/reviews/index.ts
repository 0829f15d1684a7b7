import type DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import { groupBy, indexLoader, take } from '../shared/batch.ts';
import { PRODUCT_COUNT, reviews as seedReviews, users, type ReviewRecord } from '../shared/dataset.ts';
import { loadSchema } from '../shared/load-schema.ts';
import type { SubgraphDefinition } from '../shared/start-subgraph.ts';

interface Ctx {
  byId: DataLoader<string, ReviewRecord | null>;
  byAuthor: DataLoader<string, ReviewRecord[] | null>;
  byProduct: DataLoader<string, ReviewRecord[] | null>;
}
interface CreateReviewInput {
  productUpc: string;
  authorId: string;
  body: string;
  rating: number;
}

const all = seedReviews();
const byId = new Map(all.map((r) => [r.id, r]));
const byAuthor = groupBy(all, (r) => r.authorId);
const byProduct = groupBy(all, (r) => r.productUpc);
// Denormalised copy of accounts' usernames: what lets `Review.author` @provide `username`.
const usernameById = new Map(users().map((u) => [u.id, u.username]));

function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });
}

export const reviewsSubgraph: SubgraphDefinition<Ctx> = {
  name: 'reviews',
  typeDefs: loadSchema(new URL('./schema.graphql', import.meta.url)),
  createContext: ({ stats }) => ({
    byId: indexLoader(byId, stats, 'reviewsById'),
    byAuthor: indexLoader(byAuthor, stats, 'reviewsByAuthor'),
    byProduct: indexLoader(byProduct, stats, 'reviewsByProduct'),
  }),
  resolvers: {
    Query: {
      // Newest first, so a review created through the mutation shows up at the top.
      topReviews: (_root, args: { first?: number | null }) => take(all.slice().reverse(), args.first),
    },
    Mutation: {
      createReview: (_root, { input }: { input: CreateReviewInput }) => {
        const upc = Number(input.productUpc);
        if (!Number.isInteger(upc) || upc < 1 || upc > PRODUCT_COUNT)
          throw badInput(`No product with upc "${input.productUpc}"`, 'productUpc');
        if (!usernameById.has(input.authorId)) throw badInput(`No user with id "${input.authorId}"`, 'authorId');
        if (!Number.isInteger(input.rating) || input.rating < 1 || input.rating > 5)
          throw badInput('rating must be an integer from 1 to 5', 'rating');
        const body = input.body.trim();
        if (!body || body.length > 2000) throw badInput('body must be 1 to 2000 characters', 'body');
        const review: ReviewRecord = {
          id: String(all.length + 1),
          body,
          rating: input.rating,
          authorId: input.authorId,
          productUpc: input.productUpc,
        };
        all.push(review);
        byId.set(review.id, review);
        (byAuthor.get(review.authorId) ?? byAuthor.set(review.authorId, []).get(review.authorId)!).push(review);
        (byProduct.get(review.productUpc) ?? byProduct.set(review.productUpc, []).get(review.productUpc)!).push(review);
        return review;
      },
    },
    Review: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.byId.load(ref.id),
      author: (r: ReviewRecord) => ({ id: r.authorId, username: usernameById.get(r.authorId) }),
      product: (r: ReviewRecord) => ({ upc: r.productUpc }),
    },
    User: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      reviews: async (u: { id: string }, args: { first?: number | null }, ctx: Ctx) =>
        take((await ctx.byAuthor.load(u.id)) ?? [], args.first),
    },
    Product: {
      __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
      reviews: async (p: { upc: string }, args: { first?: number | null }, ctx: Ctx) =>
        take((await ctx.byProduct.load(p.upc)) ?? [], args.first),
      reviewCount: async (p: { upc: string }, _args: unknown, ctx: Ctx) =>
        ((await ctx.byProduct.load(p.upc)) ?? []).length,
      averageRating: async (p: { upc: string }, _args: unknown, ctx: Ctx) => {
        const list = (await ctx.byProduct.load(p.upc)) ?? [];
        return list.length ? Math.round((list.reduce((s, r) => s + r.rating, 0) / list.length) * 100) / 100 : null;
      },
    },
  },
};
