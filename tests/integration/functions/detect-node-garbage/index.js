// detect-node-garbage: the detection tests' busy-but-clean Node handler
// (issue 12). Each request's document is copied, normalised and serialised
// into several temporary strings (a few MB for a 1 MB document) and all of
// it dropped: nothing is kept, so the environment never runs out of memory
// however many requests come, although Max Memory Used climbs while V8
// collects lazily.
'use strict';

exports.handler = async (event) => {
  const text = String(event.document || '');
  const upper = text.toUpperCase();
  const lower = text.toLowerCase();
  const copy = JSON.parse(JSON.stringify({ text, upper, lower }));
  return { user: event.user_id, characters: copy.text.length, lines: upper.split('\n').length };
};
