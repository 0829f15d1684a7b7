/** The benchmark's operations. `standard` is the one the headline ratios are quoted for. */
export const queries = {
  small: {
    description: 'one subgraph (products), 5 entities',
    query: 'query Small { topProducts(first: 5) { upc name price } }',
  },
  standard: {
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
    description: '4 subgraphs, 100 products + 500 reviews + authors (~650 entities)',
    query: `query Large {
  topProducts(first: 100) {
    upc sku variant name price weight category { name }
    inStock quantity shippingEstimate
    reviews(first: 5) { id body rating author { id username name email } }
  }
}`,
  },
} as const;

export type QueryName = keyof typeof queries;
