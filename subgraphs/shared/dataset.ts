/**
 * Deterministic demo data. Every subgraph derives its slice from the same seeded generator, so
 * the reviews subgraph knows the usernames it `@provides` without calling accounts, and tests can
 * hard-code expected results.
 */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const firstNames = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Barbara',
  'Ken',
  'Margaret',
  'Dennis',
  'Frances',
  'Edsger',
  'Radia',
  'Donald',
  'Hedy',
  'John',
  'Katherine',
  'Tim',
];
const lastNames = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Torvalds',
  'Liskov',
  'Thompson',
  'Hamilton',
  'Ritchie',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Knuth',
  'Lamarr',
  'Backus',
  'Johnson',
  'Berners-Lee',
];
const adjectives = ['Oak', 'Walnut', 'Steel', 'Linen', 'Velvet', 'Bamboo', 'Marble', 'Copper', 'Wool', 'Glass'];
const nouns = ['Table', 'Couch', 'Chair', 'Lamp', 'Desk', 'Shelf', 'Stool', 'Bench', 'Rug', 'Cabinet'];
const variants = ['standard', 'large', 'compact'] as const;
const reviewPhrases = [
  'Love it!',
  'Too expensive.',
  'Could be better.',
  'Prefer something else.',
  'Solid build.',
  'Arrived late but works.',
  'Exactly as described.',
  'Would buy again.',
];

export interface UserRecord {
  id: string;
  name: string;
  username: string;
  email: string;
  birthDate: string;
}
export interface CategoryRecord {
  id: string;
  name: string;
}
export interface ProductRecord {
  upc: string;
  sku: string;
  variant: string;
  name: string;
  price: number;
  weight: number;
  categoryId: string;
}
export interface StockRecord {
  sku: string;
  variant: string;
  quantity: number;
}
export interface ReviewRecord {
  id: string;
  body: string;
  rating: number;
  authorId: string;
  productUpc: string;
}

export const USER_COUNT = 40;
export const PRODUCT_COUNT = 100;
export const REVIEW_COUNT = 300;

export function users(): UserRecord[] {
  const rand = mulberry32(1);
  return Array.from({ length: USER_COUNT }, (_, i) => {
    const first = firstNames[i % firstNames.length]!;
    const last = lastNames[Math.floor(i / firstNames.length + i) % lastNames.length]!;
    const username = `@${first.toLowerCase()}${i + 1}`;
    const year = 1950 + Math.floor(rand() * 50);
    const month = String(1 + Math.floor(rand() * 12)).padStart(2, '0');
    const day = String(1 + Math.floor(rand() * 28)).padStart(2, '0');
    return {
      id: String(i + 1),
      name: `${first} ${last}`,
      username,
      email: `${first.toLowerCase()}.${i + 1}@example.com`,
      birthDate: `${year}-${month}-${day}`,
    };
  });
}

export function categories(): CategoryRecord[] {
  return nouns.map((noun, i) => ({ id: `c${i + 1}`, name: `${noun}s` }));
}

export function products(): ProductRecord[] {
  const rand = mulberry32(2);
  return Array.from({ length: PRODUCT_COUNT }, (_, i) => {
    const noun = nouns[i % nouns.length]!;
    const name = i < nouns.length ? noun : `${adjectives[Math.floor(i / nouns.length) % adjectives.length]} ${noun}`;
    return {
      upc: String(i + 1),
      sku: `SKU-${String(Math.floor(i / variants.length) + 1).padStart(3, '0')}`,
      variant: variants[i % variants.length]!,
      name,
      price: 50 + Math.floor(rand() * 1950),
      weight: 1 + Math.floor(rand() * 80),
      categoryId: `c${(i % nouns.length) + 1}`,
    };
  });
}

export function stock(): StockRecord[] {
  const rand = mulberry32(3);
  return products().map((p) => ({
    sku: p.sku,
    variant: p.variant,
    quantity: rand() < 0.2 ? 0 : Math.floor(rand() * 500),
  }));
}

export function reviews(): ReviewRecord[] {
  const rand = mulberry32(4);
  return Array.from({ length: REVIEW_COUNT }, (_, i) => ({
    id: String(i + 1),
    body: reviewPhrases[Math.floor(rand() * reviewPhrases.length)]!,
    rating: 1 + Math.floor(rand() * 5),
    authorId: String(1 + (i % USER_COUNT)),
    productUpc: String(1 + ((i * 7) % PRODUCT_COUNT)),
  }));
}
