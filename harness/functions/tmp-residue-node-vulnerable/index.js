// VULNERABLE on purpose: /tmp residue shared across invocations.
//
// Seed 000 (cold-start security article, "Temp files not cleaned up") and
// seed 001 ("Filesystem": /tmp is not encrypted and is shared across
// invocations in the same execution environment). Every upload is left
// behind as /tmp/upload-<time>-<random>, and the export file is named after
// the report alone, so a later caller's preview shows earlier callers' rows.
// Nothing is ever removed, so the function's ephemeral storage fills up;
// write errors are not handled, and ENOSPC reaches the caller as
// "ENOSPC: no space left on device, write".
//
// Event:    {user_id, report_name, rows}
// Response: {report: name, bytes: size of /tmp/export-<name>.csv,
//           preview: its first 2048 bytes}
// <name> is report_name with characters outside [A-Za-z0-9_-] replaced by
// "_", cut at 64. Paths are under os.tmpdir(): /tmp in the sandbox, the
// environment's private TMPDIR in the lab's unsandboxed fallback.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

function readPreview(file, size) {
  const buf = Buffer.alloc(Math.min(size, 2048));
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, buf, 0, buf.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  return buf.toString('utf8');
}

exports.handler = async (event, context) => {
  const rows = String(event.rows);
  const name = String(event.report_name).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const tmp = os.tmpdir();
  fs.writeFileSync(path.join(tmp, `upload-${Date.now()}-${crypto.randomBytes(6).toString('hex')}`), rows);
  const exportFile = path.join(tmp, `export-${name}.csv`);
  fs.appendFileSync(exportFile, `${rows}\n`);
  const size = fs.statSync(exportFile).size;
  return { report: name, bytes: size, preview: readPreview(exportFile, size) };
};
