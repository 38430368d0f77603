// shipping-label: renders a ZPL label for a shipment and returns it base64-encoded.
import { randomUUID, createHash } from 'node:crypto';
import { writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelZpl } from './zpl.mjs';

const SERVICES = new Set(['STANDARD', 'EXPRESS', 'OVERNIGHT']);

// The label printer bridge (a CLI in the real layer) works on files, so the
// label goes through /tmp: one uniquely named working set per invocation.
async function renderViaFiles(shipment) {
  const id = randomUUID();
  const zplPath = join(tmpdir(), `label-${id}.zpl`);
  const metaPath = join(tmpdir(), `label-${id}.json`);
  try {
    await writeFile(zplPath, labelZpl(shipment), { mode: 0o600 });
    await writeFile(metaPath, JSON.stringify({ shipmentId: shipment.shipmentId, createdAt: Date.now() }), { mode: 0o600 });
    // bridge.convert(zplPath) would run here; it leaves the output in place.
    const data = await readFile(zplPath);
    return { data, sha256: createHash('sha256').update(data).digest('hex') };
  } finally {
    await Promise.all([rm(zplPath, { force: true }), rm(metaPath, { force: true })]);
  }
}

export const handler = async (event) => {
  const req = typeof event?.body === 'string' ? JSON.parse(event.body) : event;
  const service = SERVICES.has(String(req.service).toUpperCase()) ? String(req.service).toUpperCase() : 'STANDARD';
  const shipment = { ...req, service };

  const { data, sha256 } = await renderViaFiles(shipment);
  return {
    statusCode: 200,
    body: JSON.stringify({
      shipmentId: req.shipmentId,
      requestedBy: req.requestedBy,
      format: 'zpl',
      sha256,
      label: data.toString('base64'),
    }),
  };
};
