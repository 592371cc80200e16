import { ValidationError } from '../../errors.ts';
import { getSettings, setByokFeeBps, type Settings } from '../../services/settings.ts';
import { builder } from '../builder.ts';

const PlatformSettingsRef = builder.objectRef<Settings>('PlatformSettings').implement({
  fields: (t) => ({
    byokFeeBps: t.exposeInt('byokFeeBps', {
      description: 'The BYOK fee in basis points of what the same usage costs at the provider\'s paid list price (500 = 5%).',
    }),
  }),
});

builder.queryField('settings', (t) =>
  t.field({
    type: PlatformSettingsRef,
    authScopes: { platformAdmin: true },
    resolve: (_root, _args, ctx) => getSettings(ctx.db),
  }),
);

const SetByokFeeInput = builder.inputType('SetByokFeeInput', {
  fields: (t) => ({ byokFeeBps: t.int({ required: true, description: '0 to 10000 basis points.' }) }),
});

builder.mutationField('setByokFee', (t) =>
  t.field({
    type: PlatformSettingsRef,
    authScopes: { platformAdmin: true },
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: SetByokFeeInput, required: true }) },
    resolve: (_root, { input }, ctx) => setByokFeeBps(ctx, input.byokFeeBps),
  }),
);
