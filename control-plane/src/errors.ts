/**
 * Expected failures of mutations. Each mutation lists the ones it can return in
 * `errors: { types }`, so clients get them as typed members of the result union; anything else is
 * masked by yoga as an internal error. Messages are ours and never contain a secret.
 */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** A record other records still use cannot be deleted; `usedBy` names them. */
export class InUseError extends Error {
  override name = 'InUseError';
  constructor(
    message: string,
    readonly usedBy: string[],
  ) {
    super(message);
  }
}

/** The provider's wire protocol has no adapter yet: it can be stored, not called. */
export class UnsupportedProtocolError extends Error {
  override name = 'UnsupportedProtocolError';
  constructor(readonly protocol: string) {
    super(`the ${protocol} protocol has no adapter yet, so nothing was called; channels and credentials for it are stored and validated, and will be used once it has one`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are UUIDs; anything else cannot name a row, and Postgres would reject it with a 500. */
export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/**
 * A risky change (a sell price below cost, a debit larger than the balance) was not made: the
 * caller must look at `warnings` and repeat the call with `confirm: true`.
 */
export class ConfirmationRequiredError extends Error {
  override name = 'ConfirmationRequiredError';
  constructor(readonly warnings: string[]) {
    super(`confirm to proceed: ${warnings.join('; ')}`);
  }
}

/** The caller may not do this (authorization). Authentication failures are HTTP 401 instead. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}
