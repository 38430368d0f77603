// Session and cart lookups. The real store is ElastiCache; this one derives
// a customer from the token (the token is the customer's handle in the
// test stage) and answers after a cache round trip.

const pause = () => new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 30)));

export class SessionStore {
  async lookup(token) {
    await pause();
    return { customerId: token, email: `${token.toLowerCase()}@customers.example.com` };
  }

  async carts(customerId) {
    await pause();
    return [{ cartId: `cart-${customerId.length}`, items: 2, total: '31.40' }];
  }
}
