// Payments gateway client (stand-in with the same surface as the vendor SDK).

export class GatewayError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'GatewayError';
    this.status = status;
  }
}

const CAPTURES = {
  'ch_3Ox1': { amount: 4999, currency: 'eur' },
  'ch_3Ox2': { amount: 12900, currency: 'eur' },
  'ch_3Ox3': { amount: 1850, currency: 'gbp' },
};

export class PaymentsGateway {
  #apiKey;

  constructor(apiKey, { merchantId }) {
    this.#apiKey = apiKey;
    this.merchantId = merchantId;
  }

  authHeader() {
    return `Basic ${Buffer.from(`${this.#apiKey}:`).toString('base64')}`;
  }

  async refund(chargeId, amount, reason) {
    const charge = CAPTURES[chargeId];
    if (!this.#apiKey) throw new GatewayError('no API key configured', 401);
    if (!charge) {
      // The vendor echoes the request line, auth included, in its 404 text.
      throw new GatewayError(`POST /v1/refunds (Authorization: ${this.authHeader()}) -> charge ${chargeId} not found`, 404);
    }
    if (!Number.isInteger(amount) || amount <= 0 || amount > charge.amount) {
      throw new GatewayError(`refund of ${amount} exceeds capturable amount for ${chargeId} using key ${this.#apiKey}`, 400);
    }
    return { id: `re_${Date.now().toString(36)}`, charge: chargeId, amount, currency: charge.currency, reason, status: 'pending' };
  }
}
