// Page payloads for the account portal SPA.

const PLANS = ['starter', 'team', 'business'];

function hashCode(s) {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

export function overview(account) {
  return {
    page: 'overview',
    accountId: account.accountId,
    title: `Account ${account.accountId}`,
    plan: PLANS[hashCode(account.accountId) % PLANS.length],
    openInvoices: hashCode(`${account.accountId}:inv`) % 4,
    locale: account.locale,
  };
}

export function billing(account) {
  return {
    page: 'billing',
    accountId: account.accountId,
    paymentMethod: { brand: 'visa', last4: String(1000 + (hashCode(account.accountId) % 9000)) },
    nextChargeDate: '2025-04-01',
  };
}

export function security(account) {
  return {
    page: 'security',
    accountId: account.accountId,
    mfaEnabled: hashCode(account.accountId) % 2 === 0,
    lastLogin: new Date(Date.now() - 3600_000).toISOString(),
  };
}
