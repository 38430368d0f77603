'use strict';
// ledger-balance: returns an account's balance and postings for a date range.

const { Pool } = require('./db');

const pool = new Pool({
  host: process.env.DB_HOST || 'localhost',
  port: Number(process.env.DB_PORT || 5432),
  user: process.env.DB_USER || 'ledger',
  password: process.env.DB_PASSWORD,
  database: process.env.DB_NAME || 'ledger',
});

const SQL = `select account_id, posted_on, amount_cents
               from postings
              where account_id = $1 and posted_on between $2 and $3
           order by posted_on`;

exports.handler = async (event) => {
  const { accountId, from = '2025-01-01', to = '2025-12-31', requestedBy } = event;
  try {
    const { rows } = await pool.query(SQL, [accountId, from, to]);
    const balance = rows.reduce((s, r) => s + r.amountCents, 0);
    return {
      ok: true,
      accountId,
      requestedBy,
      range: { from, to },
      balanceCents: balance,
      postings: rows.map((r) => ({ posted: r.posted, amountCents: r.amountCents })),
    };
  } catch (err) {
    console.error('ledger query failed', err.code);
    return { ok: false, error: err.message, code: err.code || 'INTERNAL' };
  }
};
