import type { OrgRole } from '../db/schema/index.ts';

/**
 * What each org role may do. A caller's permissions in an org are those of its role there; a
 * management token's are the intersection of its own role's and its user's current role's, so a
 * token never outlives or outranks the membership it was made under. Platform operators may do
 * everything everywhere.
 */
export const PERMISSIONS = [
  'org:read', // the org, its plan, catalogue it can use
  'org:update', // name, default tier
  'org:delete',
  'members:read',
  'members:manage', // invite, remove, change roles (owners only for the owner role)
  'owners:manage',
  'keys:read',
  'keys:write',
  'byok:read',
  'byok:write',
  'billing:read', // balance, ledger, usage
  'tokens:create', // management tokens for this org
  'audit:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ: Permission[] = ['org:read', 'members:read', 'keys:read', 'byok:read'];

export const ROLE_PERMISSIONS: Record<OrgRole, ReadonlySet<Permission>> = {
  owner: new Set(PERMISSIONS),
  admin: new Set(PERMISSIONS.filter((p) => p !== 'org:delete' && p !== 'owners:manage')),
  developer: new Set([...READ, 'keys:write', 'byok:write', 'billing:read', 'tokens:create']),
  billing: new Set([...READ, 'billing:read', 'tokens:create']),
  viewer: new Set([...READ, 'tokens:create']),
};

export function roleAllows(role: OrgRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}
