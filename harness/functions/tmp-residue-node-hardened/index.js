// HARDENED twin of tmp-residue-node-vulnerable.
//
// Follows seed 000's "Secure Temporary Files" and seed 001 ("Filesystem":
// securely delete temporary files as soon as they are no longer needed):
// each request works in its own fs.mkdtempSync() folder, removed with
// fs.rmSync(recursive) in a finally block, so nothing outlives the request,
// the preview shows this request's rows only and /tmp never fills up.
//
// Event:    {user_id, report_name, rows}
// Response: {report: name, bytes: size of this request's export,
//           preview: its first 2048 bytes}
// <name> is report_name with characters outside [A-Za-z0-9_-] replaced by
// "_", cut at 64.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

exports.handler = async (event, context) => {
  const rows = String(event.rows);
  const name = String(event.report_name).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'report-'));
  try {
    const exportFile = path.join(work, `export-${name}.csv`);
    fs.writeFileSync(exportFile, `${rows}\n`);
    const data = fs.readFileSync(exportFile);
    return { report: name, bytes: data.length, preview: data.subarray(0, 2048).toString('utf8') };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
};
