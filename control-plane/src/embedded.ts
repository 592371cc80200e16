import { createDataPlane } from '@tollgate/data-plane';
import type { Logger, StateStore } from '@tollgate/shared';

/**
 * The one place the control plane touches the data plane: in embedded mode both run in this
 * process and share the in-process state store (DESIGN.md, "Embedded default").
 */
export async function startEmbeddedDataPlane(options: {
  store: StateStore;
  masterKey: Buffer | readonly Buffer[];
  host: string;
  port: number;
  /** The control plane's: a channel pointing there is a loop, like one pointing at the data plane. */
  listenerPorts?: number[];
  logger: Logger;
}): Promise<{ port: number; close(): Promise<void> }> {
  return createDataPlane({ store: options.store, masterKey: options.masterKey, host: options.host, port: options.port, listenerPorts: options.listenerPorts ?? [], logger: options.logger });
}
