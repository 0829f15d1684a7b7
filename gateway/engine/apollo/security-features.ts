/**
 * Apollo's gateway refuses any supergraph that links a `for: SECURITY` feature it does not
 * implement, which includes @authenticated, @requiresScopes and @policy (only Apollo Router
 * enforces them). Tessera enforces those three in its authorization policy, so the purpose is
 * dropped from their `@link` before the SDL reaches the planner; any other unknown SECURITY
 * feature still fails the load.
 */
const enforcedByTessera =
  /(@link\(\s*url:\s*"https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v\d+\.\d+")\s*,\s*for:\s*SECURITY/g;

export function supergraphForPlanner(sdl: string): string {
  return sdl.replace(enforcedByTessera, '$1');
}
