// Not type-checked with the project (tsconfig "exclude"): graphql-yoga augments graphql's
// GraphQLErrorExtensions globally (http.headers as a plain record), which clashes with Apollo's HeaderMap.
// Hive Gateway on the same supergraph, with its defaults, served by node:http.
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway';

const gateway = createGatewayRuntime({ supergraph: process.env['SUPERGRAPH_FILE']!, logging: false });
const server = createServer(gateway);
server.listen(Number(process.env['PORT'] ?? 4200), '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${process.env['PORT'] ?? 4200}/graphql` })}\n`,
  );
});
