// ZPL (Zebra printer) label layout for 4x6" shipping labels.

const esc = (s) => String(s ?? '').replace(/[\^~]/g, ' ').slice(0, 60);

export function labelZpl({ shipmentId, from, to, service, weightKg }) {
  return [
    '^XA',
    '^CF0,40',
    `^FO50,50^FD${esc(service)}^FS`,
    '^CF0,28',
    `^FO50,120^FDFROM: ${esc(from?.name)}^FS`,
    `^FO50,155^FD${esc(from?.street)}, ${esc(from?.city)}^FS`,
    `^FO50,230^FDTO: ${esc(to?.name)}^FS`,
    `^FO50,265^FD${esc(to?.street)}^FS`,
    `^FO50,300^FD${esc(to?.postcode)} ${esc(to?.city)} ${esc(to?.country)}^FS`,
    `^FO50,360^FDWeight: ${Number(weightKg) || 0} kg^FS`,
    `^BY3,2,120^FO50,420^BC^FD${esc(shipmentId)}^FS`,
    '^XZ',
  ].join('\n');
}
