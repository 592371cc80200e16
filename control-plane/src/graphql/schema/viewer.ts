import { builder } from '../builder.ts';

export const UserRef = builder.drizzleObject('users', {
  name: 'User',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    isPlatformAdmin: t.exposeBoolean('isPlatformAdmin'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: UserRef,
    description: 'The user the management token belongs to.',
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.user!,
  }),
);
