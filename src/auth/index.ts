/** Credentials, capabilities and user namespaces. */
export * from './userns.js';
export * from './capability.js';
export * from './cred.js';
export * from './setid.js';
