// Not type-checked with the project (tsconfig "exclude"): graphql-yoga augments graphql's
// GraphQLErrorExtensions globally (http.headers as a plain record), which clashes with Apollo's HeaderMap.
// Hive Gateway on the same supergraph, with its defaults, served by node:http. With HIVE_RUNTIME=router
// it plans and executes with Hive Router's runtime (the Rust query planner, @graphql-hive/router-runtime),
// wired as Hive Gateway's docs say: the `unifiedGraphHandler` option of the gateway config
// (the-guild.dev/graphql/hive/docs/gateway/other-features/rust-query-planner).
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway';

const router = process.env['HIVE_RUNTIME'] === 'router';
const gateway = createGatewayRuntime({
  supergraph: process.env['SUPERGRAPH_FILE']!,
  logging: false,
  ...(router ? { unifiedGraphHandler: (await import('@graphql-hive/router-runtime')).unifiedGraphHandler } : {}),
});
const server = createServer(gateway);
server.listen(Number(process.env['PORT'] ?? 4200), '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${process.env['PORT'] ?? 4200}/graphql`, router })}\n`,
  );
});
