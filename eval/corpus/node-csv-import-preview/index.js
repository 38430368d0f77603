'use strict';
// csv-import-preview: parses an uploaded CSV and returns a column profile for the import wizard.

const crypto = require('crypto');

const PREVIEW_ROWS = 5;

function splitCsvLine(line, delimiter) {
  const cells = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      // Quoted cell: collect segments between doubled quotes.
      const parts = [];
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q === -1) { parts.push(line.slice(j)); i = line.length + 1; break; }
        parts.push(line.slice(j, q));
        if (line[q + 1] === '"') { parts.push('"'); j = q + 2; continue; }
        const next = line.indexOf(delimiter, q + 1);
        i = next === -1 ? line.length + 1 : next + 1;
        break;
      }
      cells.push(parts.join(''));
    } else {
      const next = line.indexOf(delimiter, i);
      const end = next === -1 ? line.length : next;
      cells.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return cells;
}

function inferType(values) {
  let nums = 0, dates = 0, empty = 0;
  for (const v of values) {
    if (v === '') empty++;
    else if (!Number.isNaN(Number(v))) nums++;
    else if (!Number.isNaN(Date.parse(v))) dates++;
  }
  const filled = values.length - empty;
  if (filled === 0) return 'empty';
  if (nums === filled) return 'number';
  if (dates === filled) return 'date';
  return 'text';
}

function profile(text, delimiter, hasHeader) {
  // Normalise line endings and strip a BOM; each step is a full copy, which
  // is fine for the few-MB uploads the wizard accepts.
  const normalised = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = normalised.split('\n').filter((l) => l.length > 0);
  const rows = lines.map((l) => splitCsvLine(l, delimiter));
  const header = hasHeader && rows.length ? rows.shift() : (rows[0] || []).map((_, i) => `column_${i + 1}`);

  // Column-major copy for type inference and distinct counts.
  const columns = header.map((_, c) => rows.map((r) => (r[c] ?? '').trim()));
  const fingerprint = crypto.createHash('sha256').update(normalised).digest('hex');

  return {
    fingerprint,
    rowCount: rows.length,
    columns: header.map((name, c) => ({
      name: String(name).slice(0, 64),
      type: inferType(columns[c]),
      distinct: new Set(columns[c]).size,
      maxLength: columns[c].reduce((m, v) => Math.max(m, v.length), 0),
    })),
    preview: rows.slice(0, PREVIEW_ROWS).map((r) => r.map((v) => String(v).slice(0, 80))),
  };
}

exports.handler = async (event) => {
  const req = typeof event.body === 'string' ? JSON.parse(event.body) : event;
  const text = Buffer.from(String(req.content ?? ''), req.encoding === 'base64' ? 'base64' : 'utf8').toString('utf8');
  const delimiter = typeof req.delimiter === 'string' && req.delimiter.length === 1 ? req.delimiter : ',';

  const result = profile(text, delimiter, req.hasHeader !== false);
  return {
    statusCode: 200,
    body: JSON.stringify({ uploadId: req.uploadId, uploadedBy: req.uploadedBy, fileName: String(req.fileName ?? '').slice(0, 120), ...result }),
  };
};
