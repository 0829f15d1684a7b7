/**
 * Where a code reaches someone, which decides how it travels:
 * - `request`: a gateway answer with no `data`, one error, and the entry's HTTP `status`;
 * - `field`: an error inside a 200 answer, next to partial `data`, at the path of what it nulled;
 * - `registry`: an answer of the registry's HTTP API, with its HTTP `status`;
 * - `startup`: a process that stops before serving (or keeps what it serves, on a reload);
 * - `cli`: a CLI command's error line and exit code.
 */
export type ErrorKind = 'request' | 'field' | 'registry' | 'startup' | 'cli';

type ErrorDefinition = { readonly description: string; readonly fix: string } & (
  | { readonly kind: 'request' | 'registry'; readonly status: number }
  | { readonly kind: 'field' | 'startup' | 'cli'; readonly status: null }
);

/**
 * The one catalog of error codes Tessera raises. The code is the public contract; clients match on
 * `extensions.code`, never on messages. `status` is the HTTP status of `request` and `registry`
 * codes, `null` for the others. docs/errors.md is generated from this object (`npm run docs`) and
 * test/contract/docs.test.ts fails when the two differ.
 */
export const errorCodes = {
  BAD_REQUEST: {
    kind: 'request',
    status: 400,
    description:
      'The HTTP request is not a valid GraphQL request (malformed JSON, missing or non-string `query`, bad `variables`).',
    fix: 'Send a JSON body with a string `query` and, optionally, an object `variables`.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    kind: 'request',
    status: 415,
    description: 'A POST body was sent with a content type other than `application/json`.',
    fix: 'Send `Content-Type: application/json`.',
  },
  METHOD_NOT_ALLOWED: {
    kind: 'request',
    status: 405,
    description: 'The HTTP method is not accepted on this path, or a mutation was sent with GET.',
    fix: 'Use POST (or GET for queries only).',
  },
  NOT_FOUND: {
    kind: 'request',
    status: 404,
    description: 'No endpoint at this path.',
    fix: 'GraphQL is served at /graphql; probes at /health and /ready.',
  },
  PAYLOAD_TOO_LARGE: {
    kind: 'request',
    status: 413,
    description:
      'The request body exceeds `server.bodyLimitBytes`; at the registry, also a subgraph SDL larger than `limits.maxSdlBytes` (refused while the body is read).',
    fix: 'Send a smaller request, or raise the limit.',
  },
  REQUEST_TIMEOUT: {
    kind: 'request',
    status: 408,
    description:
      'The request (headers and body) was not received within `server.requestTimeoutMs`, or its headers within `server.headersTimeoutMs`. The connection is closed.',
    fix: 'Send the whole request promptly; a client on a slow link can retry with a smaller body.',
  },
  HEADERS_TOO_LARGE: {
    kind: 'request',
    status: 431,
    description: "The request line and headers exceed Node's limit (16 KiB). The connection is closed.",
    fix: 'Send fewer or smaller headers (a long query belongs in a POST body, not a GET URL).',
  },
  NOT_ACCEPTABLE: {
    kind: 'request',
    status: 406,
    description: 'The `Accept` header accepts neither `application/json` nor `application/graphql-response+json`.',
    fix: 'Accept `application/graphql-response+json` or `application/json`.',
  },
  GRAPHQL_PARSE_FAILED: {
    kind: 'request',
    status: 400,
    description: 'The query is not syntactically valid GraphQL.',
    fix: 'Fix the query text at the reported location.',
  },
  GRAPHQL_VALIDATION_FAILED: {
    kind: 'request',
    status: 400,
    description: 'The query does not validate against the supergraph API schema (unknown field, wrong argument…).',
    fix: 'Check field and argument names against the schema.',
  },
  QUERY_PLANNING_FAILED: {
    kind: 'request',
    status: 400,
    description:
      "The operation validates against the API schema, but the query planner finds no way to resolve it in this supergraph: a selected field is reachable only behind a `resolvable: false` key or a non-resolvable `@interfaceObject`. Engine `tessera` only (the Apollo engine answers such a field with null and no error). The planner's reason goes to the log (`query planner could not plan the operation`), not to the client; the failure is kept for the generation, so repeating the operation costs no planning.",
    fix: 'Select the field through a root field of a subgraph that can resolve it, or make the key resolvable in the subgraph that declares the field.',
  },
  BAD_USER_INPUT: {
    kind: 'request',
    status: 400,
    description:
      'A variable value does not coerce to its declared type (wrong type, missing required value, unknown or missing input field, nested too deeply). The message is the coercion error.',
    fix: 'Send variables of the declared types.',
  },
  OPERATION_RESOLUTION_FAILURE: {
    kind: 'request',
    status: 400,
    description: 'The document has several operations and `operationName` does not pick exactly one.',
    fix: 'Send `operationName` naming one operation in the document.',
  },
  SUBSCRIPTIONS_NOT_SUPPORTED: {
    kind: 'request',
    status: 400,
    description:
      'The operation is a `subscription`; the gateway serves queries and mutations only. Nothing was sent to any subgraph.',
    fix: 'Poll with a query, or subscribe to the subgraph directly.',
  },
  PERSISTED_QUERY_NOT_SUPPORTED: {
    kind: 'request',
    status: 200,
    description:
      "Automatic persisted queries are turned off (`persistedOperations.apq.enabled: false`) and the request carried only a hash. Status 200 with `Cache-Control: private, no-cache, must-revalidate`, as Apollo Server answers it: Apollo's clients read this body, stop sending hashes and resend the full query, while older ones treat a 4xx as a network error and never fall back.",
    fix: 'Send the full query text (Apollo clients do so by themselves).',
  },
  PERSISTED_QUERY_NOT_FOUND: {
    kind: 'request',
    status: 200,
    description:
      "APQ: the hash in `extensions.persistedQuery.sha256Hash` is neither registered nor in a published manifest. Status 200 with `Cache-Control: private, no-cache, must-revalidate` (so no CDN keeps the miss), as Apollo's protocol and clients expect: the client resends the hash with the query text, which registers it.",
    fix: 'Resend the request with `query` and the same `extensions.persistedQuery` (Apollo clients do so by themselves).',
  },
  PERSISTED_QUERY_HASH_MISMATCH: {
    kind: 'request',
    status: 400,
    description:
      'APQ registration: `extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query` (lowercase hex of its UTF-8 bytes). Nothing was registered or run.',
    fix: 'Hash exactly the query text you send.',
  },
  PERSISTED_DOCUMENT_NOT_FOUND: {
    kind: 'request',
    status: 404,
    description:
      "`documentId` names no operation of a published manifest (trusted documents cannot be registered by clients, so this is final, as Apollo Router's 404 for an unknown persisted-query id).",
    fix: "Publish the client's manifest (`tessera operations publish`), or send an id from it.",
  },
  PERSISTED_QUERY_NOT_ALLOWED: {
    kind: 'request',
    status: 403,
    description:
      "`persistedOperations.mode: allowList`: the operation is free text that is in no published manifest, and the caller holds no bypass claim. 403, not 400: the request is well-formed and another caller (one with the bypass claim) may send the same text; the refusal is about who may run what, as Apollo Router's safelist answers it. Nothing was parsed or sent to any subgraph.",
    fix: "Send the operation's `documentId` (or its hash) from a published manifest, or publish the manifest that contains it.",
  },
  UNAUTHENTICATED: {
    kind: 'request',
    status: 401,
    description:
      'The bearer token is invalid (the message says why: expired, no `exp`, issued in the future, a `typ` not allowed, not yet valid, wrong issuer or audience, bad signature, disallowed algorithm, malformed, too large…), or a token is required and missing, or the operation needs an authenticated caller (reject mode, introspection); token refusals carry `WWW-Authenticate: Bearer`. Also an API key that is not in `policies.rateLimit.apiKeys`.',
    fix: 'Send a valid token from an accepted issuer in `Authorization: Bearer …`, or an API key that was issued to you.',
  },
  FORBIDDEN: {
    kind: 'request',
    status: 403,
    description:
      "Authorization in `reject` mode: the operation selects fields the caller's token does not allow; `extensions.unauthorizedPaths` lists them. Nothing was sent to any subgraph.",
    fix: 'Remove those fields or use a token with the required scopes or policies.',
  },
  AUTH_UNAVAILABLE: {
    kind: 'request',
    status: 503,
    description:
      "A token was sent but its issuer's JWKS could not be fetched and no keys are cached (IdP down or unreachable). Sent with `Retry-After`.",
    fix: "Retry later; check the gateway's `JWKS fetch failed` log lines.",
  },
  UNAUTHORIZED_FIELD_OR_TYPE: {
    kind: 'field',
    status: null,
    description:
      'Authorization in `filter` mode: this field (or its type) needs authentication, scopes or a policy the caller lacks. It is null (or its nearest nullable parent is), one error per path, `@` marking list items; the other fields are served and the field never reached a subgraph.',
    fix: "Use a token with the scopes or claims the field's `@authenticated`/`@requiresScopes`/`@policy` require.",
  },
  MAX_DEPTH_EXCEEDED: {
    kind: 'request',
    status: 400,
    description:
      'The operation nests fields deeper than `policies.operationLimits.maxDepth` (fragments expanded). Checked before planning.',
    fix: 'Flatten the query or raise the limit.',
  },
  MAX_ALIASES_EXCEEDED: {
    kind: 'request',
    status: 400,
    description: 'The operation uses more aliases than `policies.operationLimits.maxAliases`.',
    fix: 'Use fewer aliases (batch with list arguments instead).',
  },
  MAX_ROOT_FIELDS_EXCEEDED: {
    kind: 'request',
    status: 400,
    description: 'The operation selects more root fields than `policies.operationLimits.maxRootFields`.',
    fix: 'Split the operation.',
  },
  MAX_TOKENS_EXCEEDED: {
    kind: 'request',
    status: 400,
    description:
      'The document has more lexical tokens than `policies.operationLimits.maxTokens`; the parser stopped at the limit.',
    fix: 'Send a smaller document.',
  },
  MAX_DIRECTIVES_EXCEEDED: {
    kind: 'request',
    status: 400,
    description: 'A field carries more directives than `policies.operationLimits.maxDirectivesPerField`.',
    fix: 'Remove repeated directives.',
  },
  MAX_EXPANDED_FIELDS_EXCEEDED: {
    kind: 'request',
    status: 400,
    description:
      'The operation selects more fields than `policies.operationLimits.maxExpandedFields` once every fragment spread is expanded (counted without expanding: a fragment spread twice counts twice). `extensions` has `expandedFields` and `max`.',
    fix: 'Spread each fragment once per selection, or select fewer fields.',
  },
  COST_ESTIMATED_TOO_EXPENSIVE: {
    kind: 'request',
    status: 400,
    description:
      "The operation's static cost estimate exceeds `policies.cost.maxCost`; `extensions.cost` has `estimated` and `max`. No subgraph was called.",
    fix: 'Ask for smaller pages (`first:`) or fewer nested lists.',
  },
  INVALID_SLICING_ARGUMENT: {
    kind: 'request',
    status: 400,
    description:
      "A slicing argument of a `@listSize` field (e.g. `first:`) is negative or null, so the list's size, and the operation's cost, cannot be known. No subgraph was called.",
    fix: 'Pass a non-negative page size, or leave the argument out to get its default.',
  },
  RATE_LIMITED: {
    kind: 'request',
    status: 429,
    description:
      "The caller's cost (or request) budget for the window is spent. Sent with `Retry-After`, `RateLimit-Policy` and `RateLimit` headers.",
    fix: 'Wait `Retry-After` seconds, send cheaper operations, or move to a larger tier.',
  },
  RATE_LIMIT_UNAVAILABLE: {
    kind: 'request',
    status: 503,
    description:
      'Rate limits use Redis, Redis is unreachable and `policies.rateLimit.failureMode` is `closed`. Sent with `Retry-After`.',
    fix: 'Retry shortly; check Redis. With `failureMode: open` requests are admitted instead.',
  },
  SUBGRAPH_RATE_LIMITED: {
    kind: 'field',
    status: null,
    description:
      "The gateway's own request-rate limit for this subgraph (`subgraphs.<name>.rateLimit`) is reached; no request was sent and its fields are null.",
    fix: 'Lower traffic to that subgraph or raise its limit.',
  },
  SUBGRAPH_UNAVAILABLE: {
    kind: 'field',
    status: null,
    description:
      'A subgraph could not be reached (connection refused or reset, DNS or TLS failure). Its fields are null; other fields are served.',
    fix: 'Check the subgraph named in `extensions.serviceName`; the gateway logs the cause.',
  },
  SUBGRAPH_TIMEOUT: {
    kind: 'field',
    status: null,
    description: 'A subgraph did not answer within its timeout. Its fields are null; other fields are served.',
    fix: "Check the subgraph's latency or raise `subgraphs.<name>.timeoutMs`.",
  },
  SUBGRAPH_CIRCUIT_OPEN: {
    kind: 'field',
    status: null,
    description:
      'The subgraph failed often enough that its circuit breaker opened; its fields are null and no request was sent. A probe is let through after `breaker.resetTimeoutMs`.',
    fix: 'Check the subgraph named in `extensions.serviceName`; the breaker closes by itself once it recovers.',
  },
  SUBGRAPH_HTTP_ERROR: {
    kind: 'field',
    status: null,
    description:
      'A subgraph answered with a non-2xx HTTP status or a body that is not a GraphQL response; `extensions.status` carries the status.',
    fix: 'Check the subgraph named in `extensions.serviceName`.',
  },
  SUBGRAPH_RESPONSE_TOO_LARGE: {
    kind: 'field',
    status: null,
    description:
      "A subgraph's answer was larger than `subgraphs.<name>.maxResponseBytes` (default 16 MiB). The gateway stopped reading at the limit (or at once, from `Content-Length`) and did not retry; that subgraph's fields are null.",
    fix: "Ask for less (smaller pages) or raise the subgraph's `maxResponseBytes`.",
  },
  SUBGRAPH_INVALID_RESPONSE: {
    kind: 'field',
    status: null,
    description:
      "A subgraph answered with a value of the wrong shape for what the gateway asked (an object where a list or a scalar was expected, a string where an object was, null for a non-null field, `_entities` of the wrong length or with non-object items). That value is null at the nearest nullable position, with one error at the path of the bad value; the rest of the answer and the other subgraphs' fields are served.",
    fix: "Fix the subgraph named in `extensions.serviceName`; the gateway's `subgraph answer invalid` log line says what was expected.",
  },
  SUBGRAPH_FETCH_INTERNAL_ERROR: {
    kind: 'field',
    status: null,
    description:
      "The gateway's own code for one subgraph fetch failed: a plugin's `wrapSubgraphFetch` threw. Only that subgraph's fields are null; the other fields are served. When it threw before passing the request on, no request was sent.",
    fix: 'A gateway-side bug: the `subgraph request failed` log line has the stack of what threw.',
  },
  DOWNSTREAM_SERVICE_ERROR: {
    kind: 'field',
    status: null,
    description:
      'A subgraph returned a GraphQL error without a code of its own, or with `INTERNAL_SERVER_ERROR` (then with a generic message); `extensions.serviceName` names it. Subgraph errors that carry another code keep it. Only `message`, `path`, `code` and `serviceName` reach the client unless `subgraphs.<name>.errors` says otherwise.',
    fix: 'See the subgraph named in `extensions.serviceName`; the gateway logs the full error (`subgraph error details`).',
  },
  CONFIG_INVALID: {
    kind: 'startup',
    status: null,
    description:
      'Start-up only: the configuration file has unknown keys or wrong values. Each problem names its key path. Exit code 78.',
    fix: 'Correct the keys listed in the message.',
  },
  SUPERGRAPH_INVALID: {
    kind: 'startup',
    status: null,
    description:
      'A supergraph file could not be loaded (at start-up: exit code 1; on reload: the old supergraph keeps serving).',
    fix: 'Recompose the supergraph with `tessera compose`.',
  },
  COMPOSITION_FAILED: {
    kind: 'registry',
    status: 400,
    description:
      'The subgraphs do not compose. `tessera compose` and `tessera subgraph check` exit 1 (nothing written); a registry publish answers 400 with `errors` and changes nothing.',
    fix: 'Fix the errors listed per subgraph.',
  },
  COMPOSITION_TIMEOUT: {
    kind: 'registry',
    status: 503,
    description:
      'Registry API: composing the publish or check ran past `composition.timeoutMs`; the composition worker was stopped and nothing changed.',
    fix: 'Split very large subgraph schemas, or raise `composition.timeoutMs` in the registry config.',
  },
  COMPOSITION_OUT_OF_MEMORY: {
    kind: 'registry',
    status: 503,
    description:
      'Registry API: composing the publish or check needed more heap than `composition.maxHeapMb`; the composition worker was stopped and nothing changed.',
    fix: 'Split very large subgraph schemas, or raise `composition.maxHeapMb` in the registry config.',
  },
  OPERATIONS_INVALID: {
    kind: 'registry',
    status: 400,
    description:
      "Registry API: a published operation manifest is malformed, or some of its operations do not validate against the variant's current supergraph (`errors` lists each with its id, name and messages); nothing was stored. `tessera operations publish` exits 1.",
    fix: 'Regenerate the manifest from client code that matches the current schema.',
  },
  OPERATIONS_CONFLICT: {
    kind: 'registry',
    status: 409,
    description:
      'Registry API: the manifest reuses an operation id that a published manifest of this variant maps to another body, or republishes a client version with other operations. Published manifests never change, so a gateway never serves two documents under one id.',
    fix: 'Publish under a new client version, with content-addressed ids (the SHA-256 of the body, as Apollo and Relay tooling generate).',
  },
  BREAKING_CHANGE: {
    kind: 'cli',
    status: null,
    description:
      "CLI only: `tessera subgraph check` found breaking changes against the variant's API schema (used ones, with usage data), or a published operation (`tessera operations publish`) that would no longer validate (`BROKEN`, with its name and clients). Exit code 1.",
    fix: 'Keep the old field or argument (deprecate it first), or coordinate with the clients listed.',
  },
  STITCHED_SOURCE_INVALID: {
    kind: 'cli',
    status: null,
    description:
      'CLI only: a `kind: graphql` entry of supergraph.yaml does not fit its service (a `merge:` type, field or argument it lacks, a key field that is not a scalar, a directive that cannot be attached). `tessera compose`, `subgraph check` and `subgraph publish` exit 1; each problem names the subgraph and the config key.',
    fix: "Correct the named key of the entry's `merge:` or `directives:` (see docs/stitching.md).",
  },
  REGISTRY_UNAUTHENTICATED: {
    kind: 'registry',
    status: 401,
    description: 'Registry API: no bearer token, or one the registry does not know.',
    fix: 'Send `Authorization: Bearer <token>` (CLI: `TESSERA_REGISTRY_TOKEN`).',
  },
  REGISTRY_FORBIDDEN: {
    kind: 'registry',
    status: 403,
    description: 'Registry API: the token lacks the permission (`read`, `check`, `publish`) for this graph.',
    fix: 'Use a token configured with that permission for the graph.',
  },
  REGISTRY_NOT_FOUND: {
    kind: 'registry',
    status: 404,
    description: 'Registry API: the variant has nothing published yet, or the version does not exist.',
    fix: 'Publish a subgraph first, or list versions with `GET …/versions`.',
  },
  REGISTRY_BUSY: {
    kind: 'registry',
    status: 503,
    description:
      'Registry API: more publishes and checks are already waiting for composition than `composition.maxPending`; this one was refused before any work (`Retry-After` is set).',
    fix: 'Retry shortly; publish subgraphs one after another rather than all at once.',
  },
  REGISTRY_UNAVAILABLE: {
    kind: 'cli',
    status: null,
    description:
      'The registry cannot be reached. The CLI exits 2; a gateway keeps its current supergraph (at start-up, its last good copy in `supergraph.registry.cacheFile`).',
    fix: 'Check the registry URL and that it is running.',
  },
  SHUTTING_DOWN: {
    kind: 'request',
    status: 503,
    description:
      'The request reached the gateway after its drain ended. (While it drains, requests on open connections are still served, with `Connection: close`; new connections are refused.)',
    fix: 'Retry against another replica.',
  },
  INTERNAL_SERVER_ERROR: {
    kind: 'request',
    status: 500,
    description:
      'An unexpected failure inside the gateway. The message is masked; the log line with the same request id has the cause.',
    fix: 'Report it with the `x-request-id` response header.',
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCodes;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorCodes, code);
}
