// hello-node-esm: the hello function as an ES module (handler `index.handler`),
// to exercise the runtime's ESM loading (dynamic import()). Same answer shape
// as hello-node: env_id drawn once per environment, invocation count in module
// state.
import { randomBytes } from 'node:crypto';

const ENV_ID = randomBytes(8).toString('hex');
let count = 0;

export const handler = async (event, context) => {
  count += 1;
  return {
    message: process.env.GREETING || 'hello',
    runtime: 'node',
    env_id: ENV_ID,
    invocation: count,
    cold: count === 1,
  };
};
