// Price list and tax rules for checkout quotes.

export const PRICE_LIST = {
  'SKU-1001': { name: 'Espresso beans 1kg', cents: 2490 },
  'SKU-1002': { name: 'Filter papers x100', cents: 450 },
  'SKU-2001': { name: 'Burr grinder', cents: 12900 },
  'SKU-3005': { name: 'Travel mug', cents: 1850 },
};

const VAT = { GB: 0.2, DE: 0.19, FR: 0.2, IE: 0.23, US: 0 };

export function lineTotal(line) {
  const item = PRICE_LIST[line.sku];
  if (!item) return null;
  const qty = Math.max(1, Math.min(99, Number.parseInt(line.qty, 10) || 1));
  return { sku: line.sku, name: item.name, qty, cents: item.cents * qty };
}

export function taxFor(country, cents) {
  const rate = VAT[country] ?? 0.2;
  return Math.round(cents * rate);
}
