import { builder } from '../builder.ts';
import { ConfirmationRequiredError, ConflictError, ForbiddenError, InUseError, NotFoundError, UnsupportedProtocolError, ValidationError } from '../../errors.ts';

/** The interface every typed mutation error implements, so clients can select `... on Error`. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'The input was refused; nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    field: t.exposeString('field', { nullable: true, description: 'The input field at fault, when one is.' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'A referenced record does not exist; nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'The change conflicts with existing data (a taken name, a reused idempotency key); nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ConflictError,
});

builder.objectType(InUseError, {
  name: 'InUseError',
  description: 'The record is still used by others, so it was not deleted; nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InUseError,
  fields: (t) => ({
    usedBy: t.exposeStringList('usedBy', { description: 'The names of the records that use it.' }),
  }),
});

builder.objectType(UnsupportedProtocolError, {
  name: 'UnsupportedProtocolError',
  description: 'The provider\'s wire protocol has no adapter yet: nothing was called.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof UnsupportedProtocolError,
  fields: (t) => ({
    protocol: t.exposeString('protocol'),
  }),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  description: 'The caller may not do this (its role, or the org it is scoped to); nothing was changed.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ForbiddenError,
});

builder.objectType(ConfirmationRequiredError, {
  name: 'ConfirmationRequiredError',
  description: 'A risky change was not made: read the warnings, then repeat the call with confirm: true.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ConfirmationRequiredError,
  fields: (t) => ({ warnings: t.exposeStringList('warnings') }),
});
