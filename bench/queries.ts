/**
 * The benchmark's operations and the subgraphs each runs against: `example` is Tessera's own
 * example subgraphs (subgraphs/), `public` the four subgraphs of The Guild's public
 * graphql-gateways-benchmark (bench/public/). Each query's checked answer is bench/expected/<name>.json.
 */
export type Backend = 'example' | 'public';

export const queries = {
  small: {
    backend: 'example',
    description: 'one subgraph (products), 5 entities',
    query: 'query Small { topProducts(first: 5) { upc name price } }',
  },
  standard: {
    backend: 'example',
    description: '4 subgraphs, 2 entity hops, lists: products → inventory (@requires) + reviews → accounts',
    query: `query Standard {
  topProducts(first: 10) {
    upc name price
    inStock shippingEstimate
    reviews(first: 3) { id body rating author { id username name } }
  }
}`,
  },
  large: {
    backend: 'example',
    description: '4 subgraphs, 100 products + 500 reviews + authors (~650 entities)',
    query: `query Large {
  topProducts(first: 100) {
    upc sku variant name price weight category { name }
    inStock quantity shippingEstimate
    reviews(first: 5) { id body rating author { id username name email } }
  }
}`,
  },
  // The deep fragment query of graphql-gateways-benchmark ("federation" scenario), text as its k6
  // script sends it (federation-v1/scenarios/k6.shared.js): ~88 KB answer, ~16 subgraph fetches.
  public: {
    backend: 'public',
    description: 'public benchmark shape: 4 subgraphs, deep fragments, ~16 subgraph fetches, ~88 KB answer',
    query: `fragment User on User {
  id
  username
  name
}

fragment Review on Review {
  id
  body
}

fragment Product on Product {
  inStock
  name
  price
  shippingEstimate
  upc
  weight
}

query TestQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}`,
  },
} as const satisfies Record<string, { backend: Backend; description: string; query: string }>;

export type QueryName = keyof typeof queries;
