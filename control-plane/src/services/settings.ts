import { DEFAULT_BYOK_FEE_BPS, platformSettings } from '../db/schema/index.ts';
import type { Db } from '../db/connect.ts';
import type { ServiceContext } from './context.ts';
import { commitChange } from './unit-of-work.ts';
import { intInRange } from './validate.ts';

export interface Settings {
  byokFeeBps: number;
}

/** The platform settings, with defaults for anything no operator has set. */
export async function getSettings(db: Db): Promise<Settings> {
  const row = await db.query.platformSettings.findFirst();
  return { byokFeeBps: row?.byokFeeBps ?? DEFAULT_BYOK_FEE_BPS };
}

/** Sets the BYOK fee in basis points of the provider's list price (500 = 5%, at most 100%). */
export async function setByokFeeBps(ctx: ServiceContext, bps: number): Promise<Settings> {
  const byokFeeBps = intInRange(bps, 'byokFeeBps', 0, 10_000);
  await commitChange(ctx, async (tx, publish) => {
    await tx.insert(platformSettings).values({ id: true, byokFeeBps }).onConflictDoUpdate({ target: platformSettings.id, set: { byokFeeBps } });
    publish({ kind: 'routes' });
  });
  return getSettings(ctx.db);
}
