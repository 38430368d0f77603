'use strict';
// Settings table stand-in with the latency of a DynamoDB query.

const wait = () => new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 25)));

exports.tenantDefaults = async (tenant) => {
  await wait();
  return { theme: tenant === 'acme' ? 'dark' : 'light', timezone: 'Europe/London', weekStart: 'monday' };
};

exports.userOverrides = async (tenant, user) => {
  await wait();
  return { notifications: user.length % 2 === 0 ? 'daily' : 'weekly' };
};
