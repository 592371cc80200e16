import type { IncomingMessage } from 'node:http';
import { bearerToken } from '@tollgate/shared';
import { Kind, parse, type DocumentNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Db } from '../db/connect.ts';
import { CSRF_HEADER, csrfTokenFor, principalFromSession, principalFromToken, SESSION_COOKIE, type Principal } from '../auth/principal.ts';
import type { RateLimits } from '../auth/rate-limit.ts';

/** What the yoga server receives from node:http (http.ts), for the client's address. */
export interface ServerContext {
  req?: IncomingMessage;
}

export interface RequestAuth {
  principal: Principal | null;
  ip: string | null;
}

/** Root fields anonymous callers may use: signing in and what an emailed link needs. */
export const PUBLIC_FIELDS = new Set(['signIn', 'requestPasswordReset', 'resetPassword', 'verifyEmail', 'acceptInvitation', '__typename']);

function unauthenticated(message: string): Error {
  return createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'www-authenticate': 'Bearer' } } } });
}

function refused(message: string, code: string, status: number, headers: Record<string, string> = {}): Error {
  return createGraphQLError(message, { extensions: { code, http: { status, headers } } });
}

function cookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name || key === `__Host-${name}`) return rest.join('=');
  }
  return null;
}

function onlyPublicFields(document: DocumentNode): boolean {
  return document.definitions.every(
    (d) => d.kind === Kind.OPERATION_DEFINITION && d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && PUBLIC_FIELDS.has(s.name.value)),
  );
}

/**
 * Authentication before any GraphQL parsing (issue 8): a bearer token or a session cookie is
 * checked first; credentials that do not authenticate are HTTP 401 with extensions.code
 * UNAUTHENTICATED; a cookie-authenticated request must carry the session's CSRF token in
 * x-tollgate-csrf; anonymous requests may only select public root fields, checked with a tiny
 * token budget so an anonymous flood costs almost nothing. Rate limits apply per client address
 * for bad credentials and per principal for use.
 */
export function authPlugin(options: { db: Db; rateLimits: RateLimits; maxAnonymousTokens: number; auth: WeakMap<Request, RequestAuth> }): Plugin<ServerContext> {
  return {
    async onParams({ request, params, context }) {
      const ip = (context as ServerContext).req?.socket.remoteAddress ?? null;
      const ipKey = ip ?? 'unknown';
      const limits = options.rateLimits;
      const authorization = request.headers.get('authorization');
      const sessionSecret = cookie(request.headers.get('cookie'), SESSION_COOKIE);
      let principal: Principal | null = null;
      if (authorization !== null || sessionSecret !== null) {
        if (authorization !== null) {
          const token = bearerToken(authorization);
          principal = token ? await principalFromToken(options.db, token) : null;
        } else {
          principal = await principalFromSession(options.db, sessionSecret!);
          if (principal && request.headers.get(CSRF_HEADER) !== csrfTokenFor(sessionSecret!)) {
            throw refused('a request authenticated by the session cookie needs its CSRF token in the x-tollgate-csrf header', 'CSRF_TOKEN_MISSING', 403);
          }
        }
        if (!principal) {
          if (!limits.badCredentialsPerIp.hit(ipKey)) {
            throw refused('too many requests with invalid credentials', 'RATE_LIMITED', 429, { 'retry-after': String(Math.ceil(limits.badCredentialsPerIp.retryAfterMs(ipKey) / 1000)) });
          }
          throw unauthenticated(authorization !== null ? 'the management token is invalid, expired or revoked' : 'the session has ended; sign in again');
        }
        const key = principal.kind === 'token' ? `t:${principal.tokenId}` : `s:${principal.sessionId}`;
        if (!limits.perPrincipal.hit(key)) {
          throw refused('too many requests for this token or session', 'RATE_LIMITED', 429, { 'retry-after': String(Math.ceil(limits.perPrincipal.retryAfterMs(key) / 1000)) });
        }
      } else {
        let document: DocumentNode;
        try {
          document = parse(params.query ?? '', { maxTokens: options.maxAnonymousTokens, noLocation: true });
        } catch {
          throw unauthenticated('authentication required: send Authorization: Bearer <management token>, or sign in');
        }
        if (!onlyPublicFields(document)) throw unauthenticated('authentication required: send Authorization: Bearer <management token>, or sign in');
      }
      options.auth.set(request, { principal, ip });
    },
  };
}
