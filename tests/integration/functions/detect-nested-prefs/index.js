// detect-nested-prefs: the detection tests' nested pollution (issue 12).
//
// An HTTP API handler merges the body's `prefs` into the defaults with a
// hand-written recursive merge that does not skip "__proto__", and copies the
// result key by key (for...in, which walks the prototype too). The merge is
// reached only inside the JSON string body, one object below its top.
'use strict';

const DEFAULTS = { theme: 'light', locale: 'en' };

function merge(target, source) {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      if (!target[key] || typeof target[key] !== 'object') target[key] = {};
      merge(target[key], value);
    } else {
      target[key] = value;
    }
  }
  return target;
}

function view(prefs) {
  const out = {};
  for (const key in prefs) out[key] = prefs[key];
  return out;
}

exports.handler = async (event) => {
  let body = {};
  try {
    body = JSON.parse(event.body || '{}');
  } catch (e) {
    return { statusCode: 400, body: JSON.stringify({ error: 'bad json' }) };
  }
  const prefs = merge(merge({}, DEFAULTS), body.prefs || {});
  return { statusCode: 200, body: JSON.stringify({ user: body.user_id, prefs: view(prefs) }) };
};
