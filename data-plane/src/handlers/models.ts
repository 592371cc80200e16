import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { GatewayError } from '@tollgate/shared';
import { authenticate } from '../auth/authenticate.ts';
import type { GatewayContext } from '../context.ts';
import { Reply } from '../http/reply.ts';
import { asGatewayError } from '../http/errors.ts';
import { newRequestId } from '../http/request-id.ts';
import { echo } from '../routing/resolve.ts';

const MODELS_PREFIX = '/v1/models/';

/**
 * `GET /v1/models`: each model once, with the tiers this key may use it on and Tollgate's prices;
 * `GET /v1/models/{id}`: one of them, by public name with or without a tier prefix.
 */
export function handleModels(ctx: GatewayContext, res: HttpResponse, req: HttpRequest): void {
  const authorization = req.getHeader('authorization');
  const path = req.getUrl();
  const id = path.startsWith(MODELS_PREFIX) ? safeDecode(path.slice(MODELS_PREFIX.length)) : null;
  const reply = new Reply(res);
  const headers = [['x-request-id', newRequestId()] as const];
  authenticate(authorization, ctx.keys, Date.now()).then(
    (key) => {
      const list = ctx.routes.modelList;
      if (id === null) return reply.sendJson(200, headers, list.body(key));
      const model = list.find(id, key);
      if (!model) return reply.sendError(new GatewayError('model_not_found', `The model "${echo(id)}" does not exist.`, 'model'), headers);
      reply.sendJson(200, headers, JSON.stringify(model));
    },
    (error: unknown) => reply.sendError(asGatewayError(error), headers),
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
