import { MAX_NANOCREDITS } from '../money.ts';
import { MAX_TOKEN_COUNT } from '../canonical/usage.ts';
import { assertCounterName } from './keys.ts';
import type { Reservation, Settlement } from './port.ts';

/**
 * What both adapters check before they write anything. A Redis script that fails half-way is not
 * rolled back (a counter increment refusing 1.5 after `held` was raised would leave `held` high
 * for good), so every amount is proven a non-negative integer in range first, and ids are proven
 * free of the characters hold records and key names use as separators.
 */
const ID = /^[A-Za-z0-9_.:-]{1,200}$/;

function count(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TOKEN_COUNT) throw new RangeError(`${what} must be an integer from 0 to ${MAX_TOKEN_COUNT}, got ${value}`);
}

function nanos(value: bigint, what: string): void {
  if (value < 0n || value > MAX_NANOCREDITS) throw new RangeError(`${what} must be from 0 to ${MAX_NANOCREDITS} nanocredits`);
}

function id(value: string, what: string): void {
  if (!ID.test(value)) throw new RangeError(`${what} "${value.slice(0, 40)}" has characters a state key cannot carry`);
}

export function assertReservation(r: Reservation): void {
  id(r.orgId, 'orgId');
  id(r.requestId, 'requestId');
  nanos(r.amount, 'amount');
  nanos(r.overdraft, 'overdraft');
  if (!Number.isSafeInteger(r.nowMs) || !Number.isSafeInteger(r.deadlineMs)) throw new RangeError('nowMs and deadlineMs must be integers');
  for (const check of r.checks) {
    assertCounterName(check.counter);
    count(check.add, `check ${check.counter}.add`);
    if (!Number.isSafeInteger(check.limit) || check.limit < 0) throw new RangeError(`check ${check.counter}.limit must be a non-negative safe integer`);
    if (check.ttlSeconds !== null && (!Number.isSafeInteger(check.ttlSeconds) || check.ttlSeconds < 1)) throw new RangeError(`check ${check.counter}.ttlSeconds must be a positive integer`);
  }
}

export function assertSettlement({ event, consumption }: Settlement): void {
  id(event.orgId, 'orgId');
  id(event.requestId, 'requestId');
  if (!/^\d{1,19}$/.test(event.cost)) throw new RangeError('cost must be a non-negative integer of nanocredits');
  nanos(BigInt(event.cost), 'cost');
  for (const c of consumption) {
    assertCounterName(c.counter);
    count(c.amount, `consumption ${c.counter}.amount`);
    if (c.ttlSeconds !== null && (!Number.isSafeInteger(c.ttlSeconds) || c.ttlSeconds < 1)) throw new RangeError(`consumption ${c.counter}.ttlSeconds must be a positive integer`);
  }
}
