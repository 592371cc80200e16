import type { Db } from '../db/connect.ts';
import { auditLog } from '../db/schema/index.ts';

/** Input fields never written to the audit log: what they hold is a secret. */
const SECRET_FIELDS = /^(credential|password|currentPassword|newPassword|token|secret|apiKey|document)$/i;

/** The input of a mutation as the audit log keeps it: secrets replaced, long text cut. */
export function auditDetails(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > 500 ? `${value.slice(0, 500)}…` : value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object' || depth > 5) return value;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => auditDetails(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELDS.test(k) ? '[secret]' : auditDetails(v, depth + 1);
  return out;
}

export interface AuditRecord {
  actorUserId: string | null;
  actorEmail: string | null;
  actorKind: 'session' | 'token' | 'anonymous' | 'cli' | 'system';
  tokenId: string | null;
  orgId: string | null;
  action: string;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

export async function recordAudit(db: Db, record: AuditRecord): Promise<void> {
  await db.insert(auditLog).values({ ...record, userAgent: record.userAgent?.slice(0, 300) ?? null });
}
