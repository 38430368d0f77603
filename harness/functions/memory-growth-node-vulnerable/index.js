// VULNERABLE on purpose: memory that grows with every warm invocation.
//
// Seed 000 (cold-start security article, "Memory Retention Between
// Invocations") and seed 001 ("In-memory data": global variables persist
// across invocations): every document is appended to a module-level array
// and never released, so the environment's memory grows until Lambda kills
// it at the function's memory size (Runtime.OutOfMemory), and every earlier
// caller's document stays readable in the meantime.
//
// Event:    {user_id, document}   (documents of about 256 KB)
// Response: {ok: true, kept: number of documents held}
'use strict';

const history = [];

exports.handler = async (event, context) => {
  // Buffer.from copies: the array holds its own bytes, outside V8's heap,
  // not a slice of a string the runtime could be sharing.
  history.push(Buffer.from(String(event.document), 'utf8'));
  return { ok: true, kept: history.length };
};
