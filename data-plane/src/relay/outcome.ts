import type { UsageStatus } from '@tollgate/shared';

/** How the relay of a dispatched answer ended, for metering. */
export interface RelayOutcome {
  status: UsageStatus;
  /** The HTTP status the client got. */
  httpStatus: number;
  /**
   * Whether the request is billed: the upstream produced an answer (even one the client left
   * before reading) or was working on it when the client left. A failure before any content costs
   * nothing.
   */
  billable: boolean;
  errorCode: string | null;
}
