/**
 * Graph and variant names as the API routes accept them; a token for any other name could never
 * match. Its own module so the CLI can check names without loading the config schema.
 */
export const registryName = /^[A-Za-z0-9_-]{1,64}$/;

export const permissions = ['read', 'check', 'publish'] as const;
export type Permission = (typeof permissions)[number];
