import { builder } from '../builder.ts';

/** A test call's outcome, for testChannel and testByokCredential. */
export const UpstreamTestResultRef = builder
  .objectRef<{ ok: boolean; status: number | null; latencyMs: number; error: string | null; upstreamModel: string }>('UpstreamTestResult')
  .implement({
    description: 'A minimal real call (one token) to the provider.',
    fields: (t) => ({
      ok: t.exposeBoolean('ok', { description: 'The provider answered with a chat completion.' }),
      status: t.exposeInt('status', { nullable: true, description: 'The HTTP status, when the provider answered.' }),
      latencyMs: t.exposeInt('latencyMs'),
      error: t.exposeString('error', { nullable: true, description: 'Why it failed, with anything secret masked; null when ok.' }),
      upstreamModel: t.exposeString('upstreamModel', { description: 'The model name sent to the provider.' }),
    }),
  });

/** What a delete mutation returns: the id of what is gone. */
export const DeletedRecordRef = builder.objectRef<{ id: string }>('DeletedRecord').implement({
  fields: (t) => ({ id: t.exposeID('id') }),
});
