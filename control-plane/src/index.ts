// The control plane's public API. The embedded launcher is deliberately not re-exported: importing
// it loads the data plane, which only `main.ts` (embedded mode) should do, via '@tollgate/control-plane/embedded'.
export { createControlPlane, type ControlPlane, type ControlPlaneOptions } from './server.ts';
export { listenHttp, type HttpListener } from './http.ts';
export { openDatabase, type Database, type DatabaseOptions, type Db } from './db/connect.ts';
export { migrate, MIGRATIONS_FOLDER } from './db/migrate.ts';
export { readConfig, ConfigError, type Config } from './config.ts';
export { controlSocketPath, listenControlSocket, createAdminViaSocket, socketAnswers } from './control-socket.ts';
export { createPlatformAdmin, type CreatedAdmin } from './services/admins.ts';
export { Publisher } from './services/publisher.ts';
export { UsageConsumer, type UsageConsumerOptions } from './services/usage-consumer.ts';
export { ConflictError, InUseError, NotFoundError, UnsupportedProtocolError, ValidationError } from './errors.ts';
