'use strict';
// Minimal stand-in for our pg wrapper: same interface (query(text, params)),
// answers from an in-memory ledger so the function can run without a database.

const LEDGER = [
  { account: 'ACC-1001', posted: '2025-01-03', amountCents: 125000 },
  { account: 'ACC-1001', posted: '2025-01-17', amountCents: -43050 },
  { account: 'ACC-1001', posted: '2025-02-02', amountCents: 9900 },
  { account: 'ACC-2040', posted: '2025-01-09', amountCents: 500000 },
  { account: 'ACC-2040', posted: '2025-02-11', amountCents: -120000 },
];

class QueryError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'QueryError';
    this.code = code;
  }
}

function assertDate(v) {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new QueryError(`invalid input syntax for type date: "${v}"`, '22007');
  }
}

class Pool {
  constructor({ host, port, user, password, database }) {
    this.connectionString = `postgres://${user}:${password}@${host}:${port}/${database}`;
    this.host = host;
  }

  async query(text, params) {
    try {
      const [account, from, to] = params;
      if (typeof account !== 'string' || !/^ACC-\d{4}$/.test(account)) {
        throw new QueryError(`invalid input value for account_id: "${account}"`, '22P02');
      }
      assertDate(from);
      assertDate(to);
      const rows = LEDGER.filter((r) => r.account === account && r.posted >= from && r.posted <= to);
      return { rows, rowCount: rows.length };
    } catch (err) {
      // Keep enough context to tell replicas apart in the logs.
      err.message = `query failed on ${this.connectionString}: ${err.message}`;
      throw err;
    }
  }
}

module.exports = { Pool, QueryError };
