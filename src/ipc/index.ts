/** Generic SysV IPC: object header, permissions, id/key registry, get/ctl helpers. */
export * from './perm.js';
export * from './ids.js';
export * from './util.js';
export { IndexBitmap } from './bitmap.js';
export { KeyTable } from './key-table.js';
