// HARDENED twin of memory-growth-node-vulnerable.
//
// Follows seed 000's "Memory Cleanup" (drop the request's data, then
// gc.collect() in a finally block) and seed 001 ("In-memory data": clear
// sensitive variables as soon as they are no longer needed): the document is
// processed (its words are counted), nothing of it is kept at module level,
// and a full collection runs after every invocation.
//
// Event:    {user_id, document}   (documents of about 256 KB)
// Response: {ok: true, kept: 0, words: number of words in the document}
'use strict';

const v8 = require('v8');
const vm = require('vm');

// Node's counterpart of Python's gc.collect(). Without it V8 lets garbage
// documents pile up until its own heap heuristics kick in, and the memory
// curve of a function that keeps nothing still climbs for dozens of calls.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');

function countWords(text) {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 0x20 || (c >= 0x09 && c <= 0x0d);
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

exports.handler = async (event, context) => {
  try {
    return { ok: true, kept: 0, words: countWords(String(event.document)) };
  } finally {
    collect();
  }
};
