#!/usr/bin/env node
// Validates report.json files against schemas/report-1.schema.json with ajv
// (JSON Schema 2020-12, formats checked). Prints one line per file and every
// violation with its JSON Pointer; exits 1 if any file is invalid.
// Usage: node tests/tools/validate_report.js REPORT.json...   (COLDSEC_NPM: node_modules with ajv)
'use strict';
const fs = require('fs');
const path = require('path');

const npm = process.env.COLDSEC_NPM || path.join(process.cwd(), 'build', 'npm', 'node_modules');
const Ajv2020 = require(path.join(npm, 'ajv', 'dist', '2020')).default;
const addFormats = require(path.join(npm, 'ajv-formats')).default;

const schemaPath = path.join(__dirname, '..', '..', 'schemas', 'report-1.schema.json');
const ajv = new Ajv2020({allErrors: true, strict: true, strictRequired: false});
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));

let bad = 0;
for (const file of process.argv.slice(2)) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(`${file}: not JSON: ${e.message}`);
    bad++;
    continue;
  }
  if (validate(doc)) {
    console.log(`${file}: valid`);
  } else {
    bad++;
    console.log(`${file}: ${validate.errors.length} violation(s)`);
    for (const e of validate.errors.slice(0, 50))
      console.log(`  ${e.instancePath || '/'}: ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`);
  }
}
if (process.argv.length < 3) {
  console.log('usage: validate_report.js REPORT.json...');
  bad = 1;
}
process.exit(bad ? 1 : 0);
