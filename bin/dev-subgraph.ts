import { runSubgraph } from '../subgraphs/main.ts';

/**
 * One example subgraph under `tessera dev`. The dev process starts it with an IPC channel, and the
 * kernel closes that channel when the dev process dies, whatever killed it (SIGKILL included):
 * then this process stops too, so no subgraph outlives `npm start`.
 */
process.channel?.unref(); // the channel alone must not keep the process alive
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));

const [name, port] = process.argv.slice(2);
try {
  const code = await runSubgraph(name, {
    port: port === undefined ? undefined : Number(port),
    host: process.env['HOST'],
    admin: process.env['TESSERA_SUBGRAPH_ADMIN'] === '1',
  });
  if (code >= 0) process.exitCode = code;
} catch (err) {
  // The dev process checked the port a moment ago; another process took it since.
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(
    e.code === 'EADDRINUSE'
      ? `tessera dev: port ${port} (the ${name} subgraph) is already in use\n`
      : `${e.stack ?? String(err)}\n`,
  );
  process.exitCode = 1;
}
