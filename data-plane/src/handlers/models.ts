import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { GatewayError } from '@tollgate/shared';
import { authenticate } from '../auth/authenticate.ts';
import { Reply } from '../http/reply.ts';
import type { GatewayContext } from './context.ts';
import { newRequestId } from '../http/request-id.ts';

/** GET /v1/models: every model with a usable target, by public name and by `tier/name`. */
export function handleListModels(ctx: GatewayContext, res: HttpResponse, req: HttpRequest): void {
  const authorization = req.getHeader('authorization');
  const reply = new Reply(res);
  const headers = [['x-request-id', newRequestId()] as const];
  authenticate(authorization, ctx.keys, Date.now()).then(
    () => reply.sendJson(200, headers, ctx.routes.modelListBody),
    (error: unknown) => reply.sendError(error instanceof GatewayError ? error : new GatewayError('internal_error', 'Internal error.'), headers),
  );
}
