import { accounts } from './accounts/index.ts';
import { inventory } from './inventory/index.ts';
import { productsSubgraph } from './products/index.ts';
import { reviewsSubgraph } from './reviews/index.ts';
import type { SubgraphDefinition } from './shared/start-subgraph.ts';

/** The example subgraphs by name, with the port each uses in `npm start` and docker-compose. */
export const exampleSubgraphs: Record<string, { definition: SubgraphDefinition<any>; port: number }> = {
  accounts: { definition: accounts, port: 4001 },
  products: { definition: productsSubgraph, port: 4002 },
  reviews: { definition: reviewsSubgraph, port: 4003 },
  inventory: { definition: inventory, port: 4004 },
};
