// detect-merged-settings: the detection tests' merged-state leak (issue 12).
//
// Mail settings are kept in a module-level object and each request's
// settings are merged into it, so a field one caller sent stays for the next
// caller who leaves it out. A caller who sends every field overwrites it:
// only a request that omits (or empties) a field shows the leak.
'use strict';

const settings = { signature: '', reply_to: '' };

exports.handler = async (event) => {
  Object.assign(settings, event.settings || {});
  return {
    user: event.user_id,
    preview: `Hello,\n\n${event.message || ''}\n\n${settings.signature}`.trim(),
    reply_to: settings.reply_to || null,
  };
};
