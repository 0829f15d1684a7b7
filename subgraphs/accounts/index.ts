import type DataLoader from 'dataloader';
import { indexLoader, take } from '../shared/batch.ts';
import { users, type UserRecord } from '../shared/dataset.ts';
import { loadSchema } from '../shared/load-schema.ts';
import type { SubgraphDefinition } from '../shared/start-subgraph.ts';

interface Ctx {
  userId: string | null;
  users: DataLoader<string, UserRecord | null>;
}

const all = users();
const byId = new Map(all.map((u) => [u.id, u]));

export const accounts: SubgraphDefinition<Ctx> = {
  name: 'accounts',
  typeDefs: loadSchema(new URL('./schema.graphql', import.meta.url)),
  createContext: ({ headers, stats }) => ({
    userId: typeof headers['x-user-id'] === 'string' ? headers['x-user-id'] : null,
    users: indexLoader(byId, stats, 'users'),
  }),
  resolvers: {
    Query: {
      me: (_root, _args, ctx) => (ctx.userId ? ctx.users.load(ctx.userId) : null),
      user: (_root, args: { id: string }, ctx) => ctx.users.load(args.id),
      users: (_root, args: { first?: number | null }) => take(all, args.first),
    },
    User: {
      __resolveReference: (ref: { id: string }, ctx: Ctx) => ctx.users.load(ref.id),
    },
  },
};
