export { createDataPlane, type DataPlane, type DataPlaneOptions } from './server.ts';
