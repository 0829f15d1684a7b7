// First step of `npm test` and `npm run build`: one line naming the Node to get, instead of
// "Could not find test/**/*.test.ts" or a tsc crash. Plain JavaScript for the same reason as
// bin/require-node.js (`nvm install` with no version also works here: it reads .nvmrc).
import { nodeIsSupported, requiredMajor } from '../bin/require-node.js';

const script = process.env.npm_lifecycle_event || 'test';
nodeIsSupported('npx -y node@' + requiredMajor + ' "$(command -v npm)" run ' + script);
