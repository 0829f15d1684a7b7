// The baseline: what a team runs without Tessera. Plain @apollo/gateway + @apollo/server with
// their defaults (standalone server, default fetcher). No Tessera code is imported here.
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const supergraphSdl = readFileSync(process.env['SUPERGRAPH_FILE']!, 'utf8');
const server = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl }) });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env['PORT'] ?? 4100), host: '127.0.0.1' },
});
process.stdout.write(`${JSON.stringify({ msg: 'listening', url })}\n`);
