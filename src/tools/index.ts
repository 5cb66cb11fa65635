/**
 * The util-linux 2.38.1 System V IPC tools over the model: ipcs, ipcrm and
 * ipcmk (shared-memory parts), byte-for-byte as the real programs print.
 */
export { ipcs, IPCS_USAGE } from './ipcs.js';
export { ipcrm, IPCRM_USAGE } from './ipcrm.js';
export { ipcmk, IPCMK_USAGE, type IpcmkOptions } from './ipcmk.js';
export { runTool, execCredentials, type ToolResult, type ToolOptions, type ToolContext } from './process.js';
export { ctimeLocal, ctimeUtc, type CtimeFunction } from './libc.js';
export { systemNameService, nameServiceFrom, numericNameService, parseIdFile, type NameService } from './passwd.js';
export { parseSize, sizeToHumanString } from './strutils.js';
export { MSG_DEFAULTS, SEM_DEFAULTS } from './ipcutils.js';
export { ipcsCommand, ipcrmCommand, ipcmkCommand } from './cli.js';
