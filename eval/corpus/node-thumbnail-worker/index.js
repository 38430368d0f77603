// Thumbnail worker behind an HTTP API: the original upload is spooled to
// /tmp so the resizer can stream it, and the answer carries the job id and
// the checksum the client shows while the thumbnail is generated.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SPOOL = path.join(os.tmpdir(), 'thumb-spool');

function spool(jobId, buf, ext) {
  fs.mkdirSync(SPOOL, { recursive: true });
  const file = path.join(SPOOL, `${jobId}${ext}`);
  fs.writeFileSync(file, buf);
  return file;
}

exports.handler = async (event) => {
  let req;
  try {
    req = JSON.parse(event.body || '{}');
  } catch (err) {
    return { statusCode: 400, body: JSON.stringify({ message: 'invalid JSON' }) };
  }
  const image = Buffer.from(String(req.image || ''), 'base64');
  if (image.length === 0) {
    return { statusCode: 422, body: JSON.stringify({ message: 'image is required' }) };
  }
  const jobId = crypto.randomUUID();
  const ext = path.extname(String(req.name || '')).slice(0, 8) || '.bin';
  const file = spool(jobId, image, ext);
  // the resizer runs from a queue and reads the spooled file by path
  return {
    statusCode: 202,
    body: JSON.stringify({ jobId, size: image.length, sha1: crypto.createHash('sha1').update(image).digest('hex'),
                           spooled: path.basename(file), sizes: req.sizes || [128, 512] }),
  };
};
