// concurrent-caller-node-als: the hardened twin of concurrent-caller-node.
// The same handler with the caller kept in AsyncLocalStorage: each request
// reads back its own store after the await, however many run at once.
'use strict';

const { AsyncLocalStorage } = require('async_hooks');

const request = new AsyncLocalStorage();
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

exports.handler = async (event) =>
  request.run({ caller: event.user_id, note: event.note }, async () => {
    await pause(30);
    const { caller, note } = request.getStore();
    return { greeting: `hello ${caller}`, note };
  });
