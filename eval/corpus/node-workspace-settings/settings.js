'use strict';
// Workspace settings model: defaults, validation and merging of partial updates.

const BLOCKED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 6;

const DEFAULTS = {
  editor: { tabSize: 2, wordWrap: true, theme: 'light' },
  sharing: { defaultVisibility: 'team', allowGuests: false },
  integrations: { slack: { enabled: false, channel: null }, github: { enabled: false } },
};

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// Recursive merge into null-prototype objects; keys that could reach a
// prototype are dropped rather than merged.
function mergeSettings(base, patch, depth = 0) {
  const out = Object.create(null);
  for (const key of Object.keys(base)) {
    out[key] = isObject(base[key]) ? mergeSettings(base[key], {}, depth + 1) : base[key];
  }
  if (!isObject(patch) || depth > MAX_DEPTH) return out;
  for (const key of Object.keys(patch)) {
    if (BLOCKED_KEYS.has(key)) continue;
    const value = patch[key];
    if (isObject(value)) {
      out[key] = mergeSettings(isObject(out[key]) ? out[key] : {}, value, depth + 1);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function changedPaths(before, after, prefix = '') {
  const changed = [];
  for (const key in after) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isObject(after[key])) changed.push(...changedPaths(isObject(before?.[key]) ? before[key] : {}, after[key], path));
    else if (!before || before[key] !== after[key]) changed.push(path);
  }
  return changed;
}

module.exports = { DEFAULTS, mergeSettings, changedPaths, isObject };
