'use strict';
// Stand-in for the DynamoDB table: a per-member record, with the latency a
// GetItem/PutItem has from a Managed Instance (a few tens of ms).

const items = new Map();

function latency() {
  return new Promise((resolve) => setTimeout(resolve, 15 + Math.floor(Math.random() * 25)));
}

exports.load = async (memberId) => {
  await latency();
  const it = items.get(memberId);
  return it ? { ...it } : { display_name: 'New member', bio: '' };
};

exports.save = async (memberId, profile) => {
  await latency();
  items.set(memberId, { ...profile });
};
