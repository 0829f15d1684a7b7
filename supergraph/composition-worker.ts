// Entry point of a composition worker process (see composition-pool.ts), forked with an IPC
// channel. It loads composition once, says `ready`, then answers one task per message; the pool
// never sends a second task before the first is answered, so replies need no ids.
import { checkProposal } from './check.ts';
import { composeSupergraph } from './compose.ts';
import { validateOperations } from './operations/manifest.ts';
import type { CompositionTask, WorkerReply } from './composition-pool.ts';

const send = (message: WorkerReply | 'ready') => process.send!(message);

process.on('message', (task: CompositionTask) => {
  run(task).then(
    (result) => send({ ok: true, result }),
    (err: Error) => send({ ok: false, error: err?.stack ?? String(err) }),
  );
});
// The registry is gone (or closed the channel): nothing will ask again.
process.on('disconnect', () => process.exit(0));
send('ready');

async function run(task: CompositionTask): Promise<unknown> {
  if (task.kind === 'check') return checkProposal(task.input);
  if (task.kind === 'validateOperations') {
    const current = composeSupergraph(task.subgraphs);
    // The variant's stored subgraphs composed when they were published.
    if (!current.ok) throw new Error('the current subgraphs of the variant do not compose');
    return validateOperations(current.apiSchema(), task.operations);
  }
  const composed = composeSupergraph(task.subgraphs);
  // Only data crosses back: the API schema getter stays here.
  return composed.ok
    ? { ok: true, supergraphSdl: composed.supergraphSdl, hints: composed.hints }
    : { ok: false, errors: composed.errors };
}
