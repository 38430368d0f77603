// refund-service: issues a refund for a captured charge on behalf of a support agent.
import { PaymentsGateway } from './gateway.mjs';

const gateway = new PaymentsGateway(process.env.PAYMENTS_API_KEY, { merchantId: process.env.MERCHANT_ID });

class BadRequest extends Error {
  constructor(field) {
    super(`invalid field: ${field}`);
    this.name = 'BadRequest';
    this.field = field;
  }
}

function validate(req) {
  if (typeof req.chargeId !== 'string' || !/^ch_[A-Za-z0-9]{1,32}$/.test(req.chargeId)) throw new BadRequest('chargeId');
  if (req.amountCents !== undefined && !Number.isInteger(req.amountCents)) throw new BadRequest('amountCents');
  if (typeof req.agentId !== 'string' || req.agentId.length === 0) throw new BadRequest('agentId');
  return req;
}

const respond = (statusCode, body) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export const handler = async (event, context) => {
  const requestId = context.awsRequestId;
  try {
    const req = validate(typeof event.body === 'string' ? JSON.parse(event.body) : event);
    const refund = await gateway.refund(req.chargeId, req.amountCents ?? 0, req.reason || 'requested_by_customer');
    return respond(201, { refund, agentId: req.agentId, requestId });
  } catch (err) {
    if (err instanceof BadRequest) return respond(400, { error: 'bad_request', field: err.field, requestId });
    // Gateway messages can carry request details; never echo them.
    console.error(JSON.stringify({ level: 'error', requestId, error: err.name, status: err.status ?? null }));
    return respond(err.status && err.status < 500 ? 422 : 502, { error: 'refund_failed', requestId });
  }
};
