// Session cookie handling for the account portal. The edge authoriser has
// already checked the signature; here we only read the account handle.

export function parseCookies(event) {
  const jar = {};
  const list = Array.isArray(event.cookies) ? event.cookies : [];
  const header = event.headers?.cookie;
  const parts = header ? list.concat(header.split(';')) : list;
  for (const part of parts) {
    const idx = part.indexOf('=');
    if (idx <= 0) continue;
    const name = part.slice(0, idx).trim();
    const value = part.slice(idx + 1).trim();
    if (!(name in jar)) jar[name] = decodeURIComponent(value);
  }
  return jar;
}

export function accountFromSession(event) {
  const cookies = parseCookies(event);
  const handle = cookies.acct_session;
  if (!handle || handle.length > 256) return null;
  return { accountId: handle, locale: cookies.lang || 'en-GB' };
}
