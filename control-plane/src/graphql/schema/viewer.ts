import { builder } from '../builder.ts';

export const UserRef = builder.drizzleObject('users', {
  name: 'User',
  description: 'A person. Never exposes the password hash.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    isPlatformAdmin: t.exposeBoolean('isPlatformAdmin', { description: 'A platform operator: manages every org, the catalogue and the settings.' }),
    emailVerified: t.boolean({ resolve: (u) => u.emailVerifiedAt !== null }),
    hasPassword: t.boolean({ description: 'False for users who only use management tokens, or who were invited and have not accepted yet.', resolve: (u) => u.passwordHash !== null }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: UserRef,
    description: 'The signed-in user, or the user a management token belongs to.',
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.user!,
  }),
);
