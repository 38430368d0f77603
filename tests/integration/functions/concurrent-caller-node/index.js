// concurrent-caller-node: test_concurrent_state's vulnerable handler. It
// keeps the caller in module-level variables, sets them, awaits, and reads
// them back: harmless where one environment serves one request at a time
// (classic Lambda), a leak where it serves several at once (Managed
// Instances: requests on one worker share module state across an await).
'use strict';

let caller = null;
let note = null;

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

exports.handler = async (event) => {
  caller = event.user_id;
  note = event.note;
  await pause(30);
  return { greeting: `hello ${caller}`, note };
};
