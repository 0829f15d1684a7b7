// Runs before anything that needs Node 24, so it is plain JavaScript that Node 14 can parse: no
// TypeScript, no top-level await, no `node:` import prefixes. A test runs it with an older Node.

/** The oldest Node major Tessera runs on: package.json `engines` and `.nvmrc` say the same (tested). */
export const requiredMajor = 24;

/**
 * True when this Node is new enough. Otherwise prints ONE line (what is needed, what is running,
 * how to get it), sets exit code 1 and returns false: `rerun` is the command that would run the
 * same thing on a downloaded Node 24 without installing anything.
 */
export function nodeIsSupported(rerun) {
  const running = process.versions.node;
  if (Number(running.split('.')[0]) >= requiredMajor) return true;
  process.stderr.write(
    'tessera needs Node.js ' +
      requiredMajor +
      ' or newer, but this is Node.js ' +
      running +
      ' (' +
      process.execPath +
      '). ' +
      'Install it with `nvm install ' +
      requiredMajor +
      '` (https://github.com/nvm-sh/nvm), or run once without installing: `' +
      rerun +
      '`\n',
  );
  process.exitCode = 1;
  return false;
}
