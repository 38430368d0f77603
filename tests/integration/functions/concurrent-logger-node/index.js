// concurrent-logger-node: logs every request's own data (its caller and
// note) on its own request, before and after an await, and answers nothing
// of it. Several run at once in one environment, so each log tail holds
// other requests' lines too, each under its own requestId (the runtime's
// JSON log format): none of it is a leak, and coldsec must not say so.
'use strict';

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

exports.handler = async (event) => {
  console.log(`start for ${event.user_id}: ${event.note}`);
  await pause(30);
  console.log(`done for ${event.user_id}: ${event.note}`);
  return { ok: true };
};
