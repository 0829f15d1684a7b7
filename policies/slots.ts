import { slot } from './policy.ts';

/** Per-request data one policy leaves for another, through the request context's typed slots. */

/** The cost policy's estimate; the rate limiter spends it (1 per request when no cost policy runs). */
export const estimatedCost = slot<number>('cost.estimated');
