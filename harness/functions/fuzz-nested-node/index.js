// fuzz-nested-node: fuzz-nested-python's logic in Node 20 (CommonJS, handler
// `index.handler`), the target of the Jazzer.js comparison (bench/jazzer/).
//
// An order handler with careful validation plus an "admin override" path with
// a planted crash at its end: process.exit(3) (the environment dies, the lab
// reports Runtime.ExitError "exit status 3") needs four conditions at once:
//   1. item === "admin"
//   2. quantity > 1000             (e.g. 1001, or the edge value 4294967296)
//   3. user_id starts with "root"  (e.g. "root", "rootu-1")
//   4. a "note" key whose value is a string containing "!!"
// Each satisfied condition executes statements the previous ones did not
// (level 4 has a step of its own: "note" present as a string), so a fuzzer
// with coverage feedback climbs one level per mutation given dictionary
// material ("admin", "root", "note", "!!"). Three of four answer normally.
// Answers are the Python twin's, field for field.
//
// Trigger:  {"user_id": "root", "item": "admin", "quantity": 1001, "note": "!!"}
// Baseline: {"user_id": "u-1", "item": "book", "quantity": 1} -> 200
'use strict';

const USER_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ITEM_RE = /^[A-Za-z0-9 _-]{1,64}$/;
const PRICE_CENTS = 1299;
const MAX_QUANTITY = 1000;

function bad(message) {
  return { statusCode: 400, error: message };
}

function adminOrder(event, userId, quantity) {
  // Levels 2-4, one statement per step (see the header).
  let level = 1;
  if (quantity > MAX_QUANTITY) {
    level = 2;
    if (userId.startsWith('root')) {
      level = 3;
      const note = event.note;
      if (typeof note === 'string') {
        level = 3.5;
        if (note.includes('!!')) {
          // The planted crash: the "emergency restock" path ends the
          // runtime process, as a native abort would.
          process.exit(3);
        }
      }
    }
  }
  return { statusCode: 200, admin: true, level };
}

exports.handler = async (event, context) => {
  // Arrays are objects in JS: exclude them as the Python twin's dict check does.
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    return bad('the event must be a JSON object');
  }
  for (const key of ['user_id', 'item', 'quantity']) {
    // own keys only: "constructor" or "__proto__" must not count as present
    if (!Object.prototype.hasOwnProperty.call(event, key)) return bad(`${key} is required`);
  }
  const { user_id: userId, item, quantity } = event;
  if (typeof userId !== 'string' || !USER_RE.test(userId)) {
    return bad("user_id must be 1-64 letters, digits, '_' or '-'");
  }
  if (typeof item !== 'string' || !ITEM_RE.test(item)) {
    return bad("item must be 1-64 letters, digits, spaces, '_' or '-'");
  }
  if (!Number.isInteger(quantity)) return bad('quantity must be an integer');
  if (quantity < 1 || quantity > Number.MAX_SAFE_INTEGER + 1) {
    return bad('quantity must be a positive safe integer');
  }
  if (item === 'admin') return adminOrder(event, userId, quantity);
  if (quantity > MAX_QUANTITY) return bad(`quantity must be between 1 and ${MAX_QUANTITY}`);
  return {
    statusCode: 200,
    order: { user_id: userId, item, quantity, total_cents: quantity * PRICE_CENTS },
  };
};
