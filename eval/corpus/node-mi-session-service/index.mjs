// session-service: answers "who am I" and the caller's open carts for the
// storefront. ES module on Lambda Managed Instances (nodejs22.x).
//
// The service object is built once per worker and reused: it holds the
// HTTP keep-alive agent and the session store client.

import { SessionStore } from './store.mjs';

class CartService {
  constructor(store) {
    this.store = store;
    this.session = null;
  }

  async authenticate(token) {
    this.session = await this.store.lookup(token);
    return this.session;
  }

  async openCarts() {
    const carts = await this.store.carts(this.session.customerId);
    return carts.map((c) => ({ ...c, owner: this.session.customerId, email: this.session.email }));
  }
}

const service = new CartService(new SessionStore());

export const handler = async (event) => {
  const token = event.headers?.authorization?.replace(/^Bearer\s+/i, '');
  if (!token) return { statusCode: 401, body: JSON.stringify({ message: 'missing bearer token' }) };
  await service.authenticate(token);
  const carts = await service.openCarts();
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: service.session.customerId, email: service.session.email, carts }),
  };
};
